"""Identity: users, roles, password login, API tokens."""
