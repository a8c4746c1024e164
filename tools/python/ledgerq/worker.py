"""Worker: one worker of a datasource's pool in the work-queue style
(PROTOCOL.md §6.8 to §6.10, §10): dequeue (with wait), ack, heartbeat and
checkpoint under fencing tokens."""

import uuid

from . import protocol as p
from .connection import Connection

DEFAULT_ROUTER = "tcp://127.0.0.1:5555"


class Worker(Connection):
    """Leases jobs of `datasource` as worker `name` (default "py-worker:" and
    16 hex digits). `types`: the job types it takes (None: every type,
    untyped included). `lease_ms`: the lease each dequeue asks for (None:
    the datasource's). The Worker remembers the token of each job it holds,
    so ack/heartbeat/checkpoint need only the job id. With `credentials`
    (secure mode, §14), `name` must be the key's principal name or begin
    with "name:" (the default name is not).
    """

    def __init__(self, datasource, router=DEFAULT_ROUTER, name=None, types=None, lease_ms=None, timeout=10.0,
                 context=None, credentials=None):
        super().__init__(router, timeout, context, credentials)
        self.datasource = datasource
        self.name = name or "py-worker:" + uuid.uuid4().hex[:16]
        self.types = None if types is None else list(types)
        self.lease_ms = lease_ms
        self.tokens = {}            # job id -> fencing token of the lease this worker holds
        self.last_ack_results = []  # ItemResults of the acks carried by the last dequeue

    def dequeue(self, limit=1, wait_ms=None, acks=None, dry_run=False):
        """Leases up to `limit` jobs; with `wait_ms`, waits that long for one
        (§10.4). Returns JobInfo dicts (§7.2) with their `request` Body.
        `acks`: AckItem dicts (§7.6) to apply first, results in
        last_ack_results. Raises LedgerqError 302 when rate limited (nothing
        applied: send it again later). A dequeue that times out is sent once
        more with the same dequeue_id: the broker answers the repeat with the
        first one's leases if the first arrived, so none sits held by nobody
        (the Timeout is raised after the second)."""
        acks = [self._ack_item(**a) for a in acks or ()]
        fields = dict(datasource=self.datasource, worker=self.name, limit=limit, types=self.types,
                      lease_ms=self.lease_ms, wait_ms=wait_ms, dry_run=dry_run, acks=acks,
                      dequeue_id="dq:" + uuid.uuid4().hex[:16])
        timeout = self.timeout + (wait_ms or 0) / 1000.0
        try:
            reply = self.call("dequeue", timeout=timeout, **fields)
        except p.Timeout:
            reply = self.call("dequeue", timeout=timeout, **fields)
        self.last_ack_results = reply.get("acks", [])
        self._forget(acks)
        if not dry_run:
            for j in reply["jobs"]:
                self.tokens[j["job"]] = j["token"]
        return reply["jobs"]

    def _ack_item(self, job, outcome, response=None, error=None, retry_delay_ms=None, custom_status=None,
                  token=None):
        item = {"job": job, "token": self._token(job, token), "outcome": outcome, "error": error,
                "retry_delay_ms": retry_delay_ms, "custom_status": custom_status}
        if response is not None:
            item["response"] = p.Body.of(response)
        return {k: v for k, v in item.items() if v is not None}

    def _token(self, job, token):
        if token is not None:
            return token
        if job not in self.tokens:
            raise p.LedgerqError(p.CONFLICT, "this worker holds no lease on job '%s'" % job)
        return self.tokens[job]

    def ack_many(self, acks):
        """Reports several outcomes (AckItem dicts without tokens) in one
        `ack`; returns one ItemResult per ack (§6.9)."""
        items = [self._ack_item(**a) for a in acks]
        results = self.call("ack", datasource=self.datasource, acks=items)["results"]
        self._forget(items)
        return results

    def _forget(self, acks):
        """After acks under the tokens held, the jobs are no longer held
        (applied, or refused because the lease was lost)."""
        for a in acks:
            if self.tokens.get(a["job"]) == a["token"]:
                del self.tokens[a["job"]]

    def ack(self, job, outcome, **fields):
        """Reports one outcome ("success", "failure", "cancelled"); raises
        LedgerqError with the item's code (409: the lease was lost)."""
        result = self.ack_many([dict(fields, job=job, outcome=outcome)])[0]
        if result["code"] != p.OK:
            raise p.LedgerqError(result["code"], result.get("message", ""))

    def ack_success(self, job, response=None, custom_status=None):
        self.ack(job, "success", response=response, custom_status=custom_status)

    def ack_failure(self, job, error="", retry_delay_ms=None, custom_status=None):
        self.ack(job, "failure", error=error, retry_delay_ms=retry_delay_ms, custom_status=custom_status)

    def ack_cancelled(self, job, error=None, custom_status=None):
        self.ack(job, "cancelled", error=error, custom_status=custom_status)

    def heartbeat(self, job, lease_ms=None):
        """Extends the lease to now + lease_ms (§10.6); returns the record.
        Its `cancel_requested` tells whether the client asked to cancel."""
        return self.checkpoint(job, lease_ms=lease_ms)

    def checkpoint(self, job, lease_ms=None, request=None, custom_status=None, to_pending=False, run_after=None,
                   attempts=None):
        """A checkpoint (§6.10): heartbeat, new body or custom status, or a
        release (`to_pending`, then this worker no longer holds the job)."""
        record = self.call("checkpoint", datasource=self.datasource, job=job, token=self._token(job, None),
                           lease_ms=lease_ms, request=None if request is None else p.Body.of(request),
                           custom_status=custom_status, to_pending=to_pending, run_after=run_after,
                           attempts=attempts)["status"]
        if to_pending:
            self.tokens.pop(job, None)
        return record
