"""LDGQ/1 frames: signature, topics, every request, reply and publication map,
with their canonical encoders and strict decoders (PROTOCOL.md §3 to §8).

Written from proto-spec/PROTOCOL.md; one schema per map, in the spec's table
order, drives both directions. Decoded maps are plain dicts keyed by the
spec's field names:

* msgpack str -> Python str. Ids are bytes (any byte but NUL, §3.1), so they
  are decoded as UTF-8 with the "surrogateescape" error handler: non-UTF-8
  bytes survive the round trip, and encoders accept str or bytes.
* integers -> int, booleans -> bool;
* a body (`any`, §4 rule 10) -> Body, holding its canonical msgpack bytes;
* an optional field that is absent, nil, or at its default (§4 rules 4, 5)
  is left out of the dict (use dict.get with the spec's default).

Decoders raise ProtocolError(code, message, rid) for anything the spec
refuses; they never raise anything else on hostile bytes.
"""

import json
import re

import msgpack

from . import msgpack_tree as mt

# --- frames (§3.1) ---------------------------------------------------------------

VERSION = 1
SIGNATURE = b"LDGQ" + bytes([VERSION])

MAX_FRAME = (1 << 20) + (64 << 10)    # a request, reply or publication body frame (§5)
MAX_BODY = 1 << 20                    # a body value, canonically encoded (§5)
MAX_BODY_DEPTH = 32
MAX_FRAME_DEPTH = 36
MAX_PROTOCOL_ARRAY = 10_000

# --- status codes (§8.1) ------------------------------------------------------------

OK = 200
QUEUE_FULL = 301
RATE_LIMITED = 302
BAD_REQUEST = 400
FORBIDDEN = 403
NOT_FOUND = 404
CONFLICT = 409
TOO_LARGE = 413
INTERNAL = 500

CODE_NAMES = {OK: "ok", QUEUE_FULL: "queue_full", RATE_LIMITED: "rate_limited", BAD_REQUEST: "bad_request",
              FORBIDDEN: "forbidden", NOT_FOUND: "not_found", CONFLICT: "conflict", TOO_LARGE: "too_large",
              INTERNAL: "internal"}

STATUSES = ("submitted", "accepted", "complete", "cancelled", "forbidden", "failed", "retrying")
TERMINAL = frozenset(("complete", "cancelled", "forbidden", "failed"))


def is_retryable(code):
    """By class (§8.1): 3xx retry later, 5xx retry; 2xx and 4xx do not. A
    TIMEOUT (no reply in time) is retryable too, as in libclient: every
    command is safe to send again (a dequeue with the same dequeue_id gets the
    same leases)."""
    return 300 <= code < 400 or 500 <= code < 600 or code == TIMEOUT


class LedgerqError(Exception):
    """A request the broker (or this library) refused. `code` is a status code
    of §8.1 (or TIMEOUT); `message` is for humans."""

    def __init__(self, code, message="", rid=None):
        super().__init__("%d %s: %s" % (code, CODE_NAMES.get(code, "error"), message))
        self.code = code
        self.message = message
        self.rid = rid

    @property
    def retryable(self):
        return is_retryable(self.code)


class ProtocolError(LedgerqError):
    """A frame that does not follow the spec. `rid` is the request id the
    error reply would carry (0 when it could not be read)."""


TIMEOUT = 1000   # not a wire code: no reply in time (the request may or may not have been applied)


class Timeout(LedgerqError):
    def __init__(self, message):
        super().__init__(TIMEOUT, message)


def check_signature(frame):
    """Raises ProtocolError(400) unless `frame` is this version's signature."""
    frame = bytes(frame)
    if frame == SIGNATURE:
        return
    if len(frame) == 5 and frame[:4] == b"LDGQ":
        raise ProtocolError(400, "unsupported protocol version %d; this client speaks %d" % (frame[4], VERSION), 0)
    raise ProtocolError(400, "not the ledgerq signature", 0)


def status_topic(client):
    """The status topic of a client (§11): its id then one NUL."""
    return _bytes(client) + b"\x00"


def request_topic(datasource):
    """The request topic of a datasource (§11)."""
    return _bytes(datasource) + b"\x00"


