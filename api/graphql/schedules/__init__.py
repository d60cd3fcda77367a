"""Scheduled and recurring segment entry (Temporal Schedules)."""
