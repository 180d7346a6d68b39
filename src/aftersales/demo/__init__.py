"""A believable demo shop, seeded through the services so it obeys every rule."""
