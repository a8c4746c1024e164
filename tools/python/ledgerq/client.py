"""Client: an application acting as one client id (PROTOCOL.md §6.3, §6.4,
§6.7, §11): submit, submit_batch, status, cancel, and watch its status topic
with gap recovery by seq."""

import time

from . import protocol as p
from .connection import Connection
from .subscription import Subscription

DEFAULT_ROUTER = "tcp://127.0.0.1:5555"
DEFAULT_STATUS_PUB = "tcp://127.0.0.1:5556"


class Client(Connection):
    """Submits and follows the jobs of `client_id`.

    Bodies are Python values (encoded with msgpack, canonically) or
    protocol.Body. Records come back as dicts named as in §7.1, with bodies
    as protocol.Body (call .value()). Errors raise protocol.LedgerqError
    with the broker's code (§8.1); a code of class 3xx/5xx is retryable.
    `credentials` (secure mode, §14): the DEALER and every Watch use them;
    the key's principal must be the client `client_id`.
    """

    def __init__(self, client_id, router=DEFAULT_ROUTER, status_pub=DEFAULT_STATUS_PUB, timeout=10.0,
                 context=None, credentials=None):
        p.ID.encode(client_id, "client")    # fail early on a bad id
        super().__init__(router, timeout, context, credentials)
        self.client_id = client_id
        self.status_pub = status_pub

    def submit(self, datasource, job, request, options=None):
        """Submits a job (§6.3). Returns {job, client, timestamp, duplicate}.
        `options`: a JobOptions dict (§7.3: priority, run_after, attempts,
        type, key, lifecycle, custom_status). Raises LedgerqError 404 (no
        datasource), 409 (same id, other body), 301 (queue full), ..."""
        return _fields(self.call("submit", datasource=datasource, job=job, client=self.client_id,
                                 request=p.Body.of(request), options=options))

    def submit_batch(self, datasource, jobs):
        """Submits 1..1000 jobs, each a dict {job, request, options?}.
        Returns one ItemResult dict per job (§7.6): code 200 with timestamp
        (and duplicate), or the code submit would have raised."""
        jobs = [{**j, "request": p.Body.of(j.get("request"))} for j in jobs]
        return self.call("submit_batch", datasource=datasource, client=self.client_id, jobs=jobs)["results"]

    def status(self, datasource, job):
        """The job's StatusRecord (§7.1)."""
        return self.call("status", datasource=datasource, job=job, client=self.client_id)["status"]

    def cancel(self, datasource, job):
        """Cancels the job, or asks its holder to (§6.4); returns the record."""
        return self.call("cancel", datasource=datasource, job=job, client=self.client_id)["status"]

    def missed(self, seq, limit=None):
        """One page of this client's notices from `seq` (§6.7): {notices, next, more, last}."""
        return self.call("missed", client=self.client_id, seq=seq, limit=limit)

    def watch(self, after=None, resync=1.0):
        """A Watch on this client's status topic. `after`: the last seq
        already processed (0: replay everything the log keeps); None: only
        notices after now."""
        return Watch(self, after, resync)

    def wait_for(self, datasource, job, timeout, until=None):
        """Waits until the job's record satisfies `until` (default: a
        terminal status) and returns it; None after `timeout` seconds."""
        until = until or (lambda r: r["status"] in p.TERMINAL)
        deadline = time.monotonic() + timeout
        with self.watch() as w:          # before reading the status: no change slips between
            record = self.status(datasource, job)
            while not until(record):
                n = w.next(max(0.0, deadline - time.monotonic()))
                if n is None:
                    return None
                if n["datasource"] == datasource and n["data"]["job"] == job:
                    record = n["data"]
            return record


class Watch(Subscription):
    """Every StatusNotice (§7.8) of one client, exactly once, in seq order.

    Subscribes, then reads what it missed with `missed` (§11); a seq that
    jumps, or an idle `resync` period after which the broker's `last` seq is
    ahead, makes it read the gap again. `last_seq` is the seq of the last
    notice returned: save it and pass it as `after` to resume. Notices the
    broker no longer keeps (log retention) are counted in `lost`.
    """

    def __init__(self, client, after=None, resync=1.0):
        super().__init__(client, client.status_pub, p.status_topic(client.client_id), resync)
        self._client = client
        self.lost = 0
        try:
            if after is None:
                after = client.missed(1, limit=0)["last"]
            self.last_seq = after        # last delivered
            self._upto = after           # last queued
            self._recover()
        except BaseException:
            self.close()
            raise

    def decode(self, frame):
        return p.decode_status_notice(frame)

    def _delivered(self, notice):
        self.last_seq = notice["seq"]

    def _arrived(self, notice):
        seq = notice["seq"]
        if seq <= self._upto:
            return                       # already recovered from the log
        if seq == self._upto + 1:
            self._items.append(notice)
            self._upto = seq
        else:
            self._recover()              # a gap: read it (this notice included) from the log

    def catch_up(self):
        seq = self._upto + 1
        while True:
            page = self._client.missed(seq, limit=1000)
            for n in page["notices"]:
                if n["seq"] > self._upto:
                    if n["seq"] > self._upto + 1:
                        self.lost += n["seq"] - self._upto - 1   # trimmed by log retention (§15)
                    self._items.append(n)
                    self._upto = n["seq"]
            if not page["more"] or page["next"] <= seq:
                return
            seq = page["next"]

    def tail_behind(self):
        return self._client.missed(self._upto + 1, limit=0)["last"] > self._upto


def _fields(reply):
    return {k: v for k, v in reply.items() if k not in ("rid", "code")}
