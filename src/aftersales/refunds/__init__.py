"""Refunds to the original payment through a payment-gateway port, exactly once."""
