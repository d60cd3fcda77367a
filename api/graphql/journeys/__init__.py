"""Journeys: design, validate, publish; templates and the channel catalog."""
