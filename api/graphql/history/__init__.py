"""An enrollment's Temporal workflow history: its readable steps and raw events."""
