"""Tickets (工单): every channel, classification, priority, SLA clocks, routing and the agent desk."""
