"""Every model, imported in one place (for Alembic and for `cairn init`)."""

from cairn.audit import AuditEvent
from cairn.auth.models import ApiToken, Group, User
from cairn.curation.candidate_models import Candidate
from cairn.curation.models import Promotion
from cairn.kb.models import Article, ArticleFlag, ArticleRevision, ArticleSource, Space
from cairn.outbox import OutboxEvent
from cairn.search.models import SearchLog
from cairn.stream.models import (
    Bookmark,
    Channel,
    ChannelRead,
    Mention,
    Notification,
    Post,
    PostFlag,
    PostRevision,
    Reaction,
    ThreadAnswer,
)

__all__ = ["ApiToken", "Article", "ArticleFlag", "ArticleRevision", "ArticleSource", "AuditEvent", "Bookmark", "Candidate", "Channel",
           "ChannelRead", "Group", "Mention", "Notification", "OutboxEvent", "Post", "PostFlag", "PostRevision",
           "Promotion", "Reaction", "SearchLog", "Space", "ThreadAnswer", "User"]
