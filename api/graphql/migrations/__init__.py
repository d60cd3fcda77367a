"""Live-journey migration: the dry run and the move."""
