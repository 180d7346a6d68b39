"""Events and the durable outbox (side effects leave in the same transaction as their cause), and the
task queue port contexts declare their background work on."""
