"""Orders and logistics: merchants, customers, catalogue, orders, payments, shipments, events."""
