"""The email channel of the ticket desk: `parse` reads a raw mail, `inbound` turns it into a ticket or
a message, `replies` sends agents' public replies back threaded, `gateway` is the SMTP listener."""
