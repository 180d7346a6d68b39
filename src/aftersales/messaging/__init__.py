"""Events and the durable outbox: side effects leave in the same transaction as their cause."""
