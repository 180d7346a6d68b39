"""Aftersales: an after-sales service platform for e-commerce."""

__version__ = "0.1.0"
