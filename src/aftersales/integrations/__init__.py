"""Integrations: orders, refunds and tracking in the formats platforms and carriers send."""
