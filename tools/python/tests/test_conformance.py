"""The conformance vectors of PROTOCOL.md §12 against ledgerq.protocol.

Every vector of proto-spec/vectors/*.json: a valid one decodes to its
`expected` fields (and, when `canonical`, the encoder reproduces its bytes);
an invalid one is refused with its code, a message holding its substring, and
its rid when given. Vectors marked `pending` (a known bug of the C++ codec)
are run too: they state the spec, which this client follows.

LEDGERQ_VECTORS names the vectors folder (default: the repository's).
"""

import json
import os
import random
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ledgerq import protocol as p  # noqa: E402

VECTORS = os.environ.get("LEDGERQ_VECTORS") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "proto-spec", "vectors")


def load(name):
    with open(os.path.join(VECTORS, name), encoding="utf-8") as f:
        return json.load(f)["vectors"]


def expand_hex(h):
    """A vector's hex, or {"concat": [hex, {"repeat": hex, "times": n}, ...]}, as bytes."""
    if isinstance(h, str):
        return bytes.fromhex(h)
    out = []
    for part in h["concat"]:
        out.append(bytes.fromhex(part) if isinstance(part, str) else bytes.fromhex(part["repeat"]) * part["times"])
    return b"".join(out)


def to_json(v):
    """A decoded value in the vectors' JSON form (generate.py's docstring)."""
    if isinstance(v, p.Body):
        return {"msgpack": v.raw.hex()}
    if isinstance(v, str):
        b = v.encode("utf-8", "surrogateescape")
        try:
            return b.decode("utf-8")
        except UnicodeDecodeError:
            return {"str_hex": b.hex()}
    if isinstance(v, dict):
        return {k: to_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [to_json(x) for x in v]
    return v


def normalize_expected(v):
    """Expands the {"msgpack": concat} forms of an expected value."""
    if isinstance(v, dict):
        if set(v) == {"msgpack"}:
            return {"msgpack": expand_hex(v["msgpack"]).hex()}
        return {k: normalize_expected(x) for k, x in v.items()}
    if isinstance(v, list):
        return [normalize_expected(x) for x in v]
    return v


def from_json(v):
    """An expected value as the Python values the encoders take."""
    if isinstance(v, dict):
        if set(v) == {"msgpack"}:
            return p.Body(expand_hex(v["msgpack"]))
        if set(v) == {"str_hex"}:
            return bytes.fromhex(v["str_hex"]).decode("utf-8", "surrogateescape")
        return {k: from_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [from_json(x) for x in v]
    return v


class VectorCase(unittest.TestCase):
    """Helpers shared by the vector files."""

    maxDiff = 2000

    def run_vectors(self, name, decode, encode):
        vectors = load(name)
        self.assertTrue(vectors, name)
        for v in vectors:
            with self.subTest(vector=v["name"]):
                frame = expand_hex(v["hex"])
                if v["valid"]:
                    got = decode(v, frame)
                    self.assertEqual(to_json(got), normalize_expected(v["expected"]))
                    if v.get("canonical") and encode is not None:
                        self.assertEqual(encode(v, from_json(v["expected"])).hex(), frame.hex())
                else:
                    with self.assertRaises(p.ProtocolError) as cm:
                        decode(v, frame)
                    e = v["error"]
                    self.assertEqual(cm.exception.code, e["code"], cm.exception.message)
                    self.assertIn(e["message"], cm.exception.message)
                    if "rid" in e:
                        self.assertEqual(cm.exception.rid, e["rid"])


class RequestVectors(VectorCase):
    def test_requests(self):
        self.run_vectors("requests.json", lambda v, f: p.decode_request(f), lambda v, m: p.encode_request(m))


class ReplyVectors(VectorCase):
    def test_replies(self):
        self.run_vectors("replies.json", lambda v, f: p.decode_reply(v["command"], f),
                         lambda v, m: p.encode_reply(v["command"], m))


class NoticeVectors(VectorCase):
    @staticmethod
    def decode(v, frame):
        if v["kind"] == "status_notice":
            return p.decode_status_notice(frame)
        return p.decode_request_entry(frame)

    @staticmethod
    def encode(v, m):
        if v["kind"] == "status_notice":
            return p.encode_status_notice(m)
        return p.encode_request_entry(m)

    def test_notices(self):
        self.run_vectors("notices.json", self.decode, self.encode)

    def test_topics(self):
        for v in load("notices.json"):
            if not v["valid"]:
                continue
            with self.subTest(vector=v["name"]):
                m = from_json(v["expected"])
                topic = p.status_topic(m["client"]) if v["kind"] == "status_notice" else p.request_topic(
                    m["datasource"])
                self.assertEqual(topic.hex(), v["topic"])


class SignatureVectors(unittest.TestCase):
    def test_signatures(self):
        for v in load("signature.json"):
            with self.subTest(vector=v["name"]):
                frame = bytes.fromhex(v["hex"])
                if v["valid"]:
                    p.check_signature(frame)
                    self.assertEqual(p.SIGNATURE, frame)
                else:
                    with self.assertRaises(p.ProtocolError) as cm:
                        p.check_signature(frame)
                    self.assertEqual(cm.exception.code, v["error"]["code"])
                    # The vectors word the message as the broker; we say "this client speaks 1".
                    self.assertIn(v["error"]["message"].split(";")[0], cm.exception.message)


class Hostile(unittest.TestCase):
    """Random and mutated bytes: the decoders raise ProtocolError or succeed,
    never anything else."""

    def frames(self):
        rng = random.Random(1234)
        seeds = []
        for name in ("requests.json", "replies.json", "notices.json"):
            for v in load(name):
                if isinstance(v["hex"], str):
                    seeds.append(bytes.fromhex(v["hex"]))
        for _ in range(3000):
            s = bytearray(rng.choice(seeds))
            op = rng.randrange(4)
            if op == 0 and s:
                s = s[:rng.randrange(len(s))]                       # truncated
            elif op == 1 and s:
                for _ in range(rng.randrange(1, 4)):
                    s[rng.randrange(len(s))] = rng.randrange(256)   # flipped bytes
            elif op == 2:
                s = bytes(rng.randrange(256) for _ in range(rng.randrange(64)))   # noise
            else:
                i = rng.randrange(len(s) + 1)
                s[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8)))   # inserted
            yield bytes(s)
        yield b"\x91" * 100000 + b"\xc0"         # deep nesting
        yield b"\xdd\x00\x03\xff\xff" + b"\xc0"  # an array that claims more than is there

    def test_no_crash(self):
        decoders = [p.decode_request, p.decode_status_notice, p.decode_request_entry, p.peek_rid,
                    lambda f: p.decode_reply("dequeue", f), lambda f: p.decode_reply("missed", f)]
        for frame in self.frames():
            for d in decoders:
                try:
                    d(frame)
                except p.ProtocolError as e:
                    self.assertIn(e.code, (400, 413))


class Encoders(unittest.TestCase):
    def test_bodies_are_canonical(self):
        self.assertEqual(p.Body.from_msgpack(b"\x92\xcd\x00\x01\xd9\x01a").raw, b"\x92\x01\xa1a")
        self.assertEqual(p.Body.of({"city": "Oslo", "days": 3}).value(), {"city": "Oslo", "days": 3})

    def test_local_checks(self):
        with self.assertRaises(p.ProtocolError) as cm:
            p.encode_request({"cmd": "status", "rid": 1, "datasource": "d", "job": "j" * 129, "client": "c"})
        self.assertEqual(cm.exception.code, 413)
        with self.assertRaises(p.ProtocolError):
            p.encode_request({"cmd": "status", "rid": 1, "datasource": "a b", "job": "j", "client": "c"})

    def test_non_utf8_ids_round_trip(self):
        job = b"\xff\xfe\x01job".decode("utf-8", "surrogateescape")
        frame = p.encode_request({"cmd": "status", "rid": 1, "datasource": "d", "job": job, "client": "c"})
        self.assertIn(b"\xff\xfe\x01job", frame)
        self.assertEqual(p.decode_request(frame)["job"], job)


if __name__ == "__main__":
    unittest.main()
