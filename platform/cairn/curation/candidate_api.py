"""/api/v1 candidates: the curator queue of posts ranked by knowledge value, with the reasons."""

from __future__ import annotations

from flask import jsonify

from cairn.api import actor, api_blueprint, load, load_args, page
from cairn.curation import candidates
from cairn.curation.candidate_schemas import CandidateArgs, CandidateDismiss, candidate_out

bp = api_blueprint("api_candidates")


@bp.get("/candidates")
def list_candidates():
    """Candidates for promotion, best first, with the reasons for their score (?status=dismissed: the
    dismissed, most recently dismissed first, with who dismissed each, when and why)."""
    args = load_args(CandidateArgs())
    user = actor()
    items, nxt = candidates.list_candidates(user, args["cursor"], args["limit"], args["status"])
    readable = candidates.readable_channel_ids(user)
    return jsonify(page([candidate_out(user, c, readable) for c in items], nxt))


@bp.post("/candidates/<int:candidate_id>/dismissal")
def dismiss_candidate(candidate_id: int):
    """Dismiss a candidate (it stays off the queue unless its thread grows noticeably)."""
    data = load(CandidateDismiss())
    user = actor()
    candidate = candidates.dismiss_candidate(user, candidate_id, data["reason"])
    return jsonify(candidate_out(user, candidate))


@bp.post("/candidates/<int:candidate_id>/restore")
def restore_candidate(candidate_id: int):
    """Restore a dismissed candidate to the queue."""
    user = actor()
    return jsonify(candidate_out(user, candidates.restore_candidate(user, candidate_id)))
