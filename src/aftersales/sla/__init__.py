"""SLA: business calendars, the policy matrix, clocks per ticket and metric, and the indexed sweep."""
