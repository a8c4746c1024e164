"""Driver: serves datasources in the driver style (PROTOCOL.md §6.2, §6.5,
§6.6, §11): creates them, follows every submit and cancel with `since`
catch-up, reports outcomes with `update`. Also the operator commands
(§6.11 to §6.13), which need nothing but a connection."""

from . import protocol as p
from .connection import Connection
from .subscription import Subscription

DEFAULT_ROUTER = "tcp://127.0.0.1:5555"
DEFAULT_REQUESTS_PUB = "tcp://127.0.0.1:5557"


class Driver(Connection):
    """A driver's (or an operator's) connection. Errors raise
    protocol.LedgerqError with the broker's code. `credentials` (secure
    mode, §14): the DEALER and every Feed use them."""

    def __init__(self, router=DEFAULT_ROUTER, requests_pub=DEFAULT_REQUESTS_PUB, timeout=10.0, context=None,
                 credentials=None):
        super().__init__(router, timeout, context, credentials)
        self.requests_pub = requests_pub

    # --- datasources (§6.2)
    def ds_create(self, datasource, options=None):
        """Creates a datasource with DsOptions (§7.4); False if it existed."""
        return self.call("ds_create", datasource=datasource, options=options)["created"]

    def ds_configure(self, datasource, options):
        """Replaces the whole option set; returns it."""
        return self.call("ds_configure", datasource=datasource, options=options)["options"]

    def ds_delete(self, datasource):
        return self.call("ds_delete", datasource=datasource)["deleted"]

    def ds_list(self):
        return self.call("ds_list")["datasources"]

    # --- driver (§6.5, §6.6)
    def update(self, datasource, job, status, response=None, error=None):
        """Sets a job's status (never "submitted"); returns its record.
        `response` is a Python value or Body (None: absent, which clears it)."""
        return self.call("update", datasource=datasource, job=job, status=status,
                         response=None if response is None else p.Body.of(response), error=error)["status"]

    def latest(self, datasource):
        """The newest RequestEntry (§7.7) of the datasource, or None."""
        return self.call("latest", datasource=datasource).get("request")

    def since(self, datasource, timestamp, limit=None):
        """One page of entries with timestamp >= `timestamp`: {requests, next, more}."""
        return self.call("since", datasource=datasource, timestamp=timestamp, limit=limit)

    def follow(self, datasource, after=0, resync=1.0):
        """A Feed of the datasource's entries after timestamp `after` (0: all
        the log keeps)."""
        return Feed(self, datasource, after, resync)

    # --- operators (§6.11 to §6.13)
    def lookup(self, datasource, jobs, bodies=False):
        """The jobs found, in the order asked. A reply stops at its byte budget
        with `more` (PROTOCOL.md §6.11): the ids after the last one answered
        are asked for again until none are left."""
        left, found = list(jobs), []
        while left:
            reply = self.call("lookup", datasource=datasource, jobs=left, bodies=bodies)
            at = 0
            for job in reply["jobs"]:
                while at < len(left) and left[at] != job["job"]:
                    at += 1
                at += 1
            found.extend(reply["jobs"])
            if not reply.get("more") or not reply["jobs"] or at >= len(left):
                break
            left = left[at:]
        return found

    def count(self, datasource, status, priority=None, due=None):
        return self.call("count", datasource=datasource, status=status, priority=priority, due=due)

    def scan(self, datasource, **filters):
        """One page: {jobs, continuation}; pass continuation back until it is ""."""
        return self.call("scan", datasource=datasource, **filters)

    def history(self, datasource, job, continuation=""):
        """One page of a job's events (§6.14): {events, continuation}; each
        event is a HistoryEvent (§7.9): `at`, `type` and the event's fields.
        Pass continuation back until it is ""."""
        fields = {"datasource": datasource, "job": job}
        if continuation:
            fields["continuation"] = continuation
        return self.call("history", **fields)

    def history_all(self, datasource, job):
        """Every event of a job's history, oldest first (all pages)."""
        events, cont = [], ""
        while True:
            page = self.history(datasource, job, cont)
            events.extend(page["events"])
            cont = page["continuation"]
            if not cont:
                return events

    def retry(self, datasource, jobs=None, **fields):
        """Failed jobs back in the queue; with `jobs` (1..1000 ids) only
        those of them that are failed. An empty list is sent and refused
        (400), never widened to every failed job."""
        jobs = None if jobs is None else list(jobs)
        return self.call("retry", datasource=datasource, jobs=jobs, **fields)["retried"]

    def delete(self, datasource, status=None, jobs=None, **filters):
        """Deletes the jobs matching `status` and filters, or with `jobs`
        (1..1000 ids) those jobs whatever their status (a status given too
        still filters them). Neither status nor jobs: the broker says 400."""
        jobs = None if jobs is None else list(jobs)
        return self.call("delete", datasource=datasource, status=status, jobs=jobs, **filters)["deleted"]

    def stats(self):
        return self.call("stats")


class Feed(Subscription):
    """Every RequestEntry of one datasource after a timestamp, exactly once,
    in timestamp order (§11): subscribes, reads the log with `since`, skips
    duplicates by timestamp; a seq gap, or an idle `resync` period after
    which `latest` is newer, reads the log again. A seq that goes down (the
    datasource was deleted and re-created) restarts from timestamp 0.
    Entries of types other than "request" and "cancel" are skipped (§7.7).
    `last_timestamp`: the last entry returned; pass it as `after` to resume.
    """

    def __init__(self, driver, datasource, after=0, resync=1.0):
        super().__init__(driver, driver.requests_pub, p.request_topic(datasource), resync)
        self._driver = driver
        self.datasource = datasource
        self.last_timestamp = after   # last delivered
        self._upto = after            # last queued (timestamp)
        self._seq = None              # seq of the last entry queued
        try:
            self._recover()
        except BaseException:
            self.close()
            raise

    def decode(self, frame):
        return p.decode_request_entry(frame)

    def _delivered(self, entry):
        self.last_timestamp = entry["timestamp"]

    def _queue(self, entry):
        if entry["timestamp"] <= self._upto:
            return
        self._upto = entry["timestamp"]
        self._seq = entry["seq"]
        if entry["type"] in ("request", "cancel"):
            self._items.append(entry)

    def _arrived(self, entry):
        seq = entry["seq"]
        if self._seq is not None and seq < self._seq and entry["timestamp"] > self._upto:
            self._upto, self._seq = 0, None          # re-created: its old entries are gone
            self._recover()
        elif seq > (self._seq or 0) + 1 and entry["timestamp"] > self._upto:
            self._recover()          # a gap (or, seq unknown, maybe one): read it from the log
        else:
            self._queue(entry)

    def catch_up(self):
        ts = self._upto + 1
        while True:
            page = self._driver.since(self.datasource, ts, limit=1000)
            for e in page["requests"]:
                self._queue(e)
            if not page["more"] or page["next"] <= ts:
                return
            ts = page["next"]

    def tail_behind(self):
        newest = self._driver.latest(self.datasource)
        return newest is not None and newest["timestamp"] > self._upto
