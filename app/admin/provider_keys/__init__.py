"""BYOK provider keys: save (validated, optionally verified), list masked, delete."""
