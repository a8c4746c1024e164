"""End to end in secure mode (PROTOCOL.md §14): the Python binding with CURVE
credentials against a real ledgerq-broker started with --curve-secret and
--principals, on ephemeral loopback ports; and ledgerq.Credentials.

Environment: LEDGERQ_BROKER (the broker executable). The test writes its own
key files (zmq.curve_keypair) and principals file: an admin `ops`, a client
`app`, a worker `w` of datasource `q`.
"""

import os
import shutil
import sys
import tempfile
import time
import unittest

import zmq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import ledgerq  # noqa: E402
from tests.test_e2e import Broker  # noqa: E402

BROKER = os.environ.get("LEDGERQ_BROKER")
PRINCIPALS = (("ops", "admin ops"), ("app", "client app"), ("w", "worker w q"))


def write_key(path, key, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w") as f:
        f.write("# ledgerq CURVE key, written by test_secure.py\n\n%s\n" % key.decode("ascii"))
    os.chmod(path, mode)   # whatever the umask


def keygen(base):
    """Writes base.pub and base.secret (0600) as `ledgerq keygen` does; returns (public, secret)."""
    public, secret = zmq.curve_keypair()
    write_key(base + ".secret", secret, 0o600)
    write_key(base + ".pub", public, 0o644)
    return public.decode("ascii"), secret.decode("ascii")


def SecureBroker(keydir):
    """A broker in secure mode with the keys and principals of `keydir`."""
    return Broker(extra=("--curve-secret", os.path.join(keydir, "broker.secret"),
                         "--principals", os.path.join(keydir, "principals")))


class CredentialFiles(unittest.TestCase):
    """Credentials.from_files and from_env, without a broker."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ledgerq-py-keys-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.server_pub, _ = keygen(self.path("broker"))
        self.public, self.secret = keygen(self.path("me"))

    def path(self, name):
        return os.path.join(self.dir, name)

    def refused(self, fn, *args):
        with self.assertRaises(ledgerq.LedgerqError) as cm:
            fn(*args)
        self.assertEqual(cm.exception.code, ledgerq.BAD_REQUEST)
        return cm.exception.message

    def test_from_files(self):
        c = ledgerq.Credentials.from_files(self.path("broker.pub"), self.path("me.secret"))
        self.assertEqual((c.server_key, c.public_key, c.secret_key), (self.server_pub, self.public, self.secret))
        self.assertEqual(ledgerq.Credentials.from_files(self.server_pub, self.path("me.secret")), c)  # Z85 text
        self.assertNotIn(self.secret, repr(c))

    def test_a_key_file_whose_path_looks_like_a_key(self):
        name = "a" * 36 + ".pub"                       # 40 characters, valid Z85: the file is read all the same
        self.assertTrue(ledgerq.credentials.is_key(name))
        self.addCleanup(os.chdir, os.getcwd())
        os.chdir(self.dir)
        shutil.copy("broker.pub", name)
        self.assertEqual(ledgerq.Credentials.from_files(name, "me.secret").server_key, self.server_pub)

    def test_refuses_a_secret_file_others_may_read(self):
        secret = self.path("me.secret")
        os.chmod(secret, 0o644)
        message = self.refused(ledgerq.Credentials.from_files, self.path("broker.pub"), secret)
        self.assertEqual(message, "%s: a secret key file must be readable by its owner only (mode 0644; "
                                  "run chmod 600 %s)" % (secret, secret))
        os.chmod(secret, 0o640)
        self.assertIn("(mode 0640;", self.refused(ledgerq.Credentials.from_files, self.path("broker.pub"), secret))

    def test_refuses_bad_files_and_keys(self):
        self.assertEqual(self.refused(ledgerq.Credentials.from_files, self.path("broker.pub"), self.path("none")),
                         self.path("none") + ": cannot read")
        self.assertEqual(self.refused(ledgerq.Credentials.from_files, self.path("none.pub"), self.path("me.secret")),
                         self.path("none.pub") + ": cannot read")
        two = self.path("two.pub")
        with open(two, "w") as f:
            f.write("%s\n%s\n" % (self.public, self.server_pub))
        self.assertIn("not a public key file (one Z85 key of 40 characters)",
                      self.refused(ledgerq.Credentials.from_files, two, self.path("me.secret")))
        with self.assertRaises(ledgerq.LedgerqError):
            ledgerq.Credentials(self.server_pub, self.public, "x" * 39)

    def test_from_env(self):
        saved = dict(os.environ)

        def restore():
            os.environ.clear()
            os.environ.update(saved)
        self.addCleanup(restore)
        for name in ("LEDGERQ_SERVER_KEY", "LEDGERQ_SECRET_KEY_FILE", "LEDGERQ_SECRET_KEY"):
            os.environ.pop(name, None)
        self.assertIsNone(ledgerq.Credentials.from_env())
        os.environ["LEDGERQ_SERVER_KEY"] = ""
        self.assertIsNone(ledgerq.Credentials.from_env())
        want = ledgerq.Credentials(self.server_pub, self.public, self.secret)
        os.environ["LEDGERQ_SERVER_KEY"] = self.path("broker.pub")
        self.assertIn("neither LEDGERQ_SECRET_KEY_FILE nor LEDGERQ_SECRET_KEY",
                      self.refused(ledgerq.Credentials.from_env))
        os.environ["LEDGERQ_SECRET_KEY_FILE"] = self.path("me.secret")
        self.assertEqual(ledgerq.Credentials.from_env(), want)
        del os.environ["LEDGERQ_SECRET_KEY_FILE"]
        os.environ["LEDGERQ_SERVER_KEY"] = self.server_pub
        os.environ["LEDGERQ_SECRET_KEY"] = self.secret
        self.assertEqual(ledgerq.Credentials.from_env(), want)
        os.environ["LEDGERQ_SECRET_KEY"] = "not a key"
        self.assertEqual(self.refused(ledgerq.Credentials.from_env), "LEDGERQ_SECRET_KEY: not a Z85 secret key")


@unittest.skipUnless(BROKER, "LEDGERQ_BROKER is not set")
class SecureBrokerCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ledgerq-py-secure-")
        cls.server_pub, _ = keygen(os.path.join(cls.dir, "broker"))
        with open(os.path.join(cls.dir, "principals"), "w") as f:
            f.write("# public key (Z85)                          role    name    datasources\n")
            for name, principal in PRINCIPALS:
                public, _ = keygen(os.path.join(cls.dir, name))
                f.write("%s  %s\n" % (public, principal))
        cls.broker = None
        try:
            cls.broker = SecureBroker(cls.dir)
            with ledgerq.Driver(cls.broker.router, cls.broker.requests, timeout=5,
                                credentials=cls.creds("ops")) as ops:
                ops.ds_create("q")                     # the admin's key may
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.broker is not None:
            cls.broker.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def creds(cls, name):
        return ledgerq.Credentials.from_files(os.path.join(cls.dir, "broker.pub"),
                                              os.path.join(cls.dir, name + ".secret"))

    def closing(self, thing):
        self.addCleanup(thing.close)
        return thing

    def driver(self, name, timeout=5):
        return self.closing(ledgerq.Driver(self.broker.router, self.broker.requests, timeout=timeout,
                                           credentials=self.creds(name)))

    def client(self, client_id, name="app", timeout=5):
        return self.closing(ledgerq.Client(client_id, self.broker.router, self.broker.status, timeout=timeout,
                                           credentials=self.creds(name)))

    def worker(self, worker_name, name="w"):
        return self.closing(ledgerq.Worker("q", self.broker.router, name=worker_name, timeout=5,
                                           credentials=self.creds(name)))

    def forbidden(self, fn, *args, **kw):
        with self.assertRaises(ledgerq.LedgerqError) as cm:
            fn(*args, **kw)
        self.assertEqual(cm.exception.code, ledgerq.FORBIDDEN, cm.exception)
        return cm.exception


class Secure(SecureBrokerCase):
    def test_broker_is_in_secure_mode(self):
        self.assertEqual(self.broker.security, "curve")
        self.assertIn("q", [d["datasource"] for d in self.driver("ops").ds_list()])   # ops made it
        self.assertEqual(self.client("app").ping()["version"], 1)

    def test_submit_watch_dequeue_ack(self):
        app = self.client("app")
        with app.watch(resync=30) as watch:        # no idle resync: notices come over the CURVE SUB socket
            app.submit("q", "job-1", {"n": 1})
            w = self.worker("w:1")
            [job] = w.dequeue(wait_ms=5000)
            self.assertEqual((job["job"], job["client"], job["worker"]), ("job-1", "app", "w:1"))
            self.assertEqual(job["request"].value(), {"n": 1})
            ops = self.worker("ops", name="ops")                # the lease is w's: even an admin may not ack it
            self.forbidden(ops.ack, "job-1", "success", token=job["token"])
            w.ack_success("job-1", {"ok": True})
            seen = []
            while not seen or seen[-1]["data"]["status"] not in ledgerq.TERMINAL:
                n = watch.next(5)
                self.assertIsNotNone(n, "no notice after %r" % [x["data"]["status"] for x in seen])
                seen.append(n)
            self.assertEqual([(n["job"], n["data"]["status"]) for n in seen],
                             [("job-1", "submitted"), ("job-1", "accepted"), ("job-1", "complete")])
            self.assertLess(watch.recovered, len(seen))     # at least one came by publication
        self.assertEqual(seen[-1]["data"]["response"].value(), {"ok": True})
        record = app.status("q", "job-1")
        self.assertEqual((record["status"], record["worker"]), ("complete", "w:1"))

        # The worker's key also serves q in the driver style: its Feed subscribes under it.
        with self.driver("w").follow("q", resync=0.2) as feed:
            e = feed.next(5)
            self.assertEqual((e["job"], e["client"]), ("job-1", "app"))
            app.submit("q", "job-2", 2)
            self.assertEqual(feed.next(5)["job"], "job-2")

    def test_role_table(self):
        self.forbidden(self.client("someone-else", name="app").submit, "q", "x", 1)   # the key is client "app"
        self.forbidden(self.driver("app").ds_create, "other")
        self.forbidden(self.worker("w:1", name="app").dequeue)
        self.forbidden(self.worker("py-worker:1").dequeue)      # the name must be "w" or begin with "w:"
        self.assertIsInstance(self.worker("w").dequeue(dry_run=True), list)

    def test_unknown_key_gets_no_answer(self):
        public, secret = zmq.curve_keypair()
        stranger = ledgerq.Credentials(self.server_pub, public, secret)
        d = self.closing(ledgerq.Driver(self.broker.router, self.broker.requests, timeout=0.3,
                                        credentials=stranger))
        c = self.closing(ledgerq.Client("app", self.broker.router, self.broker.status, timeout=0.3,
                                        credentials=stranger))
        plain = self.closing(ledgerq.Driver(self.broker.router, self.broker.requests, timeout=0.3))
        start = time.monotonic()
        for call in (d.ping, d.ping, d.ds_list, lambda: c.submit("q", "s", 1), plain.ping, plain.ping):
            with self.assertRaises(ledgerq.Timeout):
                call()
        self.assertLess(time.monotonic() - start, 10)


if __name__ == "__main__":
    unittest.main()
