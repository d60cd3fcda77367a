"""Plain HTTP endpoints (event ingestion, health)."""
