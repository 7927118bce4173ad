"""Stream pages: channels, timeline, threads, reactions, saved posts, moderation (notifications:
notification_views)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from cairn import live
from cairn.api import load
from cairn.api.schemas import ListArgs
from cairn.auth import permissions as perm
from cairn.auth.current import signed_in
from cairn.curation.actions import promoted_articles
from cairn.extensions import limiter
from cairn.forms import load_form
from cairn.kb.actions import list_spaces
from cairn.pagecache import cached_page
from cairn.stream import actions, cards, members, membership, moderation, signals, unread
from cairn.stream.rendering import decorate
from cairn.stream.schemas import (
    ChannelCreate,
    ChannelUpdate,
    FlagCreate,
    HideRequest,
    ModerationArgs,
    PostCreate,
    PostUpdate,
)
from cairn.text import render_markdown

bp = Blueprint("stream", __name__)


def _post_limit() -> str:
    return current_app.config["CAIRN"]["rate_limit_posts"]


@bp.app_template_filter("post_html")
def post_html(html: str):
    """A post's stored (sanitised) HTML, with #tags linked and @mentions marked."""
    return decorate(html)


@bp.app_template_filter("post_markdown")
def post_markdown(body: str):
    """Markdown source (an earlier revision) shown as a post would show it."""
    return decorate(render_markdown(body))


bp.add_app_template_global(cards.post_card, "cached_post_card")


@bp.app_context_processor
def _stream_sidebar() -> dict:
    if not current_user.is_authenticated:
        return {}
    me = signed_in()
    return {"sidebar_unread": unread.unread_counts(me), "moderation_open": moderation.open_flag_count(me)}


def _back_to(post) -> str:
    """Where a post's form returns: to the page it was sent from when the form names it in
    ``_next`` (the saved posts; the thread page, for its root), else to the page the post lives
    on: its thread for a reply, its channel for a root."""
    back = request.form.get("_next")
    if back == "saved":
        return url_for("stream.saved")
    if post.parent_id or back == "thread":
        return _in_thread(post)
    return url_for("stream.channel", channel_id=post.channel_id, _anchor=f"post-{post.id}")


def _in_thread(post) -> str:
    """A post on its thread's page: its own for a root, its parent's for a reply."""
    return url_for("stream.post", post_id=post.parent_id or post.id, _anchor=f"post-{post.id}")


def _page_context(me, posts) -> dict:
    return {"promoted": promoted_articles(me, [p.id for p in posts]), "signals": signals.signals_for(me, posts),
            "spaces": list_spaces(me) if me.is_curator else []}


# --- channels ---------------------------------------------------------------------------------

@bp.get("/")
@login_required
def home():
    channels = actions.list_channels(signed_in())
    if channels:
        return redirect(url_for("stream.channel", channel_id=channels[0].id))
    return redirect(url_for("stream.channels"))


@bp.get("/channels")
@login_required
def channels():
    channels = actions.list_channels(signed_in())
    ids = [c.id for c in channels]
    return render_template("stream/channels.html", channels=channels, member_counts=membership.member_counts(ids),
                           mine=membership.channels_of(signed_in().id, ids))


@bp.post("/channels")
@login_required
def create_channel():
    data = load_form(ChannelCreate(), private=request.form.get("private") == "on")
    channel = actions.create_channel(signed_in(), data["name"], data["topic"], data["private"], data["members"])
    return redirect(url_for("stream.channel", channel_id=channel.id))


@bp.get("/channels/<int:channel_id>")
@cached_page
@login_required
def channel(channel_id: int):
    me = signed_in()
    args = load(ListArgs(), request.args.to_dict())
    chan = perm.access_channel(me, channel_id)
    last_read = unread.read_position(me, chan.id)
    posts, nxt = actions.timeline(me, channel_id, args["cursor"], args["limit"])
    posts = list(reversed(posts))
    first_unread = next((p.id for p in posts if last_read is not None and p.id > last_read
                         and p.author_id != me.id), None)
    if not args["cursor"] and last_read is not None and posts and posts[-1].id > last_read:
        # reading the channel's newest page marks it read; an unchanged marker costs no write (and
        # no commit, which would expire and reload everything loaded so far)
        unread.mark_read(me, chan.id)
    return render_template("stream/channel.html", channel=chan, posts=posts, next_cursor=nxt,
                           first_unread=first_unread, member_count=membership.member_count(chan.id),
                           first_members=members.first_members(chan) if chan.private else [],
                           **_page_context(me, posts))


