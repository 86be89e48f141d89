"""The audit trail: an append-only, hash-chained record of state changes, admin actions and staff
access to personal data."""
