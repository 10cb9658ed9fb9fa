"""Closing the loop: routing rules, cases, their history, SLA and escalation."""