@bp.get("/channels/<int:channel_id>/members")
@login_required
def channel_members(channel_id: int):
    """The channel's members by name, a page at a time (the channel page names the first few)."""
    args = load(ListArgs(), request.args.to_dict())
    chan, found, nxt = members.members_page(signed_in(), channel_id, args["cursor"], args["limit"])
    return render_template("stream/members.html", channel=chan, members=found, next_cursor=nxt,
                           member_count=membership.member_count(chan.id))


@bp.post("/channels/<int:channel_id>/topic")
@login_required
def update_topic(channel_id: int):
    data = load_form(ChannelUpdate())
    actions.update_channel(signed_in(), channel_id, topic=data.get("topic", ""))
    return redirect(url_for("stream.channel", channel_id=channel_id))


@bp.post("/channels/<int:channel_id>/join")
@login_required
def join(channel_id: int):
    actions.join_channel(signed_in(), channel_id)
    return redirect(url_for("stream.channel", channel_id=channel_id))


@bp.post("/channels/<int:channel_id>/leave")
@login_required
def leave(channel_id: int):
    actions.leave_channel(signed_in(), channel_id)
    return redirect(url_for("stream.channels"))


@bp.post("/channels/<int:channel_id>/members")
@login_required
def add_member(channel_id: int):
    user = members.find_user(request.form.get("user", ""))
    members.add_member(signed_in(), channel_id, user.id)
    flash(f"{user.display_name} can now read this channel.", "success")
    return redirect(url_for("stream.channel", channel_id=channel_id))


@bp.post("/channels/<int:channel_id>/members/<int:user_id>/remove")
@login_required
def remove_member(channel_id: int, user_id: int):
    members.remove_member(signed_in(), channel_id, user_id)
    if user_id == signed_in().id:
        return redirect(url_for("stream.channels"))
    return redirect(url_for("stream.channel", channel_id=channel_id))


@bp.post("/channels/<int:channel_id>/read")
@login_required
def mark_read(channel_id: int):
    unread.mark_read(signed_in(), channel_id)
    return redirect(url_for("stream.channel", channel_id=channel_id))


# --- posts and threads ------------------------------------------------------------------------

@bp.post("/channels/<int:channel_id>/posts")
@login_required
@limiter.limit(_post_limit)
def create_post(channel_id: int):
    data = load_form(PostCreate())
    post = actions.create_post(signed_in(), channel_id, data["body"], data["parent_id"])
    return redirect(_back_to(post))


@bp.get("/posts/<int:post_id>")
@login_required
def post(post_id: int):
    me = signed_in()
    args = load(ListArgs(), request.args.to_dict())
    root, replies, nxt = actions.thread_page(me, post_id, args["cursor"], args["limit"])
    if not args["cursor"]:
        signals.record_thread_view(me, root)
    context = _page_context(me, [root, *replies])
    answer_id = context["signals"].answer_of(root)
    answer = next((r for r in replies if r.id == answer_id), None)
    if answer_id and answer is None:  # the accepted answer is on another page of the thread
        answer = perm.access_post(me, answer_id)
    return render_template("stream/thread.html", root=root, replies=replies, channel=root.channel,
                           next_cursor=nxt, answer=answer, **context)


@bp.get("/posts/<int:post_id>/fragment")
@login_required
def post_fragment(post_id: int):
    """One post's card exactly as the timeline (or, with ?in_thread=1, the thread) shows it:
    live updates insert or replace it."""
    me = signed_in()
    post = perm.access_post(me, post_id)
    in_thread = request.args.get("in_thread") == "1"
    root = perm.access_post(me, post.parent_id) if in_thread and post.parent_id else None
    return render_template("stream/_post_fragment.html", post=post, in_thread=in_thread, root=root,
                           **_page_context(me, [post, *([root] if root else [])]))


@bp.get("/channels/<int:channel_id>/events")
@login_required
def channel_events(channel_id: int):
    """Server-Sent Events: the ids of posts created, edited, deleted or reacted to in the channel."""
    me = signed_in()
    perm.access_channel(me, channel_id)
    return live.event_stream(me, channel_id, live.last_event_id(request))


@bp.get("/posts/<int:post_id>/edit")
@login_required
def edit_post_form(post_id: int):
    post = perm.access_post(signed_in(), post_id)
    return render_template("stream/edit_post.html", post=post,
                           revisions=actions.post_revisions(signed_in(), post_id))


