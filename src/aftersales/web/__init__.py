"""Shared page plumbing: templates, static files, sessions, CSRF, language, auth dependencies."""
