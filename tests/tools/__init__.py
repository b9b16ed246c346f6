"""Tools the tests and benchmarks use that are not tests themselves (the delaying proxy)."""
