"""Proactive service: incidents found before the customer asks, told with their answer."""