def _bytes(s):
    return s if isinstance(s, bytes) else str(s).encode("utf-8", "surrogateescape")


def _text(b):
    return b.decode("utf-8", "surrogateescape")


# --- bodies (§4 rule 10) ------------------------------------------------------------------

class Body:
    """An opaque body value (a job's request or response), held as its
    canonical msgpack encoding. Equal when the encodings are equal: the rule
    the broker uses for duplicate submits."""

    __slots__ = ("raw",)

    def __init__(self, raw):
        self.raw = bytes(raw)

    @classmethod
    def of(cls, value):
        """Encodes a Python value (None, bool, int, float, str, bytes -> bin,
        list, tuple, dict, msgpack.ExtType) canonically."""
        if isinstance(value, Body):
            return value
        return cls.from_msgpack(msgpack.packb(value, use_bin_type=True, default=_nested_body))

    @classmethod
    def from_msgpack(cls, raw):
        """Takes one msgpack value (any widths) and keeps its canonical form."""
        try:
            node = mt.parse(raw, MAX_BODY_DEPTH)
        except mt.WireError as e:
            raise ProtocolError(e.code, "body: " + e.message) from None
        return cls(mt.canonical(node))

    def value(self):
        """The body as Python values (str as text, bin as bytes)."""
        return msgpack.unpackb(self.raw, raw=False, unicode_errors="surrogateescape", strict_map_key=False,
                               use_list=True)

    def to_json(self):
        """The body as compact JSON text, in the JSON form of PROTOCOL.md §4:
        a bin is {"$bin": "<lowercase hex>"}. Raises ProtocolError(400) for
        a value JSON cannot hold (an ext, a map key that is not a str, NaN)."""
        try:
            return json.dumps(_to_json_form(self.value()), separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ProtocolError(400, "body has no JSON form: %s" % e) from None

    @classmethod
    def from_json(cls, text):
        """A body from JSON text in the JSON form of PROTOCOL.md §4: an object
        whose only key is "$bin", with a str value, is a bin (hex digits, two
        per byte, either case). Raises ProtocolError(400) for text that is not
        JSON or a "$bin" that is not hex."""
        try:
            value = json.loads(text, object_hook=_from_json_form)
        except ValueError as e:  # json.JSONDecodeError is a ValueError
            raise ProtocolError(400, "body: %s" % e) from None
        return cls.of(value)

    def __eq__(self, other):
        return isinstance(other, Body) and other.raw == self.raw

    def __hash__(self):
        return hash(self.raw)

    def __repr__(self):
        try:
            return "Body(%r)" % (self.value(),)
        except Exception:  # a value Python cannot hold (e.g. a map with list keys)
            return "Body(raw=%s)" % self.raw.hex()


NIL_BODY = Body(b"\xc0")


_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*\Z")


def _to_json_form(v):
    """A body's Python value with every bytes (msgpack bin) as {"$bin": hex}."""
    if isinstance(v, (bytes, bytearray)):
        return {"$bin": bytes(v).hex()}
    if isinstance(v, list):
        return [_to_json_form(e) for e in v]
    if isinstance(v, dict):
        if not all(isinstance(k, str) for k in v):
            raise TypeError("a map key that is not a str")
        return {k: _to_json_form(e) for k, e in v.items()}
    if isinstance(v, msgpack.ExtType):
        raise TypeError("a msgpack ext")
    return v


def _from_json_form(obj):
    """json.loads' object_hook: {"$bin": hex} -> bytes; other objects as they are."""
    if len(obj) == 1 and isinstance(obj.get("$bin"), str):
        if not _HEX.match(obj["$bin"]):
            raise ValueError('"$bin" must be hex digits, two per byte')
        return bytes.fromhex(obj["$bin"])
    return obj


def _nested_body(obj):
    """Lets a Body appear inside a value given to Body.of (e.g. echoing a request)."""
    if isinstance(obj, Body):
        return obj.value()
    raise TypeError("cannot encode %r as msgpack" % (obj,))

# --- field types --------------------------------------------------------------------------


def _err(code, path, what):
    return ProtocolError(code, "field '%s': %s" % (path, what))


def _got(node):
    return mt.TYPE_NAMES[node[0]]


class _Uint:
    def __init__(self, bits):
        self.limit = 1 << bits

    def decode(self, node, path):
        if node[0] != "int":
            raise _err(400, path, "expected unsigned integer, got " + _got(node))
        if node[1] < 0:
            raise _err(400, path, "must not be negative")
        if node[1] >= self.limit:
            raise _err(400, path, "out of range")
        return node[1]

    def encode(self, v, path):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < self.limit:
            raise _err(400, path, "expected an unsigned integer below %d, got %r" % (self.limit, v))
        return mt.w_int(v)


class _Bool:
    def decode(self, node, path):
        if node[0] != "bool":
            raise _err(400, path, "expected boolean, got " + _got(node))
        return node[1]

    def encode(self, v, path):
        if not isinstance(v, bool):
            raise _err(400, path, "expected boolean, got %r" % (v,))
        return mt.w_bool(v)


class _Str:
    """A str with a check of its bytes (§3.1, §5)."""

    expected = "string"

    def check(self, b, path):
        pass

    def decode(self, node, path):
        if node[0] != "str":
            raise _err(400, path, "expected %s, got %s" % (self.expected, _got(node)))
        self.check(node[1], path)
        return _text(node[1])

    def encode(self, v, path):
        if not isinstance(v, (str, bytes)):
            raise _err(400, path, "expected %s, got %r" % (self.expected, v))
        b = _bytes(v)
        self.check(b, path)
        return mt.w_str(b)


class _Id(_Str):
    """job-id, client-id, key, worker-id: 1..128 bytes, no NUL."""

    def check(self, b, path):
        if not b:
            raise _err(400, path, "must not be empty")
        if len(b) > 128:
            raise _err(413, path, "longer than 128 bytes")
        if b"\x00" in b:
            raise _err(400, path, "must not contain a NUL byte")


_NAME_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


class _Name(_Str):
    """datasource, job type: 1..64 bytes of [A-Za-z0-9_.-]."""

    def check(self, b, path):
        if not b:
            raise _err(400, path, "must not be empty")
        if len(b) > 64:
            raise _err(413, path, "longer than 64 bytes")
        if not _NAME_CHARS.issuperset(b):
            raise _err(400, path, "may hold only A-Z a-z 0-9 _ . -")


class _Word(_Str):
    def check(self, b, path):
        if not 1 <= len(b) <= 32:
            raise _err(400, path, "must be 1..32 bytes")


class _Text(_Str):
    def __init__(self, limit):
        self.limit = limit

    def check(self, b, path):
        if len(b) > self.limit:
            raise _err(413, path, "longer than %d bytes" % self.limit)


class _Status(_Str):
    expected = "status string"

    def check(self, b, path):
        if _text(b) not in STATUSES:
            shown = b[:32] + (b"..." if len(b) > 32 else b"")
            raise ProtocolError(400, "field '%s': unknown status '%s'" % (path, shown.decode("utf-8", "replace")))


class _Any:
    """A body: any value of depth <= 32, at most 1 MiB canonically encoded."""

    def decode(self, node, path):
        if mt.depth(node) > MAX_BODY_DEPTH:
            raise _err(413, path, "nesting deeper than %d" % MAX_BODY_DEPTH)
        raw = mt.canonical(node)
        if len(raw) > MAX_BODY:
            raise _err(413, path, "body over 1 MiB")
        return Body(raw)

    def encode(self, v, path):
        b = v if isinstance(v, Body) else Body.of(v)
        if len(b.raw) > MAX_BODY:
            raise _err(413, path, "body over 1 MiB")
        return b.raw


class _Array:
    def __init__(self, element):
        self.element = element

    def decode(self, node, path):
        if node[0] != "array":
            raise _err(400, path, "expected array, got " + _got(node))
        if len(node[1]) > MAX_PROTOCOL_ARRAY:
            raise _err(413, path, "more than %d elements" % MAX_PROTOCOL_ARRAY)
        return [self.element.decode(x, "%s[%d]" % (path, i)) for i, x in enumerate(node[1])]

    def encode(self, v, path):
        if not isinstance(v, (list, tuple)):
            raise _err(400, path, "expected a list, got %r" % (v,))
        if len(v) > MAX_PROTOCOL_ARRAY:
            raise _err(413, path, "more than %d elements" % MAX_PROTOCOL_ARRAY)
        return mt.w_array_header(len(v)) + b"".join(
            self.element.encode(x, "%s[%d]" % (path, i)) for i, x in enumerate(v))


_ABSENT = object()


class F:
    """One field of a map: name, type, required, default (§4 rules 4, 5)."""

    def __init__(self, name, type_, required=True, default=_ABSENT):
        self.name, self.type, self.required, self.default = name, type_, required, default


def opt(name, type_, default=_ABSENT):
    return F(name, type_, False, default)


class Map:
    """A protocol map: its fields in canonical order (§6, §7)."""

    def __init__(self, *fields):
        self.fields = fields

    def keys_of(self, node, path):
        """Checks a map node's keys (§4 rule 1) and returns {name: value node}."""
        if node[0] != "map":
            if path:
                raise _err(400, path, "expected map, got " + _got(node))
            raise ProtocolError(400, "expected a map, got " + _got(node))
        where = "field '%s': " % path if path else ""
        out = {}
        for k, v in node[1]:
            if k[0] != "str":
                raise ProtocolError(400, where + "map keys must be strings, got " + _got(k))
            name = _text(k[1])
            if name in out:
                raise ProtocolError(400, where + "duplicate key '%s'" % name[:64])
            out[name] = v
        return out

    def read(self, fields, path, out):
        """Reads this schema's fields from a checked {name: node} into out."""
        prefix = path + "." if path else ""
        for f in self.fields:
            node = fields.get(f.name)
            p = prefix + f.name
            if node is None or (node[0] == "nil" and not (f.required and isinstance(f.type, _Any))):
                if f.required and node is None:
                    raise ProtocolError(400, "missing field '%s'" % p)
                if f.required:            # nil for a required non-body field
                    f.type.decode(node, p)
                continue
            value = f.type.decode(node, p)
            if f.default is not _ABSENT and value == f.default:
                continue
            out[f.name] = value
        return out

    def decode(self, node, path):
        return self.read(self.keys_of(node, path), path, {})

    def write(self, value, path):
        """The canonical encoding of the fields of `value` (a dict) this schema names, as
        a list of encoded pairs (key + value)."""
        prefix = path + "." if path else ""
        pairs = []
        for f in self.fields:
            v = value.get(f.name)
            p = prefix + f.name
            if v is None:
                if f.required and isinstance(f.type, _Any):
                    pairs.append(mt.w_str(f.name.encode()) + NIL_BODY.raw)
                elif f.required:
                    raise ProtocolError(400, "missing field '%s'" % p)
                continue
            if f.default is not _ABSENT and v == f.default:
                continue
            pairs.append(mt.w_str(f.name.encode()) + f.type.encode(v, p))
        return pairs

    def encode(self, value, path):
        if not isinstance(value, dict):
            raise _err(400, path, "expected a dict, got %r" % (value,))
        pairs = self.write(value, path)
        return mt.w_map_header(len(pairs)) + b"".join(pairs)


U8, U16, U32, U64 = _Uint(8), _Uint(16), _Uint(32), _Uint(64)
BOOL, ID, NAME, WORD, STATUS, ANY = _Bool(), _Id(), _Name(), _Word(), _Status(), _Any()
ERROR, CUSTOM = _Text(4096), _Text(1024)
DS = TYPE = NAME

# --- records (§7) -----------------------------------------------------------------------------

_RECORD_FIELDS = (
    F("job", ID), F("client", ID), F("status", STATUS), opt("response", ANY), F("error", ERROR),
    F("submitted", U64), F("updated", U64), F("cancel_requested", BOOL), F("priority", U8),
    opt("run_after", U64, 0), F("attempts", U32), opt("attempts_made", U32, 0), opt("type", TYPE, ""),
    opt("key", ID, ""), opt("lifecycle", WORD, ""), opt("custom_status", CUSTOM, ""), opt("worker", ID, ""),
    opt("lease_until", U64, 0), opt("token", U64, 0))
STATUS_RECORD = Map(*_RECORD_FIELDS)                               # §7.1
JOB_INFO = Map(*_RECORD_FIELDS, opt("request", ANY))                # §7.2
JOB_OPTIONS = Map(opt("priority", U8), opt("run_after", U64), opt("attempts", U32), opt("type", TYPE, ""),
                  opt("key", ID, ""), opt("lifecycle", WORD, ""), opt("custom_status", CUSTOM, ""))   # §7.3
DS_OPTIONS = Map(opt("max_pending", U64, 0), opt("dequeue_rate", U32, 0), opt("lease_ms", U32, 0),
                 opt("retry_base_ms", U32, 0), opt("retry_cap_ms", U32, 0), opt("resources", BOOL, False),
                 opt("paused", BOOL, False))  # §7.4
COUNTS = Map(*(F(s, U64) for s in STATUSES))
DATASOURCE_INFO = Map(F("datasource", DS), F("created", U64), F("seq", U64), F("options", DS_OPTIONS),
                      F("counts", COUNTS))                            # §7.5
ACK_ITEM = Map(F("job", ID), F("token", U64), F("outcome", WORD), opt("response", ANY), opt("error", ERROR),
               opt("retry_delay_ms", U32), opt("custom_status", CUSTOM, ""))   # §7.6
ITEM_RESULT = Map(F("job", ID), F("code", U16), opt("message", ERROR, ""), opt("timestamp", U64, 0),
                  opt("duplicate", BOOL, False))                      # §7.6
REQUEST_ENTRY = Map(F("datasource", DS), F("type", WORD), F("job", ID), F("client", ID), opt("request", ANY),
                    opt("options", JOB_OPTIONS), F("timestamp", U64), F("seq", U64))   # §7.7
STATUS_NOTICE = Map(F("datasource", DS), F("job", ID), F("client", ID), F("data", STATUS_RECORD),
                    F("timestamp", U64), F("seq", U64))              # §7.8
DS_STATS = Map(F("datasource", DS), F("counts", COUNTS), F("oldest_pending", U64), F("submitted_1m", U64),
               F("completed_1m", U64))
HISTORY_EVENT = Map(F("at", U64), F("type", WORD), F("datasource", DS), opt("job", ID, ""), opt("client", ID, ""),
                    opt("request", ANY), opt("options", JOB_OPTIONS), opt("status", STATUS), opt("response", ANY),
                    opt("error", ERROR), opt("worker", ID, ""), opt("token", U64, 0), opt("lease_until", U64, 0),
                    opt("run_after", U64), opt("attempts", U32), opt("priority", U8), opt("custom_status", CUSTOM),
                    opt("ds_options", DS_OPTIONS), opt("limit", U32))   # §7.9
BATCH_JOB = Map(F("job", ID), F("request", ANY), opt("options", JOB_OPTIONS))

# --- commands (§6): request fields after cmd and rid, reply fields after rid, code, message ---

_DSF = F("datasource", DS)
_JOB_REQ = (_DSF, F("job", ID), F("client", ID))
_STATUS_REPLY = Map(F("status", STATUS_RECORD))
_FILTERS = (opt("type", TYPE, ""), opt("key", ID, ""), opt("client", ID, ""), opt("priority", U8),
            opt("limit", U32))

COMMANDS = {
    "ping": (Map(), Map(F("version", U32), F("now", U64), opt("release", ERROR, ""))),
    "ds_create": (Map(_DSF, opt("options", DS_OPTIONS)), Map(F("created", BOOL))),
    "ds_configure": (Map(_DSF, F("options", DS_OPTIONS)), Map(F("options", DS_OPTIONS))),
    "ds_delete": (Map(_DSF), Map(F("deleted", BOOL))),
    "ds_list": (Map(), Map(F("datasources", _Array(DATASOURCE_INFO)))),
    "submit": (Map(*_JOB_REQ, F("request", ANY), opt("options", JOB_OPTIONS)),
               Map(F("job", ID), F("client", ID), F("timestamp", U64), F("duplicate", BOOL))),
    "submit_batch": (Map(_DSF, F("client", ID), F("jobs", _Array(BATCH_JOB))),
                     Map(F("results", _Array(ITEM_RESULT)))),
    "cancel": (Map(*_JOB_REQ), _STATUS_REPLY),
    "status": (Map(*_JOB_REQ), _STATUS_REPLY),
    "update": (Map(_DSF, F("job", ID), F("status", STATUS), opt("response", ANY), opt("error", ERROR)),
               _STATUS_REPLY),
    "latest": (Map(_DSF), Map(opt("request", REQUEST_ENTRY))),
    "since": (Map(_DSF, F("timestamp", U64), opt("limit", U32)),
              Map(F("requests", _Array(REQUEST_ENTRY)), F("next", U64), F("more", BOOL))),
    "missed": (Map(F("client", ID), F("seq", U64), opt("limit", U32)),
               Map(F("notices", _Array(STATUS_NOTICE)), F("next", U64), F("more", BOOL), F("last", U64))),
    "dequeue": (Map(_DSF, F("worker", ID), opt("limit", U32), opt("types", _Array(TYPE)), opt("lease_ms", U32),
                    opt("wait_ms", U32), opt("dry_run", BOOL, False), opt("acks", _Array(ACK_ITEM), []),
                    opt("dequeue_id", ID)),
                Map(F("jobs", _Array(JOB_INFO)), opt("acks", _Array(ITEM_RESULT), []))),
    "ack": (Map(_DSF, F("acks", _Array(ACK_ITEM))), Map(F("results", _Array(ITEM_RESULT)))),
    "checkpoint": (Map(_DSF, F("job", ID), F("token", U64), opt("lease_ms", U32), opt("request", ANY),
                       opt("custom_status", CUSTOM), opt("to_pending", BOOL, False), opt("run_after", U64),
                       opt("attempts", U32)), _STATUS_REPLY),
    "lookup": (Map(_DSF, F("jobs", _Array(ID)), opt("bodies", BOOL, False)), Map(F("jobs", _Array(JOB_INFO)), opt("more", BOOL, False))),
    "count": (Map(_DSF, F("status", STATUS), opt("priority", U8), opt("due", WORD)),
              Map(F("count", U64), opt("capped", BOOL, False))),
    "scan": (Map(_DSF, opt("status", STATUS), *_FILTERS[:4], opt("limit", U32), opt("continuation", ERROR, "")),
             Map(F("jobs", _Array(JOB_INFO)), F("continuation", ERROR))),
    # jobs: an empty list is kept (not dropped as absent) so that the broker
    # refuses it, instead of acting on every job (§6.12).
    "retry": (Map(_DSF, opt("attempts", U32), opt("priority", U8), opt("run_after", U64), opt("limit", U32),
                  opt("jobs", _Array(ID))),
              Map(F("retried", U64))),
    # status is required by the broker without jobs, not by the codec (§6.12).
    "delete": (Map(_DSF, opt("status", STATUS), *_FILTERS, opt("jobs", _Array(ID))), Map(F("deleted", U64))),
    "stats": (Map(), Map(F("version", U32), opt("release", ERROR, ""), *(F(n, U64) for n in (
        "now", "started", "requests", "transactions", "apply_us", "commit_us", "bad_requests", "parked", "expired", "collected", "trimmed",
        "log_entries", "log_bytes", "log_first")), opt("notice_bytes", U64, 0), F("map_size", U64), F("map_used", U64),
        opt("map_limit", U64, 0), *(F(n, U64) for n in ("peers", "status_subscriptions", "request_subscriptions")),
        F("datasources", _Array(DS_STATS)))),
    "history": (Map(_DSF, F("job", ID), opt("continuation", ERROR, "")),
                Map(F("events", _Array(HISTORY_EVENT)), F("continuation", ERROR))),
}

_RID = Map(F("rid", U64))
_REQUEST_HEAD = Map(F("rid", U64), F("cmd", WORD))   # rid first, then cmd: §8.2
_REPLY_HEAD = Map(F("rid", U64), F("code", U16), opt("message", ERROR, ""))


def _parse_frame(frame):
    frame = bytes(frame)
    if len(frame) > MAX_FRAME:
        raise ProtocolError(413, "message body over %d bytes" % MAX_FRAME, 0)
    try:
        return mt.parse(frame, MAX_FRAME_DEPTH)
    except mt.WireError as e:
        raise ProtocolError(e.code, e.message, 0) from None
    except RecursionError:  # cannot happen with the depth limit; belt and braces
        raise ProtocolError(413, "nesting too deep", 0) from None


def _top_keys(node):
    """Checks a frame's top-level map and keys before any field: rid 0 (§4 rule 1)."""
    try:
        return Map().keys_of(node, "")
    except ProtocolError as e:
        raise _with_rid(e, 0)


def _with_rid(err, rid):
    err.rid = rid
    return err


# --- requests -------------------------------------------------------------------------------------

def encode_request(message):
    """Canonical body frame of a request: a dict with `cmd`, `rid` and the
    command's fields (§6). Raises ProtocolError for what the spec refuses that
    can be seen here (an unknown cmd, a missing field, a bad id, a value
    out of its type's range)."""
    cmd = message.get("cmd")
    if cmd not in COMMANDS:
        raise ProtocolError(400, "unknown command '%s'" % (cmd,))
    pairs = [mt.w_str(b"cmd") + WORD.encode(cmd, "cmd"), mt.w_str(b"rid") + U64.encode(message.get("rid"), "rid")]
    pairs += COMMANDS[cmd][0].write(message, "")
    return mt.w_map_header(len(pairs)) + b"".join(pairs)


def decode_request(frame):
    """Decodes a request body frame (what the broker does, §8.2). Returns a
    dict with cmd, rid and the fields present."""
    fields = _top_keys(_parse_frame(frame))
    try:
        rid = _RID.read(fields, "", {})["rid"]
    except ProtocolError as e:
        raise _with_rid(e, 0)
    try:
        out = _REQUEST_HEAD.read(fields, "", {})
    except ProtocolError as e:
        raise _with_rid(e, rid)
    cmd = out["cmd"]
    if cmd not in COMMANDS:
        shown = cmd[:32]
        raise ProtocolError(400, "unknown command '%s'" % shown, out["rid"])
    result = {"cmd": cmd, "rid": out["rid"]}
    try:
        return COMMANDS[cmd][0].read(fields, "", result)
    except ProtocolError as e:
        raise _with_rid(e, out["rid"])


# --- replies -----------------------------------------------------------------------------------

def encode_reply(command, message):
    """Canonical body frame of a reply to `command`: rid, code, message (only
    when code is not 200), then the command's fields (only when code is 200)."""
    if command not in COMMANDS:
        raise ProtocolError(400, "unknown command '%s'" % (command,))
    pairs = _REPLY_HEAD.write(message, "")
    if message.get("code") == OK:
        pairs = pairs[:2] + COMMANDS[command][1].write(message, "")
    return mt.w_map_header(len(pairs)) + b"".join(pairs)


def decode_reply(command, frame):
    """Decodes a reply to `command`. Returns {rid, code, message?, fields...};
    the command's fields are read only when code is 200 (§6)."""
    if command not in COMMANDS:
        raise ProtocolError(400, "unknown command '%s'" % (command,))
    fields = _top_keys(_parse_frame(frame))
    out = _REPLY_HEAD.read(fields, "", {})
    if out["code"] == OK:
        out.pop("message", None)
        try:
            COMMANDS[command][1].read(fields, "", out)
        except ProtocolError as e:
            raise _with_rid(e, out["rid"])
    return out


def peek_rid(frame):
    """The rid of a reply frame, or None when it cannot be read (to match
    replies before knowing which command they answer)."""
    try:
        fields = Map().keys_of(_parse_frame(frame), "")
        return U64.decode(fields["rid"], "rid") if "rid" in fields else None
    except ProtocolError:
        return None


# --- publications (§7.7, §7.8) ------------------------------------------------------------------------

def encode_status_notice(notice):
    return STATUS_NOTICE.encode(notice, "")


def decode_status_notice(frame):
    return STATUS_NOTICE.decode(_parse_frame(frame), "")


def encode_request_entry(entry):
    return REQUEST_ENTRY.encode(entry, "")


def decode_request_entry(frame):
    return REQUEST_ENTRY.decode(_parse_frame(frame), "")
