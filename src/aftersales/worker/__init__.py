"""Background work on Huey: outbox delivery now; SLA sweeps and scans as contexts arrive."""
