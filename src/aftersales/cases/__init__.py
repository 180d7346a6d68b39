"""After-sales cases (售后单) and the self-service order actions."""
