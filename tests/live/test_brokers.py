"""The two live-update brokers: in-process fan-out, and Redis pub/sub on the real Redis."""

from __future__ import annotations

import threading

import pytest
import redis

from cairn import live_brokers
from cairn.live_brokers import LocalBroker, RedisBroker
from tests.live.conftest import REDIS_URL

IDS = {"post_id": 7, "parent_id": None}


def drain(sub, timeout: float = 0.05) -> list:
    events = []
    while (event := sub.get(timeout)) is not None:
        events.append(event)
    return events


# --- in-process ------------------------------------------------------------------------------

def test_local_broker_fans_an_event_out_to_every_subscriber_of_its_channel_only():
    broker = LocalBroker()
    first, second, elsewhere = broker.subscribe(1), broker.subscribe(1), broker.subscribe(2)
    event = broker.publish(1, "post.created", IDS)
    assert first.get(1) == event and second.get(1) == event
    assert elsewhere.get(0.05) is None
    assert event.data == IDS and event.channel_id == 1 and event.kind == "post.created"


def test_local_broker_numbers_each_channel_in_order_for_concurrent_publishers():
    broker = LocalBroker()
    sub = broker.subscribe(1)

    def publish_many() -> None:
        for n in range(50):
            broker.publish(1, "reaction.changed", {"post_id": n})

    threads = [threading.Thread(target=publish_many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    seqs = [e.seq for e in drain(sub)]
    assert seqs == list(range(1, 201))
    assert broker.publish(2, "post.created", IDS).seq == 1  # numbered per channel


def test_a_closed_subscription_receives_nothing_and_is_forgotten():
    broker = LocalBroker()
    sub = broker.subscribe(1)
    sub.close()
    sub.close()  # twice is harmless
    broker.publish(1, "post.created", IDS)
    assert sub.get(0.05) is None
    assert broker.fanout.count() == 0


def test_a_stalled_reader_overflows_instead_of_blocking_publishers(monkeypatch):
    monkeypatch.setattr(live_brokers, "QUEUE_SIZE", 5)
    broker = LocalBroker()
    sub = broker.subscribe(1)
    for n in range(8):
        broker.publish(1, "post.created", {"post_id": n})
    assert sub.overflowed
    assert len(drain(sub)) == 5


def test_local_broker_replays_what_a_reconnecting_reader_missed():
    broker = LocalBroker()
    first = broker.publish(1, "post.created", {"post_id": 1})
    broker.publish(1, "post.edited", {"post_id": 1})
    third = broker.publish(1, "post.deleted", {"post_id": 1})
    assert [e.kind for e in broker.replay(1, first.id)] == ["post.edited", "post.deleted"]
    assert broker.replay(1, third.id) == []
    assert broker.replay(2, f"{broker.epoch}:0") == []  # a quiet channel: nothing missed


def test_current_id_is_where_a_new_page_starts_replaying_from():
    broker = LocalBroker()
    assert broker.current_id(1) == f"{broker.epoch}:0"
    broker.publish(1, "post.created", IDS)
    since = broker.current_id(1)
    later = broker.publish(1, "post.edited", IDS)
    assert broker.replay(1, since) == [later]


@pytest.mark.parametrize("last_id", ["another-epoch:1", "garbage", "EPOCH:99", "EPOCH:x"])
def test_replay_answers_none_when_it_cannot_know_what_was_missed(last_id):
    broker = LocalBroker()
    broker.publish(1, "post.created", IDS)
    assert broker.replay(1, last_id.replace("EPOCH", broker.epoch)) is None


def test_replay_answers_none_once_the_missed_events_left_the_history(monkeypatch):
    monkeypatch.setattr(live_brokers, "HISTORY", 3)
    broker = LocalBroker()
    first = broker.publish(1, "post.created", IDS)
    for _ in range(5):
        broker.publish(1, "post.edited", IDS)
    assert broker.replay(1, first.id) is None
    assert len(broker.replay(1, f"{broker.epoch}:3")) == 3


# --- Redis pub/sub (the real server, a private key prefix) -----------------------------------

@pytest.fixture
def redis_brokers(redis_prefix):
    """Two brokers on one Redis, as two web processes would have."""
    made = [RedisBroker(REDIS_URL, redis_prefix), RedisBroker(REDIS_URL, redis_prefix)]
    yield made
    for broker in made:
        broker.close()


def test_redis_broker_delivers_an_event_published_by_another_process(redis_brokers):
    web_a, web_b = redis_brokers
    on_b, elsewhere_on_b, on_a = web_b.subscribe(5), web_b.subscribe(6), web_a.subscribe(5)
    event = web_a.publish(5, "post.created", IDS)
    assert on_b.get(3) == event
    assert on_a.get(3) == event
    assert elsewhere_on_b.get(0.2) is None
    assert web_b.epoch == web_a.epoch  # one numbering for the whole deployment


def test_redis_broker_publishes_on_one_pubsub_channel_per_cairn_channel(redis_prefix):
    broker = RedisBroker(REDIS_URL, redis_prefix)
    raw = redis.Redis.from_url(REDIS_URL).pubsub(ignore_subscribe_messages=True)
    raw.subscribe(f"{redis_prefix}channel:9")
    try:
        raw.get_message(timeout=1)
        event = broker.publish(9, "reaction.changed", {"post_id": 3, "parent_id": 2})
        message = raw.get_message(timeout=3)
        assert message is not None and message["channel"] == f"{redis_prefix}channel:9".encode()
        assert message["data"] == f'{event.seq}|{{"kind":"reaction.changed","ids":{{"post_id":3,"parent_id":2}}}}'.encode()
    finally:
        raw.close()
        broker.close()


def test_redis_broker_keeps_order_and_replays_across_processes(redis_brokers):
    web_a, web_b = redis_brokers
    sub = web_b.subscribe(5)
    sent = [web_a.publish(5, "post.created", {"post_id": n}) for n in range(20)]
    received = [sub.get(3) for _ in sent]
    assert [e.id for e in received] == [e.id for e in sent]
    assert [e.data["post_id"] for e in web_b.replay(5, sent[16].id)] == [17, 18, 19]
    assert web_b.replay(5, sent[-1].id) == []
    assert web_a.current_id(5) == web_b.current_id(5) == sent[-1].id
    assert web_b.replay(5, "another-epoch:3") is None


def test_redis_history_is_bounded(redis_brokers, monkeypatch):
    monkeypatch.setattr(live_brokers, "HISTORY", 4)
    web_a, _ = redis_brokers
    first = web_a.publish(5, "post.created", IDS)
    for _ in range(6):
        web_a.publish(5, "post.edited", IDS)
    assert web_a.replay(5, first.id) is None
    assert redis.Redis.from_url(REDIS_URL).llen(f"{web_a.prefix}live:{{5}}:history") == 4
