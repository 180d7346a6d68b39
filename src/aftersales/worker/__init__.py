"""The worker process, a composition root: it imports every context's tasks and consumes the queue
(aftersales.messaging.queue), and wires every process (outbox handlers, ports, the kick after commit)."""
