"""The REST API under /v1 for workspace admins and billing systems.

Layout per domain: `endpoints.py` (HTTP), `service.py` (rules, audit; flushes, never commits),
`repository.py` (queries, all through `app.repository.WorkspaceRepository`), `schemas.py`
(wire shapes). `deps.py` authenticates, finds the workspace and opens the request's one
tenant transaction; `router.py` puts the domains together.
"""
