"""Named, versioned policies: a POST with an existing name creates its next version."""
