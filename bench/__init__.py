"""Benchmarks: each compares omnijourney with a baseline in the same run and prints ratios."""
