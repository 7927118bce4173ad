"""The curator's candidate queue page: promote or dismiss what the scoring task found, and see or
restore what curators dismissed (?status=dismissed)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from cairn.api import load
from cairn.auth.current import signed_in
from cairn.curation import candidates
from cairn.curation.candidate_schemas import (
    CandidateArgs,
    CandidateDismiss,
    CandidateRestore,
    candidate_out,
)
from cairn.forms import load_form
from cairn.kb.actions import list_spaces

bp = Blueprint("candidates", __name__)


@bp.get("/candidates")
@login_required
def queue():
    me = signed_in()
    args = load(CandidateArgs(), request.args.to_dict())
    items, nxt = candidates.list_candidates(me, args["cursor"], args["limit"], args["status"])
    readable = candidates.readable_channel_ids(me)
    return render_template("curation/candidates.html", candidates=[candidate_out(me, c, readable) for c in items],
                           next_cursor=nxt, spaces=list_spaces(me), status=args["status"])


@bp.post("/candidates/<int:candidate_id>/dismiss")
@login_required
def dismiss(candidate_id: int):
    data = load_form(CandidateDismiss())
    candidates.dismiss_candidate(signed_in(), candidate_id, data["reason"])
    flash("Candidate dismissed: it returns only if its thread grows noticeably.", "success")
    return redirect(url_for("candidates.queue"))


@bp.post("/candidates/<int:candidate_id>/restore")
@login_required
def restore(candidate_id: int):
    load_form(CandidateRestore())
    candidates.restore_candidate(signed_in(), candidate_id)
    flash("Candidate restored to the queue.", "success")
    return redirect(url_for("candidates.queue", status="dismissed"))
