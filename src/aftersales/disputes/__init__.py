"""Disputes (平台介入): the platform rules between buyer and merchant, and enforces the ruling."""
