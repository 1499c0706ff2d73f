"""The workspace itself: plan, subscription, usage this period against the plan's limits."""
