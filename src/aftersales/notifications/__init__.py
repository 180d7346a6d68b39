"""Notifications to customers: in-app inbox and email over SMTP, leaving through the outbox."""
