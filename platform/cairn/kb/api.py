"""/api/v1 spaces, articles, revisions, diffs, transitions and verification."""

from __future__ import annotations

from flask import jsonify

from cairn.api import actor, api_blueprint, load, load_args, page
from cairn.auth import permissions as perm
from cairn.kb import actions
from cairn.kb.schemas import (ArticleArgs, ArticleCreate, ArticleUpdate, DiffArgs, SpaceCreate,
                              SpaceUpdate, Transition, article_out, article_revision_out, space_out)

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
                                 group_ids=data.get("groups"))
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
    args = load_args(DiffArgs())
    return jsonify({"from": args["from_"], "to": args["to"],
                    "diff": actions.diff(actor(), article_id, args["from_"], args["to"])})


@bp.post("/articles/<int:article_id>/transitions")
def transition(article_id: int):
    data = load(Transition())
    return jsonify(article_out(actions.transition_article(actor(), article_id, data["to"], data["note"])))


@bp.post("/articles/<int:article_id>/verification")
def verify(article_id: int):
    return jsonify(article_out(actions.verify_article(actor(), article_id)))
