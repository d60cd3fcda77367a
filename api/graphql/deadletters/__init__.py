"""Dead letters: events parked after too many failed routing attempts; list, inspect, retry."""
