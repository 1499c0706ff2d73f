"""Wire shapes of policies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.admin.schemas import RejectsNul, StrictBody
from app.policy.documents import PolicyDocument

POLICY_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
PolicyName = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=POLICY_NAME_PATTERN)
]


class PolicyConfig(RejectsNul, PolicyDocument):
    """A policy document as a POST body: `PolicyDocument`, NUL-free."""


class PolicyCreate(StrictBody):
    name: PolicyName = Field(description="`default` applies to every repository")
    config: PolicyConfig


class PolicyOut(BaseModel):
    id: uuid.UUID
    name: str
    version: int = Field(description="1 for a new name, then one more per POST")
    config: PolicyDocument
    created_at: datetime


class PolicyList(BaseModel):
    policies: list[PolicyOut]
