"""Index writes: the `index` queue has exactly one consumer (Whoosh has one writer)."""

from __future__ import annotations

from celery import shared_task

from cairn import outbox, search


@shared_task(name="cairn.index.apply_event", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, retry_backoff_max=60, max_retries=8)
def apply_index_event(event_id: int) -> None:
    with outbox.handling(event_id) as payload:
        if payload is None:
            return
        if "ids" in payload:  # a bulk import's batch: one index commit for all of it
            search.sync_documents(payload["doc"], payload["ids"])
        else:
            search.sync_document(payload["doc"], payload["id"])


@shared_task(name="cairn.index.rebuild", acks_late=True)
def rebuild_index() -> int:
    return search.reindex()
