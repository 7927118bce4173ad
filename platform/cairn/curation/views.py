"""Curation pages: choose posts to promote (a thread, the tray), follow a promotion live, review
its draft, append it to an existing article instead, the queue."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import login_required
from sqlalchemy import select

from cairn.api import load
from cairn.auth import permissions as perm
from cairn.auth.current import signed_in
from cairn.curation import actions
from cairn.curation.models import Promotion
from cairn.curation.schemas import (
    AppendInstead,
    PromoteThreadArgs,
    PromotionArgs,
    PromotionCreate,
    PromotionReject,
    TrayItem,
)
from cairn.errors import Invalid
from cairn.extensions import db
from cairn.forms import load_form
from cairn.kb.actions import list_spaces
from cairn.kb.models import Article
from cairn.stream import signals
from cairn.stream.actions import thread
from cairn.stream.models import Post

bp = Blueprint("curation", __name__)

TRAY_KEY = "promotion_tray"  # post ids a curator collects from several threads (the signed session)


def _tray_ids() -> list[int]:
    return [i for i in session.get(TRAY_KEY, []) if isinstance(i, int)]


@bp.post("/promotions")
@login_required
def promote():
    data = load_form(PromotionCreate())
    promotion = actions.request_promotion(signed_in(), data["post_ids"], data["mode"], data["article_id"],
                                          data["space_id"])
    if request.form.get("_from_tray"):
        session[TRAY_KEY] = [i for i in _tray_ids() if i not in set(promotion.post_ids)]
    return redirect(url_for("curation.promotion", promotion_id=promotion.id))


@bp.get("/promotions/new")
@login_required
def new_promotion():
    """Choose what to promote and where: a thread's question, accepted answer and ticked replies
    (``?thread=<id>``), or the posts collected in the tray."""
    me = signed_in()
    perm.require_curator(me)
    args = load(PromoteThreadArgs(), request.args.to_dict())
    if args["thread"]:
        root, replies = thread(me, args["thread"])
        answer_id = signals.signals_for(me, [root]).answer_of(root)
        posts = [p for p in [root, *replies] if perm.can_promote(me, p)]
        chosen = {root.id, answer_id}
    else:
        root, answer_id = None, None
        wanted = _tray_ids()
        found = {p.id: p for p in db.session.scalars(select(Post).where(Post.id.in_(wanted)))} if wanted else {}
        posts = [found[i] for i in wanted if i in found and perm.can_promote(me, found[i])]
        chosen = {p.id for p in posts}
    return render_template("curation/promotion_new.html", root=root, answer_id=answer_id, posts=posts,
                           chosen=chosen, spaces=list_spaces(me), articles=actions.editable_articles(me),
                           from_tray=root is None)


@bp.post("/promotions/tray")
@login_required
def add_to_tray():
    me = signed_in()
    data = load_form(TrayItem())
    post = perm.access_post(me, data["post_id"])
    if not perm.can_promote(me, post):
        perm.require_curator(me)
        raise Invalid("This post cannot be promoted.", {"post_id": ["hidden or not yours to promote"]})
    tray = _tray_ids()
    if post.id not in tray:
        if len(tray) >= actions.MAX_POSTS:
            raise Invalid(f"The tray holds at most {actions.MAX_POSTS} posts.", {"post_id": ["tray is full"]})
        session[TRAY_KEY] = [*tray, post.id]
    return redirect(url_for("stream.post", post_id=post.parent_id or post.id, _anchor=f"post-{post.id}"))


@bp.post("/promotions/tray/remove")
@login_required
def remove_from_tray():
    data = load_form(TrayItem())
    session[TRAY_KEY] = [i for i in _tray_ids() if i != data["post_id"]]
    return redirect(url_for("curation.new_promotion"))


@bp.get("/promotions")
@login_required
def promotions():
    me = signed_in()
    args = load(PromotionArgs(), request.args.to_dict())
    items, nxt = actions.list_promotions(me, args["status"], args["cursor"], args["limit"])
    return render_template("curation/promotions.html", promotions=items, tray=len(_tray_ids()),
                           articles=actions.promotion_articles(me, items), status=args["status"],
                           next_cursor=nxt)


def _promotion_context(promotion_id: int) -> dict:
    me = signed_in()
    p = actions.access_promotion(me, promotion_id)
    article = db.session.get(Article, p.article_id) if p.article_id else None
    if article is not None and not perm.can_read_article(me, article):
        article = None
    posts = [post for post in (db.session.get(Post, pid) for pid in p.post_ids)
             if post is not None and perm.can_read_post(me, post)]
    duplicates = actions.visible_duplicates(me, p)
    editable = set()  # the duplicates offered "append to this article instead"
    if p.status == "needs_review" and me.is_curator and duplicates:
        for row in db.session.scalars(select(Article).where(Article.id.in_([d["id"] for d in duplicates]))):
            if perm.can_edit_article(me, row) and row.status != "archived" and row.id != p.article_id:
                editable.add(row.id)
    return {"promotion": p, "article": article, "posts": posts, "duplicates": duplicates,
            "appendable": editable}


@bp.get("/promotions/<int:promotion_id>")
@login_required
def promotion(promotion_id: int):
    return render_template("curation/promotion.html", **_promotion_context(promotion_id))


@bp.get("/promotions/<int:promotion_id>/progress")
@login_required
def promotion_progress(promotion_id: int):
    """The promotion's panels alone: promotion.js swaps them in when the status or step changes."""
    return render_template("curation/_promotion_panels.html", **_promotion_context(promotion_id))


@bp.post("/promotions/<int:promotion_id>/append")
@login_required
def append_instead(promotion_id: int):
    data = load_form(AppendInstead())
    promotion: Promotion = actions.append_instead(signed_in(), promotion_id, data["article_id"])
    return redirect(url_for("curation.promotion", promotion_id=promotion.id))


@bp.post("/promotions/<int:promotion_id>/reject")
@login_required
def reject(promotion_id: int):
    data = load_form(PromotionReject())
    actions.reject_promotion(signed_in(), promotion_id, data["reason"])
    return redirect(url_for("curation.promotion", promotion_id=promotion_id))
