"""Review runs: newest first with filters and keyset pagination; detail with findings."""
