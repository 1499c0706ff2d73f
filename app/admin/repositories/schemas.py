"""Wire shapes of repositories and their settings."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field, StrictBool

from app.admin.schemas import RejectsNul, StrictBody
from app.policy.documents import RepositorySettingsDocument


class RepositoryOut(BaseModel):
    id: uuid.UUID
    name: str = Field(description="owner/repo")
    external_id: int = Field(description="GitHub's repository id")
    is_enabled: bool = Field(description="Whether Sentinel reviews its pull requests")
    is_private: bool | None
    default_branch: str | None
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime


class RepositoryList(BaseModel):
    repositories: list[RepositoryOut]


class RepositoryPatch(StrictBody):
    is_enabled: StrictBool


class RepositorySettingsBody(RejectsNul, RepositorySettingsDocument):
    """The settings document as a PUT body: `RepositorySettingsDocument`, NUL-free."""
