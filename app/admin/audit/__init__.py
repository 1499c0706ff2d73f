"""The audit trail, readable by owners and admins."""
