"""Shared building blocks with no domain and no database: clock, ids, money, access, errors."""
