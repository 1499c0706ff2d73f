"""Repositories: list, enable and disable, and each repository's settings document."""
