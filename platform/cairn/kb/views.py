"""Knowledge-base pages: spaces, articles, editing, revisions, lifecycle."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from cairn.api import load
from cairn.auth import permissions as perm
from cairn.extensions import db
from cairn.forms import load_form
from cairn.kb import actions
from cairn.kb.schemas import ArticleCreate, ArticleUpdate, DiffArgs, SpaceCreate, Transition
from cairn.stream.models import Post

bp = Blueprint("kb", __name__)


def _me():
    return current_user._get_current_object()


@bp.get("/spaces")
@login_required
def spaces():
    return render_template("kb/spaces.html", spaces=actions.list_spaces(_me()))


@bp.post("/spaces")
@login_required
def create_space():
    data = load_form(SpaceCreate())
    space = actions.create_space(_me(), data["name"], data["description"], data["groups"])
    return redirect(url_for("kb.space", space_id=space.id))


@bp.get("/spaces/<int:space_id>")
@login_required
def space(space_id: int):
    me = _me()
    sp = perm.access_space(me, space_id)
    articles, _ = actions.list_articles(me, space_id=space_id, limit=200)
    return render_template("kb/space.html", space=sp, articles=articles)


@bp.route("/articles/new", methods=["GET", "POST"])
@login_required
def new_article():
    me = _me()
    if request.method == "POST":
        data = load_form(ArticleCreate())
        article = actions.create_article(me, data["space_id"], data["title"], data["body"], data["tags"],
                                         data["groups"])
        return redirect(url_for("kb.article", article_id=article.id))
    space_id = request.args.get("space_id", type=int)
    return render_template("kb/edit.html", article=None, spaces=actions.list_spaces(me), space_id=space_id)


@bp.get("/articles/<int:article_id>")
@login_required
def article(article_id: int):
    me = _me()
    art = perm.access_article(me, article_id)
    source_posts = [post for post in (db.session.get(Post, src.post_id) for src in art.sources)
                    if post is not None and perm.can_read_post(me, post)]
    return render_template("kb/article.html", article=art, revisions=actions.revisions(me, article_id),
                           targets=perm.allowed_targets(art.status), source_posts=source_posts)


@bp.route("/articles/<int:article_id>/edit", methods=["GET", "POST"])
@login_required
def edit_article(article_id: int):
    me = _me()
    art = perm.access_article(me, article_id)
    if request.method == "POST":
        data = load_form(ArticleUpdate())
        actions.edit_article(me, article_id, data["revision"], title=data.get("title"), body=data.get("body"),
                             tags=data.get("tags"), note=data["note"])
        return redirect(url_for("kb.article", article_id=article_id))
    return render_template("kb/edit.html", article=art, spaces=[art.space], space_id=art.space_id)


@bp.post("/articles/<int:article_id>/transition")
@login_required
def transition(article_id: int):
    data = load_form(Transition())
    actions.transition_article(_me(), article_id, data["to"], data["note"])
    return redirect(url_for("kb.article", article_id=article_id))


@bp.post("/articles/<int:article_id>/verify")
@login_required
def verify(article_id: int):
    actions.verify_article(_me(), article_id)
    return redirect(url_for("kb.article", article_id=article_id))


@bp.get("/articles/<int:article_id>/diff")
@login_required
def diff(article_id: int):
    me = _me()
    args = load(DiffArgs(), request.args.to_dict())
    art = perm.access_article(me, article_id)
    return render_template("kb/diff.html", article=art, a=args["from_"], b=args["to"],
                           diff=actions.diff(me, article_id, args["from_"], args["to"]))
