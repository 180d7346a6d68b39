"""Alembic migrations, shipped inside the package so `aftersales migrate` works when installed."""
