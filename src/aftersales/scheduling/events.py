"""Events of the scheduling context: none yet (the roster and the forecast are read, not announced)."""
