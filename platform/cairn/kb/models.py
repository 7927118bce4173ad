"""Spaces, articles, their numbered revisions and the posts they came from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cairn.auth.models import Group, User
from cairn.extensions import Base
from cairn.models_base import UTCDateTime, utcnow

STATUSES = ("draft", "in_review", "published", "archived")
FLAG_KINDS = ("outdated", "wrong", "unclear", "duplicate")

space_groups = Table(
    "space_groups",
    Base.metadata,
    Column("space_id", ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)

article_groups = Table(
    "article_groups",
    Base.metadata,
    Column("article_id", ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)


class Space(Base):
    """A collection of articles; when it has groups, only their members may read it."""

    __tablename__ = "spaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # overrides the policy's verification.interval_days for this space's articles
    verify_interval_days: Mapped[int | None] = mapped_column(Integer)

    owner: Mapped[User | None] = relationship(lazy="joined")
    groups: Mapped[list[Group]] = relationship(secondary=space_groups, lazy="selectin")

    @property
    def group_ids(self) -> set[int]:
        return {g.id for g in self.groups}


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("space_id", "slug"),
                      UniqueConstraint("space_id", "import_key", name="uq_articles_import_key"))

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(String(500), default="")  # space-separated
    status: Mapped[str] = mapped_column(String(16), default="draft")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verify_interval_days: Mapped[int | None] = mapped_column(Integer)
    # set by the verification sweep when the article expired and its owner was notified; cleared
    # by verifying: one notification per expiry
    needs_verification_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # an imported article: the file's path relative to the imported folder, and the hash of its
    # converted content (a re-import adds a revision only when the file changed)
    import_key: Mapped[str | None] = mapped_column(String(500))
    import_hash: Mapped[str | None] = mapped_column(String(64))

    space: Mapped[Space] = relationship(lazy="joined")
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")
    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="joined")
    groups: Mapped[list[Group]] = relationship(secondary=article_groups, lazy="selectin")
    sources: Mapped[list[ArticleSource]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="ArticleSource.id"
    )

    @property
    def group_ids(self) -> set[int]:
        return {g.id for g in self.groups}

    @property
    def tag_list(self) -> list[str]:
        return self.tags.split() if self.tags else []


class ArticleRevision(Base):
    """An immutable snapshot: revision n of an article, with who wrote it and why."""

    __tablename__ = "article_revisions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(String(500), default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship(lazy="joined")


class ArticleSource(Base):
    """A post an article was promoted from: the two-way link between stream and KB."""

    __tablename__ = "article_sources"
    __table_args__ = (UniqueConstraint("article_id", "post_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    promotion_id: Mapped[int | None] = mapped_column(ForeignKey("promotions.id", ondelete="SET NULL"))


class ArticleFlag(Base):
    """A reader's report that an article is outdated or wrong (KCS "flag it"), until resolved."""

    __tablename__ = "article_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(String(1000), default="")
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    resolver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolution: Mapped[str] = mapped_column(String(1000), default="")

    article: Mapped[Article] = relationship(lazy="joined")
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id], lazy="joined")
    resolver: Mapped[User | None] = relationship(foreign_keys=[resolver_id], lazy="joined")
