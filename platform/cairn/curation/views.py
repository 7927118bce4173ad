"""Curation pages: promote a post, follow a promotion, review its draft, the queue."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from cairn.auth import permissions as perm
from cairn.curation import actions
from cairn.curation.schemas import PromotionCreate, PromotionReject
from cairn.extensions import db
from cairn.forms import load_form
from cairn.kb.models import Article
from cairn.stream.models import Post

bp = Blueprint("curation", __name__)


def _me():
    return current_user._get_current_object()


@bp.post("/promotions")
@login_required
def promote():
    data = load_form(PromotionCreate())
    promotion = actions.request_promotion(_me(), data["post_ids"], data["mode"], data["article_id"],
                                          data["space_id"])
    return redirect(url_for("curation.promotion", promotion_id=promotion.id))


@bp.get("/promotions")
@login_required
def promotions():
    items, _ = actions.list_promotions(_me(), limit=100)
    return render_template("curation/promotions.html", promotions=items)


@bp.get("/promotions/<int:promotion_id>")
@login_required
def promotion(promotion_id: int):
    me = _me()
    p = actions.access_promotion(me, promotion_id)
    article = db.session.get(Article, p.article_id) if p.article_id else None
    if article is not None and not perm.can_read_article(me, article):
        article = None
    posts = [post for post in (db.session.get(Post, pid) for pid in p.post_ids)
             if post is not None and perm.can_read_post(me, post)]
    return render_template("curation/promotion.html", promotion=p, article=article, posts=posts,
                           duplicates=actions.visible_duplicates(me, p))


@bp.post("/promotions/<int:promotion_id>/reject")
@login_required
def reject(promotion_id: int):
    data = load_form(PromotionReject())
    actions.reject_promotion(_me(), promotion_id, data["reason"])
    return redirect(url_for("curation.promotion", promotion_id=promotion_id))
