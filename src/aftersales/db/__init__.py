"""Database plumbing: declarative base, engine and sessions, the unit of work."""
