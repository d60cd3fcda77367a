"""Enrollments: inspect a customer's walk through a journey, and operate it."""
