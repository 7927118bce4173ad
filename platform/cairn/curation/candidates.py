"""Knowledge candidates: threads and posts worth promoting, scored with the reasons why.

The names callers use, from the modules that hold them: scoring (candidate_scoring: the periodic
run, its tuning from config/policy.toml and the text helpers), the curator queue (candidate_queue:
list, dismiss, restore, reasons in words) and coverage by promotions and articles
(candidate_coverage: marks candidates promoted, returns them after a rejection).
"""

from __future__ import annotations

from cairn.curation.candidate_coverage import covered_roots, requeue_uncovered
from cairn.curation.candidate_queue import (
    LISTED_STATUSES,
    access_candidate,
    clear_dismissal,
    describe,
    dismiss_candidate,
    excerpt,
    list_candidates,
    readable_channel_ids,
    reasons_for,
    restore_candidate,
)
from cairn.curation.candidate_scoring import (
    HALF_LIFE_DAYS,
    MIN_SCORE,
    SEARCH_WINDOW_DAYS,
    WEIGHTS,
    WINDOW_DAYS,
    Tuning,
    decay,
    grew_noticeably,
    key_terms,
    query_terms,
    score_candidates,
    tuning,
)

__all__ = ["HALF_LIFE_DAYS", "LISTED_STATUSES", "MIN_SCORE", "SEARCH_WINDOW_DAYS", "WEIGHTS", "WINDOW_DAYS", "Tuning",
           "access_candidate", "clear_dismissal", "covered_roots", "decay", "describe", "dismiss_candidate",
           "excerpt", "grew_noticeably", "key_terms", "list_candidates", "query_terms", "readable_channel_ids",
           "reasons_for", "requeue_uncovered", "restore_candidate", "score_candidates", "tuning"]
