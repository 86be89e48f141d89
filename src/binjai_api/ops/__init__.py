"""The Binjai Command Center (BCC): operations overview, overdue items, the wall map, and the
escalation of missed deadlines."""
