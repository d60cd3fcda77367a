"""Bulk operations over a journey's enrollments (tracked, with progress) and test events."""
