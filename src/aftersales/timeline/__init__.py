"""Timeline: the append-only record of every state change (who, when, from, to, why, evidence)."""
