"""Who has access: API tokens, the team's members and their roles, invitations."""