@bp.post("/posts/<int:post_id>/edit")
@login_required
def edit_post(post_id: int):
    return redirect(_in_thread(actions.edit_post(signed_in(), post_id, load_form(PostUpdate())["body"])))


@bp.get("/posts/<int:post_id>/revisions")
@login_required
def revisions(post_id: int):
    me = signed_in()
    args = load(ListArgs(), request.args.to_dict())
    post = perm.access_post(me, post_id)
    revs, nxt = actions.revisions_page(me, post_id, args["cursor"], args["limit"])
    return render_template("stream/revisions.html", post=post, revisions=revs, next_cursor=nxt)


@bp.post("/posts/<int:post_id>/delete")
@login_required
def delete_post(post_id: int):
    post = perm.access_post(signed_in(), post_id)
    channel_id, parent_id = post.channel_id, post.parent_id
    actions.delete_post(signed_in(), post_id)
    if parent_id:
        return redirect(url_for("stream.post", post_id=parent_id))
    return redirect(url_for("stream.channel", channel_id=channel_id))


@bp.post("/posts/<int:post_id>/react")
@login_required
@limiter.limit(_post_limit)
def react(post_id: int):
    # the picker is one form: a quick-reaction button sends its emoji before the (empty) free field
    emoji = next((e for e in request.form.getlist("emoji") if e.strip()), "")
    post = actions.toggle_reaction(signed_in(), post_id, emoji)
    return redirect(_back_to(post))


# --- knowledge signals ------------------------------------------------------------------------

@bp.post("/posts/<int:post_id>/answer")
@login_required
def mark_answer(post_id: int):
    if request.form.get("undo"):
        signals.unmark_answer(signed_in(), post_id)
    else:
        signals.mark_answer(signed_in(), post_id)
    return redirect(_back_to(perm.access_post(signed_in(), post_id)))


@bp.post("/posts/<int:post_id>/save")
@login_required
def save(post_id: int):
    if request.form.get("undo"):
        signals.remove_bookmark(signed_in(), post_id)
    else:
        signals.add_bookmark(signed_in(), post_id)
    return redirect(_back_to(perm.access_post(signed_in(), post_id)))


@bp.get("/saved")
@login_required
def saved():
    me = signed_in()
    args = load(ListArgs(), request.args.to_dict())
    items, nxt = signals.bookmarks(me, args["cursor"], args["limit"])
    return render_template("stream/saved.html", bookmarks=items, next_cursor=nxt,
                           **_page_context(me, [b.post for b in items]))


# --- moderation -------------------------------------------------------------------------------

@bp.post("/posts/<int:post_id>/flag")
@login_required
@limiter.limit(_post_limit)
def flag(post_id: int):
    moderation.flag_post(signed_in(), post_id, load_form(FlagCreate())["reason"])
    flash("Thanks: a moderator will look at this post.", "success")
    return redirect(_back_to(perm.access_post(signed_in(), post_id)))


@bp.post("/posts/<int:post_id>/hide")
@login_required
def hide(post_id: int):
    post = moderation.hide_post(signed_in(), post_id, load_form(HideRequest())["reason"])
    flash("The post is hidden: only moderators and its author see it now.", "success")
    if request.form.get("_next") == "queue":
        return redirect(url_for("stream.moderation_queue"))
    return redirect(_back_to(post))


@bp.post("/posts/<int:post_id>/restore")
@login_required
def restore(post_id: int):
    post = moderation.restore_post(signed_in(), post_id)
    flash("The post is visible again.", "success")
    if request.form.get("_next") == "queue":
        return redirect(url_for("stream.moderation_queue", status="hidden"))
    return redirect(_back_to(post))


@bp.post("/posts/<int:post_id>/flags/dismiss")
@login_required
def dismiss_flags(post_id: int):
    moderation.dismiss_flags(signed_in(), post_id)
    flash("Flags dismissed: the post stays as it is.", "success")
    return redirect(url_for("stream.moderation_queue"))


@bp.get("/moderation")
@login_required
def moderation_queue():
    me = signed_in()
    args = load(ModerationArgs(), request.args.to_dict())
    items, nxt = moderation.moderation_queue(me, args["status"], args["cursor"], args["limit"])
    return render_template("stream/moderation.html", items=items, status=args["status"], next_cursor=nxt)


@bp.get("/posts/<int:post_id>/in-context")
@login_required
def show_post(post_id: int):
    """A post where it lives: its thread's page, at the post."""
    return redirect(_in_thread(perm.access_post(signed_in(), post_id)))
