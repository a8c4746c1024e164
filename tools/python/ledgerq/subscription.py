"""A SUB socket on one topic that delivers publications exactly once, in
order, with no gaps, recovering what the PUB socket lost from the broker's log
(PROTOCOL.md §11 "Gap recovery"). Client.watch and Driver.follow build on it.
"""

import collections
import logging
import time

import zmq

from . import protocol as p
from .connection import new_socket

log = logging.getLogger("ledgerq")


class Subscription:
    """Base of Watch (status notices) and Feed (request entries).

    Subclasses define decode(frame) -> dict, _arrived(item) (a publication:
    queue it, skip it as a duplicate, or recover a gap), _delivered(item)
    (advance the position returned to the user), catch_up() (read the log
    from the last item queued into self._items) and tail_behind() (ask the
    broker whether items exist past the last one queued).

    `resync` (seconds): how long the feed may be idle before it asks the
    broker whether it lost publications at the tail of its topic (a loss in
    the middle shows as a seq gap at once).

    `credentials`: the SUB socket's (§14.5); None: the connection's, so a
    Watch or Feed subscribes under the key its Client or Driver calls with.
    """

    def __init__(self, conn, endpoint, topic, resync=1.0, credentials=None):
        self._conn = conn
        self.topic = topic
        self.resync = resync
        self.credentials = conn.credentials if credentials is None else credentials
        self._items = collections.deque()
        self._sub = new_socket(conn.context, zmq.SUB, self.credentials)
        self._sub.setsockopt(zmq.SUBSCRIBE, topic)   # exactly our topic, with its NUL (§11)
        self._sub.connect(endpoint)
        self.recovered = 0   # items fetched from the log instead of the SUB socket (for tests and logs)

    def close(self):
        if self._sub is not None:
            self._sub.close()
            self._sub = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __iter__(self):
        while True:
            item = self.next()
            if item is not None:
                yield item

    def next(self, timeout=None):
        """The next item, or None after `timeout` seconds (None: wait for ever)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        next_check = time.monotonic() + self.resync
        while True:
            if self._items:
                item = self._items.popleft()
                self._delivered(item)
                return item
            now = time.monotonic()
            wait = next_check - now
            if deadline is not None:
                wait = min(wait, deadline - now)
            if self._sub.poll(max(0, int(wait * 1000)), zmq.POLLIN):
                self._receive()
                continue
            if time.monotonic() >= next_check:
                if self.tail_behind():
                    self._recover()
                next_check = time.monotonic() + self.resync
            elif deadline is not None and time.monotonic() >= deadline:
                return None

    def _receive(self):
        frames = self._sub.recv_multipart()
        try:
            if len(frames) != 3 or frames[0] != self.topic:
                raise p.ProtocolError(400, "expected topic, signature and body frames")
            p.check_signature(frames[1])
            item = self.decode(frames[2])
        except p.ProtocolError as e:
            # §8.3: log it and recover from the log.
            log.warning("undecodable publication on %r: %s", self.topic, e)
            self._recover()
            return
        self._arrived(item)

    def _recover(self):
        before = len(self._items)
        self.catch_up()
        self.recovered += len(self._items) - before
