"""Scheduling: staffing from the forecast (Erlang C/A, chat, workload), the forecast of contacts from orders, the roster."""
