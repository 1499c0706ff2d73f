"""Local stand-ins for the outside world (GitHub), for tests and the demo. The product never imports this package."""
