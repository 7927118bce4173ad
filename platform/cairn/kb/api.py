"""/api/v1 spaces, articles, revisions (diff, restore), transitions, verification, flags and
article templates."""

from __future__ import annotations

from flask import jsonify

from cairn.api import actor, api_blueprint, load, load_args, page
from cairn.auth import permissions as perm
from cairn.kb import actions, article_templates, flags, revisions
from cairn.kb.actions import UNSET
from cairn.kb.schemas import (
    ArticleArgs,
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
    article_out,
    article_revision_out,
    flag_out,
    space_out,
    template_out,
)

bp = api_blueprint("api_kb")


@bp.get("/spaces")
def list_spaces():
    return jsonify(page([space_out(s) for s in actions.list_spaces(actor())], None))


@bp.post("/spaces")
def create_space():
    data = load(SpaceCreate())
    return jsonify(space_out(actions.create_space(actor(), data["name"], data["description"], data["groups"]))), 201


@bp.get("/spaces/<int:space_id>")
def get_space(space_id: int):
    return jsonify(space_out(perm.access_space(actor(), space_id)))


@bp.patch("/spaces/<int:space_id>")
def update_space(space_id: int):
    data = load(SpaceUpdate())
    space = actions.update_space(actor(), space_id, description=data.get("description"),
                                 group_ids=data.get("groups"), owner_id=data.get("owner_id"),
                                 verify_interval_days=data.get("verify_interval_days", UNSET))
    return jsonify(space_out(space))


@bp.get("/articles")
def list_articles():
    args = load_args(ArticleArgs())
    items, nxt = actions.list_articles(actor(), args["space_id"], args["status"], args["cursor"], args["limit"])
    return jsonify(page([article_out(a, full=False) for a in items], nxt))


@bp.post("/articles")
def create_article():
    data = load(ArticleCreate())
    article = actions.create_article(actor(), data["space_id"], data["title"], data["body"], data["tags"],
                                     data["groups"])
    return jsonify(article_out(article)), 201


@bp.get("/articles/<int:article_id>")
def get_article(article_id: int):
    return jsonify(article_out(perm.access_article(actor(), article_id)))


@bp.patch("/articles/<int:article_id>")
def edit_article(article_id: int):
    data = load(ArticleUpdate())
    article = actions.edit_article(actor(), article_id, data["revision"], title=data.get("title"),
                                   body=data.get("body"), tags=data.get("tags"), group_ids=data.get("groups"),
                                   note=data["note"])
    return jsonify(article_out(article))


@bp.get("/articles/<int:article_id>/revisions")
def list_revisions(article_id: int):
    return jsonify(page([article_revision_out(r) for r in actions.revisions(actor(), article_id)], None))


@bp.get("/articles/<int:article_id>/revisions/<int:number>")
def get_revision(article_id: int, number: int):
    return jsonify(article_revision_out(actions.revision(actor(), article_id, number), full=True))


@bp.get("/articles/<int:article_id>/diff")
def diff(article_id: int):
    """Any two revisions compared: a unified diff and side-by-side rows."""
    args = load_args(DiffArgs())
    cmp = revisions.compare(actor(), article_id, args["from_"], args["to"])
    return jsonify({"from": cmp.a, "to": cmp.b, "diff": cmp.unified,
                    "title": {"from": cmp.old_title, "to": cmp.new_title, "changed": cmp.title_changed},
                    "side_by_side": [row.as_dict() for row in cmp.rows]})


@bp.post("/articles/<int:article_id>/revisions/<int:number>/restore")
def restore_revision(article_id: int, number: int):
    """Save an old revision's content as a new revision (409 when `revision` is not the latest)."""
    data = load(RevisionRestore())
    article = revisions.restore_revision(actor(), article_id, number, data["revision"], data["note"])
    return jsonify(article_out(article)), 201


@bp.post("/articles/<int:article_id>/transitions")
def transition(article_id: int):
    data = load(Transition())
    return jsonify(article_out(actions.transition_article(actor(), article_id, data["to"], data["note"])))


@bp.post("/articles/<int:article_id>/verification")
def verify(article_id: int):
    return jsonify(article_out(actions.verify_article(actor(), article_id)))


@bp.post("/articles/<int:article_id>/flags")
def flag_article(article_id: int):
    """Flag an article as outdated, wrong, unclear or a duplicate (any reader)."""
    data = load(ArticleFlagCreate())
    return jsonify(flag_out(flags.flag_article(actor(), article_id, data["kind"], data["comment"]))), 201


@bp.get("/flags")
def list_flags():
    """The flag queue: flags on articles you own (or all you can see, for curators), and yours."""
    args = load_args(ArticleFlagArgs())
    items, nxt = flags.list_flags(actor(), args["state"], args["article_id"], args["cursor"], args["limit"])
    return jsonify(page([flag_out(f) for f in items], nxt))


@bp.get("/flags/<int:flag_id>")
def get_flag(flag_id: int):
    return jsonify(flag_out(perm.access_flag(actor(), flag_id)))


@bp.post("/flags/<int:flag_id>/resolution")
def resolve_flag(flag_id: int):
    """Resolve a flag with a note (the article's owner or a curator)."""
    data = load(ArticleFlagResolve())
    return jsonify(flag_out(flags.resolve_flag(actor(), flag_id, data["note"])))


@bp.get("/article-templates")
def list_article_templates():
    """Templates that prefill a new article's body."""
    actor()
    return jsonify(page([template_out(t) for t in article_templates.list_templates()], None))
