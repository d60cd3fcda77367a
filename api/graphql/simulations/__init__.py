"""Journey simulation: `simulateJourney` and `simulation(id)`."""
