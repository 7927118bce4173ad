"""THE permission layer: every read and write path asks here, and nowhere else.

Three kinds of answer:
- ``can_*(user, obj)`` for one object (also used by templates to show or hide buttons);
- ``access_*(user, id)`` fetch-and-authorise: missing and forbidden both raise ``NotFound``;
- ``*_clause(user)`` SQL filters for lists, and ``search_tokens``/``*_acl`` for the index,
  which encode the same rules as the ``can_*`` functions.

The layer is one package, split by area: ``stream`` (channels, posts), ``kb`` (spaces, articles
and their lifecycle), ``flags`` (reader flags), ``notifications``, ``curation`` (promotions,
candidates) and ``admin``; ``_common`` holds the per-request memo of the clauses and the
fetch-and-authorise of the ``access_*`` answers. Callers import
the package (``from cairn.auth import permissions as perm``) and ask ``perm.*``, never a module.
"""

from __future__ import annotations

from cairn.auth.permissions._common import no_rows, reader_clause
from cairn.auth.permissions.admin import (
    can_see_content_gaps,
    can_view_audit,
    require_admin,
    require_curator,
)
from cairn.auth.permissions.curation import (
    can_see_candidate,
    can_see_promotion,
    visible_candidates_clause,
)
from cairn.auth.permissions.flags import (
    access_flag,
    can_flag_article,
    can_resolve_flag,
    can_see_flag,
    resolvable_flags_clause,
    visible_flags_clause,
)
from cairn.auth.permissions.kb import (
    READABLE_STATUSES,
    TRANSITIONS,
    access_article,
    access_space,
    allowed_targets,
    can_create_article,
    can_edit_article,
    can_manage_space,
    can_manage_spaces,
    can_read_article,
    can_read_space,
    can_restore_revision,
    can_verify_article,
    check_transition,
    effective_groups,
    private_source_channels,
    transition_options,
    visible_articles_clause,
    visible_spaces_clause,
)
from cairn.auth.permissions.notifications import visible_notifications_clause
from cairn.auth.permissions.stream import (
    access_channel,
    access_post,
    can_delete_post,
    can_edit_post,
    can_flag_post,
    can_manage_channel,
    can_manage_members,
    can_mark_answer,
    can_moderate,
    can_post_in,
    can_promote,
    can_read_channel,
    can_read_post,
    can_see_hidden,
    can_see_moderation_queue,
    channel_readers_clause,
    is_member,
    member_channels_clause,
    shown_posts_clause,
    visible_channels_clause,
    visible_posts_clause,
)

__all__ = [  # the search side (search_tokens, post_acl, article_acl) is __getattr__'s
    "READABLE_STATUSES", "TRANSITIONS", "access_article", "access_channel", "access_flag",
    "access_post", "access_space", "allowed_targets", "can_create_article", "can_delete_post",
    "can_edit_article", "can_edit_post", "can_flag_article", "can_flag_post", "can_manage_channel",
    "can_manage_members", "can_manage_space", "can_manage_spaces", "can_mark_answer",
    "can_moderate", "can_post_in", "can_promote", "can_read_article", "can_read_channel",
    "can_read_post", "can_read_space", "can_resolve_flag", "can_restore_revision",
    "can_see_candidate", "can_see_content_gaps", "can_see_flag", "can_see_hidden",
    "can_see_moderation_queue", "can_see_promotion", "can_verify_article", "can_view_audit",
    "channel_readers_clause", "check_transition", "effective_groups", "is_member",
    "member_channels_clause", "no_rows", "private_source_channels", "reader_clause",
    "require_admin", "require_curator", "resolvable_flags_clause", "shown_posts_clause",
    "transition_options", "visible_articles_clause", "visible_candidates_clause",
    "visible_channels_clause", "visible_flags_clause", "visible_notifications_clause",
    "visible_posts_clause", "visible_spaces_clause",
]


def __getattr__(name: str):
    """The index side of the same rules lives in cairn.auth.acl_tokens; callers ask ``perm.*``."""
    if name in ("search_tokens", "post_acl", "article_acl"):
        from cairn.auth import acl_tokens

        return getattr(acl_tokens, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
