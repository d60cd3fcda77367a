"""Customers: profiles, identities, timelines and their enrollments."""
