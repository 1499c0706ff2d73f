"""Reviewers that need no model: they run on every review, with or without a provider key."""
