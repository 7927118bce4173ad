"""/api/v1 promotions."""

from __future__ import annotations

from flask import jsonify

from cairn.api import actor, api_blueprint, load, load_args, page
from cairn.curation import actions
from cairn.curation.schemas import (
    AppendInstead,
    PromotionArgs,
    PromotionCreate,
    PromotionReject,
    promotion_out,
)

bp = api_blueprint("api_curation")


@bp.post("/promotions")
def create_promotion():
    data = load(PromotionCreate())
    promotion = actions.request_promotion(actor(), data["post_ids"], data["mode"], data["article_id"],
                                          data["space_id"])
    return jsonify(promotion_out(promotion, actions.visible_duplicates(actor(), promotion))), 202


@bp.get("/promotions")
def list_promotions():
    args = load_args(PromotionArgs())
    user = actor()
    items, nxt = actions.list_promotions(user, args["status"], args["cursor"], args["limit"])
    return jsonify(page([promotion_out(p, actions.visible_duplicates(user, p)) for p in items], nxt))


@bp.get("/promotions/<int:promotion_id>")
def get_promotion(promotion_id: int):
    user = actor()
    promotion = actions.access_promotion(user, promotion_id)
    return jsonify(promotion_out(promotion, actions.visible_duplicates(user, promotion)))


@bp.post("/promotions/<int:promotion_id>/rejection")
def reject_promotion(promotion_id: int):
    data = load(PromotionReject())
    user = actor()
    promotion = actions.reject_promotion(user, promotion_id, data["reason"])
    return jsonify(promotion_out(promotion, actions.visible_duplicates(user, promotion)))


@bp.post("/promotions/<int:promotion_id>/append")
def append_instead(promotion_id: int):
    """Reject the draft and append the same posts to an existing article: 202 with the new promotion."""
    data = load(AppendInstead())
    user = actor()
    promotion = actions.append_instead(user, promotion_id, data["article_id"])
    return jsonify(promotion_out(promotion, actions.visible_duplicates(user, promotion))), 202
