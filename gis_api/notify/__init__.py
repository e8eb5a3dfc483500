"""Notifications of residents' reports: an outbox written with each state change, a delivery worker."""
