"""Local stand-ins for the outside world (GitHub), for tests and the demo.

The product (app/, reviewers/) never imports this package.
"""
