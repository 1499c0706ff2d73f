"""All Sentinel tables. Importing this package registers every model on `Base.metadata`."""

from app.models.api_token import ApiToken
from app.models.audit import AuditEvent
from app.models.base import Base
from app.models.billing import Plan, Subscription, UsageRecord
from app.models.console_session import ConsoleSession
from app.models.identity import Invitation, Team, TeamMember, User, Workspace
from app.models.integration import (
    Connection,
    Installation,
    Provider,
    Repository,
    RepositorySettings,
)
from app.models.metrics import WorkspaceDailyMetric
from app.models.policy import Policy
from app.models.provider_key import ProviderKey
from app.models.pull_request import PullRequest
from app.models.review import (
    Annotation,
    Finding,
    ModelResponseRecord,
    Run,
    RunKind,
    RunStatus,
)
from app.models.webhook_delivery import WebhookDelivery

__all__ = [
    "Annotation",
    "ApiToken",
    "AuditEvent",
    "Base",
    "Connection",
    "ConsoleSession",
    "Finding",
    "Installation",
    "Invitation",
    "ModelResponseRecord",
    "Plan",
    "Policy",
    "Provider",
    "ProviderKey",
    "PullRequest",
    "Repository",
    "RepositorySettings",
    "Run",
    "RunKind",
    "RunStatus",
    "Subscription",
    "Team",
    "TeamMember",
    "UsageRecord",
    "User",
    "WebhookDelivery",
    "Workspace",
    "WorkspaceDailyMetric",
]
