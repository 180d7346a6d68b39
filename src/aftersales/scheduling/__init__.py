"""Scheduling: staffing from the forecast (Erlang C/A, chat, workload), contacts forecast from orders, the roster."""
