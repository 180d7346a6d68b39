"""Routing: skill groups, agents' capacity and status, assignment, transfers and the supervisor view."""
