"""Satisfaction surveys after a ticket or case closes: result, speed, attitude."""
