"""Usage for billing (sums, the records feed, CSV) and the daily metrics dashboards read."""
