"""End to end: the Python binding against a real ledgerq-broker, and against
libclient (C++) through tests/cpp_peer.

Environment: LEDGERQ_BROKER (the broker executable), LEDGERQ_CPP_PEER (the
cpp_peer executable; the tests that need it are skipped without it).
One broker per test class, on ephemeral loopback ports, in a fresh
temporary directory; every test uses its own datasource and client ids.
"""

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import ledgerq  # noqa: E402

BROKER = os.environ.get("LEDGERQ_BROKER")
CPP_PEER = os.environ.get("LEDGERQ_CPP_PEER")


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


class Broker:
    """A broker process; `router`, `status`, `requests` are its bound endpoints
    and `security` its mode ("plain" or "curve"). `extra`: more flags."""

    def __init__(self, extra=()):
        self.dir = tempfile.mkdtemp(prefix="ledgerq-py-")
        self.proc = subprocess.Popen(
            [BROKER, "--data", os.path.join(self.dir, "data"), "--router", "tcp://127.0.0.1:*",
             "--status-pub", "tcp://127.0.0.1:*", "--requests-pub", "tcp://127.0.0.1:*", "--sync", "none",
             "--log-level", "warn", *extra],
            stdout=subprocess.PIPE, stderr=None, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 15)
        line = self.proc.stdout.readline() if ready else ""
        if not line.startswith("ledgerq-broker ready:"):
            self.stop()
            raise RuntimeError("the broker did not start: %r" % line)
        fields = dict(kv.split("=", 1) for kv in line.split(":", 1)[1].split())
        self.router, self.status, self.requests = fields["router"], fields["status"], fields["requests"]
        self.security = fields.get("security")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@unittest.skipUnless(BROKER, "LEDGERQ_BROKER is not set")
class BrokerCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker()

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()

    def setUp(self):
        self.ds = unique("ds")
        self.driver = self.closing(ledgerq.Driver(self.broker.router, self.broker.requests, timeout=5))
        self.assertTrue(self.driver.ds_create(self.ds))

    def closing(self, thing):
        self.addCleanup(thing.close)
        return thing

    def client(self, client_id=None):
        return self.closing(ledgerq.Client(client_id or unique("app"), self.broker.router, self.broker.status,
                                           timeout=5))

    def worker(self, **kw):
        return self.closing(ledgerq.Worker(self.ds, self.broker.router, timeout=5, **kw))

    def next_notice(self, watch, job, status, timeout=5.0):
        """The next notice of `job` with `status` (others of the same watch are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            n = watch.next(max(0.0, deadline - time.monotonic()))
            self.assertIsNotNone(n, "no %s notice for %s" % (status, job))
            if n["job"] == job and n["data"]["status"] == status:
                return n


class Basics(BrokerCase):
    def test_ping(self):
        info = self.driver.ping()
        self.assertEqual(info["version"], 1)
        self.assertGreater(info["now"], 1_600_000_000_000_000)

    def test_datasources(self):
        self.assertFalse(self.driver.ds_create(self.ds))
        opts = self.driver.ds_configure(self.ds, {"max_pending": 1, "lease_ms": 5000})
        self.assertEqual(opts, {"max_pending": 1, "lease_ms": 5000})
        mine = [d for d in self.driver.ds_list() if d["datasource"] == self.ds]
        self.assertEqual(mine[0]["options"], opts)
        c = self.client()
        c.submit(self.ds, "a", 1)
        with self.assertRaises(ledgerq.LedgerqError) as cm:
            c.submit(self.ds, "b", 2)
        self.assertEqual(cm.exception.code, ledgerq.QUEUE_FULL)
        self.assertTrue(cm.exception.retryable)
        self.assertTrue(self.driver.ds_delete(self.ds))

    def test_lookup_gathers_a_reply_cut_by_its_byte_budget(self):
        c = self.client()
        ids = ["big%d" % i for i in range(5)]
        for i, job in enumerate(ids):
            c.submit(self.ds, job, bytes([97 + i]) * 400_000)   # 2 MB in all: the broker answers in parts
        found = self.driver.lookup(self.ds, ids[:2] + ["missing"] + ids[2:], bodies=True)
        self.assertEqual([j["job"] for j in found], ids)
        self.assertEqual([j["request"].value() for j in found], [bytes([97 + i]) * 400_000 for i in range(5)])

    def test_history_lists_a_jobs_events(self):
        c = self.client()
        r = c.submit(self.ds, "h1", {"n": 1})
        c.submit(self.ds, "h2", {"n": 2})
        self.driver.update(self.ds, "h1", "accepted")
        self.driver.update(self.ds, "h1", "complete", response={"ok": True})
        events = self.driver.history_all(self.ds, "h1")
        self.assertEqual([e["type"] for e in events], ["submit", "status", "status"])
        self.assertEqual(events[0]["at"], r["timestamp"])
        self.assertEqual(events[0]["request"].value(), {"n": 1})
        self.assertEqual([e.get("status") for e in events[1:]], ["accepted", "complete"])
        self.assertEqual(self.driver.history(self.ds, "h1")["continuation"], "")
        with self.assertRaises(ledgerq.LedgerqError) as cm:
            self.driver.history(self.ds, "nobody")
        self.assertEqual(cm.exception.code, ledgerq.NOT_FOUND)

    def test_retry_and_delete_by_id(self):
        c = self.client()
        for job in ("f1", "f2", "s1"):
            c.submit(self.ds, job, {"job": job})
        for job in ("f1", "f2"):
            self.driver.update(self.ds, job, "failed", error="broken")
        self.assertEqual(self.driver.retry(self.ds, jobs=["f2", "s1", "missing"]), 1)
        self.assertEqual([c.status(self.ds, j)["status"] for j in ("f1", "f2", "s1")],
                         ["failed", "retrying", "submitted"])
        with self.assertRaises(ledgerq.LedgerqError) as cm:
            self.driver.retry(self.ds, jobs=[])       # sent, and refused: never "every failed job"
        self.assertEqual(cm.exception.code, ledgerq.BAD_REQUEST)
        self.assertEqual(c.status(self.ds, "f1")["status"], "failed")
        self.assertEqual(self.driver.delete(self.ds, jobs=["s1", "f1"]), 2)
        self.assertEqual([j["job"] for j in self.driver.lookup(self.ds, ["f1", "f2", "s1"])], ["f2"])

    def test_submit_status_cancel_and_errors(self):
        c = self.client()
        body = {"city": "Oslo", "days": 3}
        r = c.submit(self.ds, "job-1", body, options={"priority": 2, "custom_status": "queued"})
        self.assertFalse(r["duplicate"])
        again = c.submit(self.ds, "job-1", dict(body))
        self.assertTrue(again["duplicate"])
        self.assertEqual(again["timestamp"], r["timestamp"])
        with self.assertRaises(ledgerq.LedgerqError) as cm:
            c.submit(self.ds, "job-1", {"other": True})
        self.assertEqual(cm.exception.code, ledgerq.CONFLICT)
        rec = c.status(self.ds, "job-1")
        self.assertEqual((rec["status"], rec["priority"], rec["custom_status"]), ("submitted", 2, "queued"))
        with self.assertRaises(ledgerq.LedgerqError) as cm:
            self.client().status(self.ds, "job-1")
        self.assertEqual(cm.exception.code, ledgerq.FORBIDDEN)
        with self.assertRaises(ledgerq.LedgerqError) as cm:
            c.submit(unique("nods"), "x", 1)
        self.assertEqual(cm.exception.code, ledgerq.NOT_FOUND)
        self.assertEqual(c.cancel(self.ds, "job-1")["status"], "cancelled")
        results = c.submit_batch(self.ds, [{"job": "b1", "request": [1]}, {"job": "job-1", "request": {"x": 1}},
                                           {"job": "b2", "request": None, "options": {"type": "t"}}])
        self.assertEqual([x["code"] for x in results], [200, 409, 200])
        with self.assertRaises(ledgerq.ProtocolError):     # refused locally, never sent
            c.status(self.ds, "j" * 129)

    def test_non_utf8_ids(self):
        job = b"\xffjob\x80".decode("utf-8", "surrogateescape")
        c = self.client()
        c.submit(self.ds, job, b"\x00\x01")
        rec = c.status(self.ds, job)
        self.assertEqual(rec["job"], job)
        w = self.worker()
        [leased] = w.dequeue()
        self.assertEqual(leased["request"].value(), b"\x00\x01")


class Workers(BrokerCase):
    def test_lease_heartbeat_ack_and_fencing(self):
        c = self.client()
        with c.watch() as watch:
            c.submit(self.ds, "j1", {"n": 1}, options={"attempts": 3})
            w = self.worker(name="py:1", lease_ms=60_000)
            [job] = w.dequeue(limit=5)
            self.assertEqual((job["job"], job["worker"], job["attempts_made"], job["token"]), ("j1", "py:1", 1, 1))
            self.assertEqual(job["request"].value(), {"n": 1})
            rec = w.heartbeat("j1", lease_ms=30_000)
            self.assertEqual(rec["status"], "accepted")
            self.assertFalse(rec["cancel_requested"])
            w.ack_failure("j1", "try again", retry_delay_ms=0)
            self.assertEqual(c.status(self.ds, "j1")["status"], "retrying")
            [job] = w.dequeue()
            self.assertEqual(job["token"], 2)
            with self.assertRaises(ledgerq.LedgerqError) as cm:   # a stale token is fenced off
                w.ack("j1", "success", token=1)
            self.assertEqual(cm.exception.code, ledgerq.CONFLICT)
            w.ack_success("j1", {"ok": True})
            seen = []
            for _ in range(6):
                n = watch.next(5)
                self.assertIsNotNone(n)
                seen.append(n["data"]["status"])
            self.assertEqual(seen, ["submitted", "accepted", "accepted", "retrying", "accepted", "complete"])
            self.assertEqual(n["data"]["response"].value(), {"ok": True})

    def test_dequeue_waits_and_piggybacks_acks(self):
        c = self.client()
        w = self.worker()
        start = time.monotonic()
        self.assertEqual(w.dequeue(wait_ms=300), [])
        self.assertGreaterEqual(time.monotonic() - start, 0.25)
        c.submit(self.ds, "a", 1)
        c.submit(self.ds, "b", 2)
        [a] = w.dequeue()
        [b] = w.dequeue(acks=[{"job": "a", "outcome": "success", "response": "A"}])
        self.assertEqual(w.last_ack_results, [{"job": "a", "code": 200}])
        self.assertEqual(c.status(self.ds, "a")["response"].value(), "A")
        rec = w.checkpoint("b", request={"step": 2}, to_pending=True)
        self.assertEqual(rec["status"], "submitted")
        [b] = w.dequeue(dry_run=True)
        self.assertEqual(b["request"].value(), {"step": 2})


class Watching(BrokerCase):
    def test_late_watch_recovers_from_the_log(self):
        c = self.client()
        for i in range(3):
            c.submit(self.ds, "j%d" % i, i)
        with c.watch(after=0) as watch:          # subscribes after the notices were published
            got = [watch.next(5) for _ in range(3)]
            self.assertEqual([n["seq"] for n in got], [1, 2, 3])
            self.assertEqual(watch.recovered, 3)
            self.assertIsNone(watch.next(0.3))
            last = watch.last_seq
        for i in range(3, 5):                    # while nobody watches
            c.submit(self.ds, "j%d" % i, i)
        with c.watch(after=last) as watch:       # reopen where it stopped
            got = [watch.next(5) for _ in range(2)]
            self.assertEqual([(n["seq"], n["job"]) for n in got], [(4, "j3"), (5, "j4")])

    def _drain_publications(self, sub, n):
        """Takes n publications off a SUB socket (as a PUB at its high-water mark would drop them)."""
        for _ in range(n):
            self.assertTrue(sub.poll(5000))
            sub.recv_multipart()

    def test_gap_in_the_middle_and_at_the_tail(self):
        c = self.client()
        with c.watch(after=0, resync=0.2) as watch:
            c.submit(self.ds, "warm", 0)
            self.assertEqual(watch.next(5)["seq"], 1)       # the subscription is live
            for i in range(3):
                c.submit(self.ds, "g%d" % i, i)
            self._drain_publications(watch._sub, 2)          # seq 2 and 3 are lost
            got = [watch.next(5) for _ in range(3)]          # seq 4 arrives: the gap is read from the log
            self.assertEqual([n["seq"] for n in got], [2, 3, 4])
            c.submit(self.ds, "tail", 9)
            self._drain_publications(watch._sub, 1)          # the last one is lost: only a resync finds it
            n = watch.next(5)
            self.assertEqual((n["seq"], n["job"]), (5, "tail"))
            self.assertIsNone(watch.next(0.5))               # exactly once

    def test_wait_for(self):
        c = self.client()
        c.submit(self.ds, "w", 1)
        self.assertIsNone(c.wait_for(self.ds, "w", 0.3))
        w = self.worker()
        w.dequeue()
        w.ack_success("w", "done")
        rec = c.wait_for(self.ds, "w", 5)
        self.assertEqual((rec["status"], rec["response"].value()), ("complete", "done"))


class Driving(BrokerCase):
    def test_follow_update_and_gaps(self):
        c = self.client()
        c.submit(self.ds, "before", {"i": 0})
        with self.driver.follow(self.ds, resync=0.2) as feed:
            e = feed.next(5)
            self.assertEqual((e["type"], e["job"], e["seq"], e["request"].value()), ("request", "before", 1, {"i": 0}))
            self.driver.update(self.ds, "before", "complete", response={"r": 0})
            for i in range(1, 4):
                c.submit(self.ds, "j%d" % i, {"i": i}, options={"type": "t", "priority": 3})
            self._drop(feed, 2)
            got = [feed.next(5) for _ in range(3)]
            self.assertEqual([x["job"] for x in got], ["j1", "j2", "j3"])
            self.assertEqual(got[0]["options"], {"priority": 3, "type": "t"})
            c.cancel(self.ds, "j1")
            e = feed.next(5)
            self.assertEqual((e["type"], e["job"], e.get("request")), ("cancel", "j1", None))
            c.submit(self.ds, "tail", 1)
            self._drop(feed, 1)
            self.assertEqual(feed.next(5)["job"], "tail")
            self.assertIsNone(feed.next(0.4))
            resume = feed.last_timestamp
        self.assertEqual(c.status(self.ds, "before")["response"].value(), {"r": 0})
        with self.assertRaises(ledgerq.LedgerqError) as cm:
            self.driver.update(self.ds, "before", "failed")
        self.assertEqual(cm.exception.code, ledgerq.CONFLICT)
        with self.driver.follow(self.ds, after=resume) as feed:
            self.assertIsNone(feed.next(0.3))

    def _drop(self, feed, n):
        for _ in range(n):
            self.assertTrue(feed._sub.poll(5000))
            feed._sub.recv_multipart()


@unittest.skipUnless(BROKER and CPP_PEER, "LEDGERQ_BROKER or LEDGERQ_CPP_PEER is not set")
class WithLibclient(BrokerCase):
    """Python and C++ (libclient) peers on one broker, both ways round."""

    def peer(self, *args):
        return subprocess.Popen([CPP_PEER, *args], stdout=subprocess.PIPE, text=True)

    def finish(self, proc):
        out, _ = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, out)
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def python_submits(self, mode):
        c = self.client()
        bodies = {"p%d" % i: {"city": "Oslo", "day": i} for i in range(3)}
        with c.watch() as watch:
            proc = self.peer(mode, self.broker.router, self.broker.requests, self.ds, str(len(bodies)))
            for job, body in bodies.items():
                c.submit(self.ds, job, body)
            lines = self.finish(proc)
            self.assertEqual(sorted(x["job"] for x in lines), sorted(bodies))
            self.assertTrue(all(x["client"] == c.client_id for x in lines))
            for job, body in bodies.items():
                n = self.next_notice(watch, job, "complete")
                self.assertEqual(n["data"]["response"].value(), {"by": "cpp", "job": job, "echo": body})

    def test_python_client_cpp_worker(self):
        self.python_submits("worker")

    def test_python_client_cpp_driver(self):
        self.python_submits("driver")

    def test_cpp_client_python_worker(self):
        client_id = unique("cpp")
        body = {"city": "Bergen", "days": [1, 2]}
        proc = self.peer("submit", self.broker.router, self.broker.status, self.ds, client_id, "c1", json.dumps(body))
        w = self.worker()
        [job] = w.dequeue(wait_ms=10_000)
        self.assertEqual((job["job"], job["client"], job["request"].value()), ("c1", client_id, body))
        w.ack_success("c1", {"by": "python", "echo": job["request"]})
        [line] = self.finish(proc)
        self.assertEqual(line, {"status": "complete", "response": {"by": "python", "echo": body}, "error": ""})

    def test_cpp_client_python_driver(self):
        client_id = unique("cpp")
        with self.driver.follow(self.ds) as feed:
            proc = self.peer("submit", self.broker.router, self.broker.status, self.ds, client_id, "c2", "[1,2,3]")
            e = feed.next(10)
            self.assertEqual((e["job"], e["client"], e["request"].value()), ("c2", client_id, [1, 2, 3]))
            self.driver.update(self.ds, "c2", "accepted")
            self.driver.update(self.ds, "c2", "failed", error="no such city")
        [line] = self.finish(proc)
        self.assertEqual(line, {"status": "failed", "response": None, "error": "no such city"})


if __name__ == "__main__":
    unittest.main()
