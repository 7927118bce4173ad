"""Every model, imported in one place (for Alembic and for `cairn init`)."""

from cairn.audit import AuditEvent
from cairn.auth.models import ApiToken, Group, User
from cairn.curation.models import Promotion
from cairn.kb.models import Article, ArticleFlag, ArticleRevision, ArticleSource, Space
from cairn.outbox import OutboxEvent
from cairn.search.models import SearchLog
from cairn.stream.models import Channel, Mention, Notification, Post, PostRevision, Reaction

__all__ = ["ApiToken", "Article", "ArticleFlag", "ArticleRevision", "ArticleSource", "AuditEvent", "Channel", "Group",
           "Mention", "Notification", "OutboxEvent", "Post", "PostRevision", "Promotion", "Reaction",
           "SearchLog", "Space", "User"]
