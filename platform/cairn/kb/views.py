"""Knowledge-base pages: spaces and their settings, articles, editing, revisions (diff, restore),
lifecycle, verification and the flag queue."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from cairn.api import load
from cairn.auth import permissions as perm
from cairn.auth.current import signed_in
from cairn.errors import NotFound
from cairn.extensions import db
from cairn.forms import load_form
from cairn.kb import actions, article_templates, flags, revisions
from cairn.kb.actions import UNSET
from cairn.kb.models import FLAG_KINDS
from cairn.kb.schemas import (
    ArticleCreate,
    ArticleFlagArgs,
    ArticleFlagCreate,
    ArticleFlagResolve,
    ArticleUpdate,
    DiffArgs,
    RevisionRestore,
    SpaceCreate,
    SpaceUpdate,
    Transition,
)
from cairn.stream.models import Post
from cairn.text import render_markdown

bp = Blueprint("kb", __name__)


@bp.get("/spaces")
@login_required
def spaces():
    return render_template("kb/spaces.html", spaces=actions.list_spaces(signed_in()))


@bp.post("/spaces")
@login_required
def create_space():
    data = load_form(SpaceCreate())
    space = actions.create_space(signed_in(), data["name"], data["description"], data["groups"])
    return redirect(url_for("kb.space", space_id=space.id))


@bp.get("/spaces/<int:space_id>")
@login_required
def space(space_id: int):
    me = signed_in()
    sp = perm.access_space(me, space_id)
    articles, _ = actions.list_articles(me, space_id=space_id, limit=200)
    return render_template("kb/space.html", space=sp, articles=articles, policy_days=actions.policy_interval_days())


@bp.route("/spaces/<int:space_id>/settings", methods=["GET", "POST"])
@login_required
def space_settings(space_id: int):
    me = signed_in()
    sp = perm.access_space(me, space_id)
    if not perm.can_manage_space(me, sp):
        raise NotFound("Space not found.")  # only curators see the settings page
    if request.method == "POST":
        data = load_form(SpaceUpdate(), groups=request.form.getlist("groups"))
        actions.update_space(me, space_id, description=data.get("description"), group_ids=data.get("groups", []),
                             owner_id=data.get("owner_id"),
                             verify_interval_days=data.get("verify_interval_days", UNSET))
        flash("Space settings saved.", "success")
        return redirect(url_for("kb.space", space_id=space_id))
    users, groups = actions.space_setting_choices(me)
    return render_template("kb/space_settings.html", space=sp, users=users, groups=groups,
                           policy_days=actions.policy_interval_days())


@bp.route("/articles/new", methods=["GET", "POST"])
@login_required
def new_article():
    me = signed_in()
    if request.method == "POST":
        data = load_form(ArticleCreate())
        article = actions.create_article(me, data["space_id"], data["title"], data["body"], data["tags"],
                                         data["groups"])
        return redirect(url_for("kb.article", article_id=article.id))
    space_id = request.args.get("space_id", type=int)
    templates = article_templates.list_templates()
    chosen = request.args.get("template") or ""
    body = article_templates.get_template(chosen).body if chosen else ""
    title = request.args.get("title", "")[:200]  # prefilled from a content gap's question
    return render_template("kb/edit.html", article=None, spaces=actions.list_spaces(me), space_id=space_id,
                           templates=templates, chosen_template=chosen, body=body, title=title)


@bp.get("/articles/<int:article_id>")
@login_required
def article(article_id: int):
    me = signed_in()
    art = perm.access_article(me, article_id)
    source_posts = [post for post in (db.session.get(Post, src.post_id) for src in art.sources)
                    if post is not None and perm.can_read_post(me, post)]
    open_flags, _ = flags.list_flags(me, "open", article_id=art.id, limit=50)
    return render_template("kb/article.html", article=art, revisions=actions.revisions(me, article_id),
                           choices=actions.transition_choices(me, art), source_posts=source_posts,
                           open_flags=open_flags, flag_kinds=FLAG_KINDS)


@bp.route("/articles/<int:article_id>/edit", methods=["GET", "POST"])
@login_required
def edit_article(article_id: int):
    me = signed_in()
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
    actions.transition_article(signed_in(), article_id, data["to"], data["note"])
    return redirect(url_for("kb.article", article_id=article_id))


@bp.post("/articles/<int:article_id>/verify")
@login_required
def verify(article_id: int):
    actions.verify_article(signed_in(), article_id)
    return redirect(url_for("kb.article", article_id=article_id))


@bp.get("/articles/<int:article_id>/diff")
@login_required
def diff(article_id: int):
    me = signed_in()
    args = load(DiffArgs(), request.args.to_dict())
    art = perm.access_article(me, article_id)
    cmp = revisions.compare(me, article_id, args["from_"], args["to"])
    return render_template("kb/diff.html", article=art, a=cmp.a, b=cmp.b, cmp=cmp, diff=cmp.unified,
                           view=args["view"])


@bp.get("/articles/<int:article_id>/revisions/<int:number>")
@login_required
def revision(article_id: int, number: int):
    me = signed_in()
    art = perm.access_article(me, article_id)
    rev = actions.revision(me, article_id, number)
    return render_template("kb/revision.html", article=art, rev=rev, html=render_markdown(rev.body))


@bp.post("/articles/<int:article_id>/revisions/<int:number>/restore")
@login_required
def restore(article_id: int, number: int):
    data = load_form(RevisionRestore())
    revisions.restore_revision(signed_in(), article_id, number, data["revision"], data["note"])
    flash(f"Revision {number} restored as a new revision.", "success")
    return redirect(url_for("kb.article", article_id=article_id))


@bp.post("/articles/<int:article_id>/flags")
@login_required
def flag(article_id: int):
    data = load_form(ArticleFlagCreate())
    flags.flag_article(signed_in(), article_id, data["kind"], data["comment"])
    flash("Thanks: the article's owner and the curators will look at your flag.", "success")
    return redirect(url_for("kb.article", article_id=article_id))


@bp.get("/flags")
@login_required
def flag_queue():
    me = signed_in()
    args = load(ArticleFlagArgs(), request.args.to_dict())
    items, nxt = flags.list_flags(me, args["state"], args["article_id"], args["cursor"], args["limit"])
    return render_template("kb/flags.html", flags=items, next=nxt, state=args["state"])


@bp.post("/flags/<int:flag_id>/resolve")
@login_required
def resolve_flag(flag_id: int):
    data = load_form(ArticleFlagResolve())
    flag = flags.resolve_flag(signed_in(), flag_id, data["note"])
    flash(f"Flag on “{flag.article.title}” resolved.", "success")
    if request.form.get("_back") == "article":
        return redirect(url_for("kb.article", article_id=flag.article_id))
    return redirect(url_for("kb.flag_queue"))
