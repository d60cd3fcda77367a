"""The tenant's messaging policy: frequency caps across journeys and channels, quiet hours."""
