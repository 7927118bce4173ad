"""Live-update brokers: one interface (``publish``, ``subscribe``, ``replay``), two implementations.

- ``LocalBroker``: an in-process, thread-safe fan-out of queues (the embedded default, one web
  process);
- ``RedisBroker``: each event is PUBLISHed on ``<prefix>channel:<id>``; every web process runs ONE
  listener thread on a pattern subscription and fans the events out to its own streams, so any
  number of processes and hosts share them.
Both keep a short per-channel history so that a reconnecting browser gets what it missed.
"""

from __future__ import annotations

import json
import logging
import queue
import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis

log = logging.getLogger(__name__)

HISTORY = 200            # events kept per channel for reconnecting browsers
HISTORY_TTL = 3600       # seconds (Redis)
QUEUE_SIZE = 1000        # events buffered per stream before it is told to resync


@dataclass(frozen=True)
class LiveEvent:
    id: str                      # "<epoch>:<seq>", increasing per channel
    channel_id: int
    kind: str
    data: dict[str, int | None]  # ids only

    @property
    def seq(self) -> int:
        return int(self.id.rsplit(":", 1)[1])

    def to_sse(self) -> bytes:
        payload = json.dumps({"channel_id": self.channel_id, **self.data}, separators=(",", ":"))
        return f"id: {self.id}\nevent: {self.kind}\ndata: {payload}\n\n".encode()



class Subscription:
    """One stream's queue of events for one channel."""

    def __init__(self, channel_id: int, on_close: Callable[[Subscription], None]) -> None:
        self.channel_id = channel_id
        self.overflowed = False
        self._queue: queue.Queue[LiveEvent] = queue.Queue(maxsize=QUEUE_SIZE)
        self._on_close = on_close
        self._closed = False

    def put(self, event: LiveEvent) -> None:
        try:
            self._queue.put_nowait(event)
        except queue.Full:  # a stalled reader: it will be told to resync rather than block publishers
            self.overflowed = True

    def get(self, timeout: float) -> LiveEvent | None:
        try:
            return self._queue.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._on_close(self)


class Fanout:
    """Thread-safe fan-out: channel id -> the subscriptions of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[int, set[Subscription]] = {}

    def add(self, channel_id: int) -> Subscription:
        sub = Subscription(channel_id, self._remove)
        with self._lock:
            self._subs.setdefault(channel_id, set()).add(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.channel_id, set())
            subs.discard(sub)
            if not subs:
                self._subs.pop(sub.channel_id, None)

    def deliver(self, event: LiveEvent) -> None:
        with self._lock:
            subs = list(self._subs.get(event.channel_id, ()))
        for sub in subs:
            sub.put(event)

    def count(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._subs.values())


class Broker(Protocol):
    epoch: str

    def publish(self, channel_id: int, kind: str, ids: dict[str, int | None]) -> LiveEvent: ...

    def subscribe(self, channel_id: int) -> Subscription: ...

    def replay(self, channel_id: int, last_event_id: str) -> list[LiveEvent] | None: ...

    def current_id(self, channel_id: int) -> str: ...

    def close(self) -> None: ...


def _replay(epoch: str, last_event_id: str, current_seq: int, history: list[LiveEvent]
            ) -> list[LiveEvent] | None:
    """The events after ``last_event_id``, or None when they cannot all be known."""
    their_epoch, _, raw_seq = last_event_id.strip().rpartition(":")
    if their_epoch != epoch or not raw_seq.isdigit():
        return None
    last = int(raw_seq)
    if last == current_seq:
        return []
    if last > current_seq or not history or history[0].seq > last + 1:
        return None
    return [e for e in history if e.seq > last]


class LocalBroker:
    """In-process: right for one web process (the embedded default); events do not leave it."""

    def __init__(self) -> None:
        self.epoch = secrets.token_hex(4)
        self.fanout = Fanout()
        self._lock = threading.Lock()
        self._seq: dict[int, int] = {}
        self._history: dict[int, deque[LiveEvent]] = {}

    def publish(self, channel_id: int, kind: str, ids: dict[str, int | None]) -> LiveEvent:
        with self._lock:  # one order per channel for every subscriber
            seq = self._seq[channel_id] = self._seq.get(channel_id, 0) + 1
            event = LiveEvent(f"{self.epoch}:{seq}", channel_id, kind, dict(ids))
            self._history.setdefault(channel_id, deque(maxlen=HISTORY)).append(event)
            self.fanout.deliver(event)
        return event

    def subscribe(self, channel_id: int) -> Subscription:
        return self.fanout.add(channel_id)

    def replay(self, channel_id: int, last_event_id: str) -> list[LiveEvent] | None:
        with self._lock:
            return _replay(self.epoch, last_event_id, self._seq.get(channel_id, 0),
                           list(self._history.get(channel_id, ())))

    def current_id(self, channel_id: int) -> str:
        """The id of the channel's latest event (a page remembers it, and replays from it)."""
        with self._lock:
            return f"{self.epoch}:{self._seq.get(channel_id, 0)}"

    def close(self) -> None:
        """Nothing to stop: the broker has no thread or connection of its own."""


