"""Index writes: the `index` queue has exactly one consumer (Whoosh has one writer)."""

from __future__ import annotations

from celery import shared_task

from cairn import outbox, search

BATCH_EVENTS = 200     # index events applied in one Whoosh commit
BATCH_DOCUMENTS = 2000  # ... as long as they name at most this many rows


@shared_task(name="cairn.index.apply_event", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, retry_backoff_max=60, max_retries=8)
def apply_index_event(event_id: int) -> None:
    """Apply this event and the other waiting index events in one index commit.

    One commit per post made the index fall behind whenever posts came faster than a commit
    takes (after a broker outage, 1,000 posts took minutes); the queue has one consumer, so
    taking the waiting events here is safe, and their own tasks find them processed.
    """
    rows: dict[str, set[int]] = {}
    taken: list[int] = []
    for queued_id, payload in outbox.unprocessed("index", event_id, BATCH_EVENTS):
        ids = payload["ids"] if "ids" in payload else [payload["id"]]  # "ids": a bulk import's batch
        if taken and sum(map(len, rows.values())) + len(ids) > BATCH_DOCUMENTS:
            break
        rows.setdefault(payload["doc"], set()).update(ids)
        taken.append(queued_id)
    for doc, ids in rows.items():
        search.sync_documents(doc, sorted(ids))
    outbox.mark_processed(taken)


@shared_task(name="cairn.index.rebuild", acks_late=True)
def rebuild_index() -> int:
    return search.reindex()
