"""Notification pages: the list, following one to what it is about, marking them read."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import login_required

from cairn.api import load
from cairn.api.schemas import ListArgs
from cairn.auth.current import signed_in
from cairn.forms import load_form
from cairn.stream import actions
from cairn.stream.schemas import NotificationsRead

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
@login_required
def index():
    args = load(ListArgs(), request.args.to_dict())
    items, nxt = actions.notifications(signed_in(), limit=args["limit"], cursor=args["cursor"])
    return render_template("stream/notifications.html", notifications=items, next_cursor=nxt)


@bp.get("/notifications/<int:notification_id>")
@login_required
def follow(notification_id: int):
    """Follow a notification to what it is about, marking it read."""
    note = actions.open_notification(signed_in(), notification_id)
    if note.post_id:
        return redirect(url_for("stream.show_post", post_id=note.post_id))
    if note.article_id:
        return redirect(url_for("kb.article", article_id=note.article_id))
    if note.promotion_id:
        return redirect(url_for("curation.promotion", promotion_id=note.promotion_id))
    return redirect(url_for("notifications.index"))


@bp.post("/notifications/read")
@login_required
def mark_read():
    """Mark all notifications read, or only those named in ``ids``."""
    actions.mark_notifications_read(signed_in(), load_form(NotificationsRead())["ids"])
    return redirect(url_for("notifications.index"))