# KEYS: sequence, history; ARGV: pub/sub channel, event JSON, history length, history TTL.
# One script, so the sequence number, the history and the delivery order always agree.
_PUBLISH_LUA = """
local seq = redis.call('INCR', KEYS[1])
local msg = seq .. '|' .. ARGV[2]
redis.call('RPUSH', KEYS[2], msg)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[4]))
redis.call('PUBLISH', ARGV[1], msg)
return seq
"""


class RedisBroker:
    """Redis pub/sub on ``<prefix>channel:<id>``: every web process sees every event."""

    def __init__(self, url: str, prefix: str = "cairn:") -> None:
        self.prefix = prefix
        self.fanout = Fanout()
        self._redis = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
        self._listen_redis = redis.Redis.from_url(url, socket_connect_timeout=1, health_check_interval=30)
        self._script = self._redis.register_script(_PUBLISH_LUA)
        self._epoch: str | None = None
        self._lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._listening = threading.Event()
        self._stopped = threading.Event()

    @property
    def epoch(self) -> str:
        """Changes only when Redis loses its data (then old event ids mean nothing)."""
        if self._epoch is None:
            key = f"{self.prefix}live:epoch"
            self._redis.set(key, secrets.token_hex(4), nx=True)
            self._epoch = self._redis.get(key).decode()
        return self._epoch

    def _keys(self, channel_id: int) -> list[str]:
        return [f"{self.prefix}live:{{{channel_id}}}:seq", f"{self.prefix}live:{{{channel_id}}}:history"]

    def channel_name(self, channel_id: int) -> str:
        return f"{self.prefix}channel:{channel_id}"

    def publish(self, channel_id: int, kind: str, ids: dict[str, int | None]) -> LiveEvent:
        body = json.dumps({"kind": kind, "ids": ids}, separators=(",", ":"))
        epoch = self.epoch
        seq = self._script(keys=self._keys(channel_id),
                           args=[self.channel_name(channel_id), body, HISTORY, HISTORY_TTL])
        return LiveEvent(f"{epoch}:{int(seq)}", channel_id, kind, dict(ids))

    def _decode(self, channel_id: int, raw: bytes) -> LiveEvent:
        seq, _, body = raw.decode().partition("|")
        data = json.loads(body)
        return LiveEvent(f"{self.epoch}:{int(seq)}", channel_id, data["kind"], data["ids"])

    def subscribe(self, channel_id: int) -> Subscription:
        sub = self.fanout.add(channel_id)
        self._start_listener()
        if not self._listening.wait(timeout=2):  # Redis down: heartbeats go on, events follow
            log.warning("live: Redis listener not subscribed yet; stream opened anyway")
        return sub

    def replay(self, channel_id: int, last_event_id: str) -> list[LiveEvent] | None:
        seq_key, history_key = self._keys(channel_id)
        with self._redis.pipeline(transaction=True) as pipe:
            current, raw = pipe.get(seq_key).lrange(history_key, 0, -1).execute()
        history = [self._decode(channel_id, item) for item in raw]
        return _replay(self.epoch, last_event_id, int(current or 0), history)

    def current_id(self, channel_id: int) -> str:
        return f"{self.epoch}:{int(self._redis.get(self._keys(channel_id)[0]) or 0)}"

    def _start_listener(self) -> None:
        with self._lock:
            if self._listener is None or not self._listener.is_alive():
                self._stopped.clear()
                self._listener = threading.Thread(target=self._listen, name="cairn-live-redis", daemon=True)
                self._listener.start()

    def _listen(self) -> None:
        pattern = f"{self.prefix}channel:*"
        while not self._stopped.is_set():
            pubsub = self._listen_redis.pubsub()
            try:
                pubsub.psubscribe(pattern)
                while not self._stopped.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "psubscribe":
                        self._listening.set()
                    elif message["type"] == "pmessage":
                        channel_id = int(message["channel"].rsplit(b":", 1)[1])
                        self.fanout.deliver(self._decode(channel_id, message["data"]))
            except (redis.RedisError, OSError, ValueError) as exc:
                log.warning("live: Redis listener failed (%s); retrying in 1 s", exc)
                self._listening.clear()
                self._stopped.wait(1.0)
            finally:
                pubsub.close()
        self._listening.clear()

    def close(self) -> None:
        """Stop the listener thread (tests, before their Redis stops; a web process simply exits)."""
        self._stopped.set()
        if self._listener is not None:
            self._listener.join(timeout=5)
