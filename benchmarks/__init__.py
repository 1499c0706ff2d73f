"""Benchmarks that print figures (`make bench`). Never pass/fail, never part of the tests."""
