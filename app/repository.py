"""Wall one of tenant isolation: every tenant query is scoped here, in one place.

Domain repositories subclass `WorkspaceRepository` and build their statements with
`self.select()`, `self.update()` and `self.delete()`, which already carry the workspace
filter. Row-level security (wall two) stands behind this and catches whatever slips past.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Delete, Select, Update, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.models import Base, Workspace

ModelT = TypeVar("ModelT", bound=Base)
StatementT = TypeVar("StatementT", Select[Any], Update, Delete)


class TenantScopeError(RuntimeError):
    """A repository was used with a session of another workspace, or a row of another one."""


def workspace_column(model: type[Base]) -> InstrumentedAttribute[uuid.UUID]:
    """The column that names a row's workspace (`workspaces.id` for the tenant table itself)."""
    column = Workspace.id if model is Workspace else getattr(model, "workspace_id", None)
    if column is None:
        raise TypeError(f"{model.__name__} is not a tenant table (no workspace_id)")
    return column


def scope_to_workspace(
    statement: StatementT, model: type[Base], workspace_id: uuid.UUID
) -> StatementT:
    """The one workspace-scoping helper: add `model.workspace_id = :workspace_id`."""
    return statement.where(workspace_column(model) == workspace_id)


class WorkspaceRepository(Generic[ModelT]):
    model: ClassVar[type[Base]]

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        scoped_to = session.info.get("workspace_id")
        if scoped_to is not None and scoped_to != workspace_id:
            raise TenantScopeError("session belongs to another workspace")
        self.session = session
        self.workspace_id = workspace_id

    def select(self, *columns: Any) -> Select[Any]:
        statement = select(*columns) if columns else select(self.model)
        return scope_to_workspace(statement, self.model, self.workspace_id)

    def update(self) -> Update:
        return scope_to_workspace(update(self.model), self.model, self.workspace_id)

    def delete(self) -> Delete:
        return scope_to_workspace(delete(self.model), self.model, self.workspace_id)

    async def get(self, row_id: Any) -> ModelT | None:
        primary_key = self.model.__mapper__.primary_key[0]
        result = await self.session.execute(self.select().where(primary_key == row_id))
        return result.scalar_one_or_none()

    def add(self, row: ModelT) -> ModelT:
        row_workspace = row.id if isinstance(row, Workspace) else getattr(row, "workspace_id", None)
        if row_workspace is None:
            setattr(row, "workspace_id", self.workspace_id)  # noqa: B010 - generic over models
        elif row_workspace != self.workspace_id:
            raise TenantScopeError(f"{type(row).__name__} belongs to another workspace")
        self.session.add(row)
        return row
