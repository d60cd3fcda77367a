"""Metrics: the private-domain levers per hook, channel and journey over a time range."""
