#!/usr/bin/python3
"""Generates the ledgerq wire protocol v1 conformance vectors (PROTOCOL.md §12).

Run with the system interpreter and Debian's python3-msgpack:

    /usr/bin/python3 proto-spec/vectors/generate.py

It writes requests.json, replies.json, notices.json and signature.json beside
itself. The bytes are built here, from the spec, with python-msgpack for the
scalars and a few lines of our own for map/array headers, so that the vectors
check the C++ codec instead of echoing it. Output is deterministic: running it
twice gives identical files.

File format (every file):
  {"spec": ..., "generated_by": ..., "vectors": [vector, ...]}
vector:
  name       unique, snake_case
  note       optional, for humans
  hex        the body frame: a hex string, or for big frames
             {"concat": [hex, {"repeat": hex, "times": n}, hex, ...]}
  valid      true: `expected` holds the decoded fields
             false: `error` holds {"code", "message" (a substring), "rid"?}
  canonical  (valid only) true when an encoder MUST reproduce `hex` exactly
             from `expected` (keys in the spec's order, smallest widths)
  pending    optional: a known codec bug; the vector states the spec, the
             codec does not conform yet (tests report these as skipped)
  command    (replies.json) the command the reply answers
  kind       (notices.json) "status_notice" | "request_entry"
  topic      (notices.json) hex of the topic frame the body is published under
Decoded values: msgpack str -> JSON string, or {"str_hex": hex} when the bytes
are not UTF-8; a body value (request/response) -> {"msgpack": hex of its
canonical encoding}; integers -> JSON numbers; absent optional -> key absent.
"""

import json
import os
import struct

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = "ledgerq wire protocol v1 (proto-spec/PROTOCOL.md)"


# --- encoding -----------------------------------------------------------------

class Raw(bytes):
    """Bytes already msgpack-encoded, embedded as is (a body value)."""


def map_header(n):
    if n < 16:
        return bytes([0x80 | n])
    if n < 1 << 16:
        return b"\xde" + struct.pack(">H", n)
    return b"\xdf" + struct.pack(">I", n)


def array_header(n):
    if n < 16:
        return bytes([0x90 | n])
    if n < 1 << 16:
        return b"\xdc" + struct.pack(">H", n)
    return b"\xdd" + struct.pack(">I", n)


def pack(v):
    """Canonical msgpack: map keys in the given order, smallest widths."""
    if isinstance(v, Raw):
        return bytes(v)
    if isinstance(v, dict):
        return map_header(len(v)) + b"".join(pack(k) + pack(x) for k, x in v.items())
    if isinstance(v, list):
        return array_header(len(v)) + b"".join(pack(x) for x in v)
    return msgpack.packb(v, use_bin_type=True)


def pairs(*kv):
    """A map from (key, value) pairs, possibly with repeated or odd keys."""
    return map_header(len(kv)) + b"".join(pack(k) + pack(v) for k, v in kv)


def strb(b):
    """A msgpack str holding arbitrary bytes (python-msgpack wants text)."""
    n = len(b)
    if n < 32:
        h = bytes([0xA0 | n])
    elif n < 256:
        h = b"\xd9" + bytes([n])
    elif n < 1 << 16:
        h = b"\xda" + struct.pack(">H", n)
    else:
        h = b"\xdb" + struct.pack(">I", n)
    return Raw(h + b)


def body(v):
    return Raw(pack(v))


def any_(raw):
    return {"msgpack": raw.hex()}


def text(b):
    """Decoded form of a msgpack str."""
    if isinstance(b, str):
        return b
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return {"str_hex": b.hex()}


def nest(depth):
    """A body value of the given nesting depth: depth 1 is [0]."""
    v = 0
    for _ in range(depth):
        v = [v]
    return v


# Self-check: our container headers agree with python-msgpack.
for sample in ({"a": 1, "b": [1, 2, {"c": None}]}, list(range(20)), {str(i): i for i in range(20)},
               list(range(70000))):
    assert pack(sample) == msgpack.packb(sample, use_bin_type=True)


# --- vector builders ------------------------------------------------------------

def valid(name, raw, expected, canonical, note=None, **extra):
    v = {"name": name}
    if note:
        v["note"] = note
    v.update(extra)
    v.update({"hex": raw.hex() if isinstance(raw, (bytes, bytearray)) else raw,
              "valid": True, "canonical": canonical, "expected": expected})
    return v


def invalid(name, raw, code, message, rid=None, note=None, pending=None, **extra):
    v = {"name": name}
    if note:
        v["note"] = note
    if pending:
        v["pending"] = pending
    v.update(extra)
    err = {"code": code, "message": message}
    if rid is not None:
        err["rid"] = rid
    v.update({"hex": raw.hex() if isinstance(raw, (bytes, bytearray)) else raw,
              "valid": False, "error": err})
    return v



MIB = 1 << 20
MAX_MESSAGE = MIB + (64 << 10)

# Sample values used throughout.
T0 = 1767225600000000          # 2026-01-01T00:00:00Z in microseconds
DS = "weather.eu-1"
JOB = "job-0001"
CLIENT = "app-7"
REQ = body({"city": "Oslo", "days": 3})
RESP = body({"temp": [1, -2, 3]})


# --- requests -------------------------------------------------------------------

def request(cmd, rid, **fields):
    return pack({"cmd": cmd, "rid": rid, **fields})


def req_expected(cmd, rid, **fields):
    return {"cmd": cmd, "rid": rid, **fields}


def requests():
    out = []

    def ok(name, cmd, rid, fields, expected=None, canonical=True, note=None):
        out.append(valid(name, request(cmd, rid, **fields),
                         req_expected(cmd, rid, **(expected if expected is not None else fields)),
                         canonical, note))

    # One canonical vector per command.
    ok("ping", "ping", 1, {})
    ok("ds_create", "ds_create", 2, {"datasource": DS})
    ok("ds_delete", "ds_delete", 3, {"datasource": DS})
    ok("ds_list", "ds_list", 4, {})
    ok("submit", "submit", 5, {"datasource": DS, "job": JOB, "client": CLIENT, "request": REQ},
       {"datasource": DS, "job": JOB, "client": CLIENT, "request": any_(REQ)},
       note="the worked example of PROTOCOL.md §13")
    ok("cancel", "cancel", 6, {"datasource": DS, "job": JOB, "client": CLIENT})
    ok("status", "status", 7, {"datasource": DS, "job": JOB, "client": CLIENT})
    ok("update_accepted", "update", 8, {"datasource": DS, "job": JOB, "status": "accepted"})
    ok("update_complete", "update", 9,
       {"datasource": DS, "job": JOB, "status": "complete", "response": RESP, "error": ""},
       {"datasource": DS, "job": JOB, "status": "complete", "response": any_(RESP), "error": ""})
    ok("update_failed", "update", 10,
       {"datasource": DS, "job": JOB, "status": "failed", "error": "upstream timed out"})
    ok("update_error_empty_is_written", "update", 15, {"datasource": DS, "job": JOB, "status": "failed", "error": ""},
       note="error is '?' without a default (§4 rule 5): an empty one is written and kept; the broker reads an "
            "absent one as \"\" too")
    for i, s in enumerate(["submitted", "cancelled", "forbidden", "retrying"]):
        ok("update_status_" + s, "update", 11 + i, {"datasource": DS, "job": JOB, "status": s},
           note="the codec accepts every status name; the broker answers 'submitted' with 409")
    ok("latest", "latest", 20, {"datasource": DS})
    ok("since", "since", 21, {"datasource": DS, "timestamp": T0})
    ok("since_limit", "since", 22, {"datasource": DS, "timestamp": T0 + 1, "limit": 500})
    ok("since_limit_over_max", "since", 23, {"datasource": DS, "timestamp": 0, "limit": 5000},
       note="decodes as 5000; the broker clamps it to 1000")
    ok("missed", "missed", 24, {"client": CLIENT, "seq": 1})
    ok("missed_limit_zero", "missed", 25, {"client": CLIENT, "seq": 42, "limit": 0},
       note="limit 0: only 'last' is reported")

    # Integer widths and rid range.
    ok("rid_zero", "ping", 0, {}, note="valid, but rid 0 is also the rid of replies to unreadable requests")
    ok("rid_max_uint64", "ping", 2**64 - 1, {})
    ok("rid_uint8", "ping", 200, {})
    ok("rid_uint16", "ping", 65535, {})
    ok("rid_uint32", "ping", 65536, {})
    ok("timestamp_uint64", "since", 26, {"datasource": DS, "timestamp": 2**64 - 1})
    out.append(valid("rid_wide_uint64_encoding",
                     pairs(("cmd", "ping"), ("rid", Raw(b"\xcf" + struct.pack(">Q", 7)))),
                     req_expected("ping", 7), False, "decoders accept any width"))
    out.append(valid("rid_positive_int8_encoding",
                     pairs(("cmd", "ping"), ("rid", Raw(b"\xd0\x07"))),
                     req_expected("ping", 7), False, "a non-negative signed integer is an unsigned integer"))
    out.append(valid("rid_int64_encoding",
                     pairs(("cmd", "ping"), ("rid", Raw(b"\xd3" + struct.pack(">q", 1 << 40)))),
                     req_expected("ping", 1 << 40), False))
    out.append(valid("str8_encoded_command",
                     pairs(("cmd", Raw(b"\xd9\x04ping")), ("rid", 1)),
                     req_expected("ping", 1), False, "decoders accept any string width"))
    out.append(valid("keys_in_other_order",
                     pairs(("client", CLIENT), ("job", JOB), ("rid", 30), ("datasource", DS), ("cmd", "status")),
                     req_expected("status", 30, datasource=DS, job=JOB, client=CLIENT), False))
    out.append(valid("unknown_keys_ignored",
                     pairs(("cmd", "ping"), ("rid", 31), ("x-trace", "abc"), ("priority", 5), ("opts", {"a": [1]})),
                     req_expected("ping", 31), False, "unknown keys of any value type are ignored"))
    out.append(valid("unknown_key_holding_duplicate_keys_ignored",
                     pairs(("cmd", "ping"), ("rid", 34), ("x", Raw(pairs(("a", 1), ("a", 2))))),
                     req_expected("ping", 34), False,
                     "the key rules (§4 rule 1) are not checked inside an unknown key's value"))
    out.append(valid("nil_optional_fields_are_absent",
                     pairs(("cmd", "update"), ("rid", 32), ("datasource", DS), ("job", JOB),
                           ("status", "accepted"), ("response", None), ("error", None)),
                     req_expected("update", 32, datasource=DS, job=JOB, status="accepted"), False))
    out.append(valid("nil_limit_is_absent",
                     pairs(("cmd", "missed"), ("rid", 33), ("client", CLIENT), ("seq", 5), ("limit", None)),
                     req_expected("missed", 33, client=CLIENT, seq=5), False))

    # Ids and names at their limits; odd but legal bytes.
    id128 = "j" * 128
    ok("job_id_128_bytes", "status", 40, {"datasource": DS, "job": id128, "client": CLIENT})
    ds64 = "A-z_0.9" * 9 + "x"
    assert len(ds64) == 64
    ok("datasource_64_bytes_all_classes", "ds_create", 41, {"datasource": ds64})
    ok("id_utf8", "status", 42, {"datasource": DS, "job": "jöb/ñ 1 ✓", "client": "ç l"})
    out.append(valid("id_non_utf8_bytes",
                     request("status", 43, datasource=DS, job=strb(b"\xff\xfe\x01job"), client=strb(b"c\x80")),
                     req_expected("status", 43, datasource=DS, job=text(b"\xff\xfe\x01job"),
                                  client=text(b"c\x80")),
                     True, "ids are bytes: any byte but NUL, UTF-8 or not"))
    err4096 = "e" * 4096
    ok("error_4096_bytes", "update", 44, {"datasource": DS, "job": JOB, "status": "failed", "error": err4096})

    # Body values: opaque, any msgpack value, re-encoded canonically.
    def sub(name, raw_body, canon_body, canonical, note=None):
        out.append(valid(name, request("submit", 50, datasource=DS, job=JOB, client=CLIENT, request=Raw(raw_body)),
                         req_expected("submit", 50, datasource=DS, job=JOB, client=CLIENT,
                                      request=any_(canon_body)),
                         canonical, note))

    sub("body_nil", pack(None), pack(None), True, "nil is a body like any other (required field, present)")
    sub("body_scalar", pack(-17), pack(-17), True)
    sub("body_bin_ext_float", pack([b"\x00\x01", msgpack.ExtType(5, b"xyz"), 1.5, True, "s"]),
        pack([b"\x00\x01", msgpack.ExtType(5, b"xyz"), 1.5, True, "s"]), True)
    sub("body_float32_kept", b"\xca" + struct.pack(">f", 0.5), b"\xca" + struct.pack(">f", 0.5), True,
        "a float32 stays a float32")
    sub("body_non_string_keys_allowed", b"\x82\x01\xa1a\xc0\x02", b"\x82\x01\xa1a\xc0\x02", True,
        "the string-key rule is for protocol maps, not body values")
    sub("body_reencoded_canonically", b"\x92\xcd\x00\x01\xd9\x01a", b"\x92\x01\xa1a", False,
        "uint16 1 becomes fixint 1 and str8 'a' becomes fixstr: the broker stores, compares and returns "
        "this canonical form")
    sub("body_depth_32", pack(nest(32)), pack(nest(32)), True, "nesting depth 32 inside a body is allowed")
    sub("body_duplicate_keys_allowed", pairs(("a", 1), ("a", 2)), pairs(("a", 1), ("a", 2)), True,
        "the key rules are for protocol maps: a body keeps both pairs, in order")

    # A body of exactly 1 MiB after canonical encoding (bin32 header + data).
    n = MIB - 5
    prefix = map_header(6) + pack("cmd") + pack("submit") + pack("rid") + pack(51) + pack("datasource") + pack(DS) \
        + pack("job") + pack(JOB) + pack("client") + pack(CLIENT) + pack("request") + b"\xc6" + struct.pack(">I", n)
    out.append(valid("body_exactly_1_mib", {"concat": [prefix.hex(), {"repeat": "ab", "times": n}]},
                     req_expected("submit", 51, datasource=DS, job=JOB, client=CLIENT,
                                  request={"msgpack": {"concat": [("c6" + struct.pack(">I", n).hex()),
                                                                  {"repeat": "ab", "times": n}]}}),
                     True, "the largest body allowed: 1 MiB encoded"))

    # --- invalid requests
    def bad(name, raw, code, msg, rid=None, note=None, pending=None):
        out.append(invalid(name, raw, code, msg, rid, note, pending))

    ping = request("ping", 1)
    bad("empty_body", b"", 400, "truncated msgpack", 0)
    bad("truncated_map", ping[:-1], 400, "truncated msgpack", 0)
    bad("truncated_string", request("ds_create", 9, datasource=DS)[:-3], 400, "truncated msgpack", 0)
    bad("reserved_byte_c1", b"\xc1", 400, "malformed msgpack", 0)
    bad("not_a_map_array", pack(["ping", 1]), 400, "expected a map, got array", 0)
    bad("not_a_map_nil", pack(None), 400, "expected a map, got nil", 0)
    bad("not_a_map_string", pack("ping"), 400, "expected a map, got string", 0)
    bad("trailing_bytes", ping + b"\x00", 400, "trailing bytes", 0)
    bad("two_maps", ping + ping, 400, "trailing bytes", 0)
    bad("missing_rid", pack({"cmd": "ping"}), 400, "missing field 'rid'", 0)
    bad("missing_cmd", pack({"rid": 12}), 400, "missing field 'cmd'", 12, "rid was readable: the reply echoes it")
    bad("rid_negative", pack({"cmd": "ping", "rid": -1}), 400, "field 'rid': must not be negative", 0)
    bad("rid_float", pack({"cmd": "ping", "rid": 1.0}), 400, "field 'rid': expected unsigned integer, got float", 0)
    bad("rid_string", pack({"cmd": "ping", "rid": "1"}), 400, "field 'rid': expected unsigned integer, got string", 0)
    bad("rid_nil", pack({"cmd": "ping", "rid": None}), 400, "field 'rid': expected unsigned integer, got nil", 0)
    bad("cmd_not_string", pack({"cmd": 1, "rid": 13}), 400, "field 'cmd': expected string, got integer", 13)
    bad("cmd_binary", pairs(("cmd", b"ping"), ("rid", 14)), 400, "field 'cmd': expected string, got binary", 14)
    bad("cmd_empty", pack({"cmd": "", "rid": 15}), 400, "field 'cmd'", 15)
    bad("unknown_command", pack({"cmd": "frobnicate", "rid": 16}), 400, "unknown command 'frobnicate'", 16)
    bad("command_name_is_case_sensitive", pack({"cmd": "PING", "rid": 17}), 400, "unknown command 'PING'", 17)
    bad("duplicate_rid", pairs(("cmd", "ping"), ("rid", 1), ("rid", 2)), 400, "duplicate key 'rid'", 0)
    bad("duplicate_field", pairs(("cmd", "ds_create"), ("rid", 18), ("datasource", "a"), ("datasource", "b")),
        400, "duplicate key 'datasource'", 0, "keys are checked before any field is read: rid 0")
    bad("duplicate_unknown_key", pairs(("cmd", "ping"), ("rid", 19), ("x", 1), ("x", 2)),
        400, "duplicate key 'x'", 0)
    bad("integer_key", pairs(("cmd", "ping"), ("rid", 1), (3, 1)), 400, "map keys must be strings, got integer", 0)
    bad("binary_key", pairs((b"cmd", "ping"), ("rid", 1)), 400, "map keys must be strings, got binary", 0)
    bad("missing_datasource", pack({"cmd": "ds_create", "rid": 20}), 400, "missing field 'datasource'", 20)
    bad("submit_missing_request", pack({"cmd": "submit", "rid": 21, "datasource": DS, "job": JOB, "client": CLIENT}),
        400, "missing field 'request'", 21)
    bad("submit_missing_client", pack({"cmd": "submit", "rid": 22, "datasource": DS, "job": JOB, "request": 1}),
        400, "missing field 'client'", 22)
    bad("update_missing_status", pack({"cmd": "update", "rid": 23, "datasource": DS, "job": JOB}),
        400, "missing field 'status'", 23)
    bad("missed_missing_seq", pack({"cmd": "missed", "rid": 24, "client": CLIENT}), 400, "missing field 'seq'", 24)
    bad("since_missing_timestamp", pack({"cmd": "since", "rid": 25, "datasource": DS}),
        400, "missing field 'timestamp'", 25)
    bad("datasource_integer", pack({"cmd": "ds_create", "rid": 26, "datasource": 5}),
        400, "field 'datasource': expected string, got integer", 26)
    bad("datasource_nil", pack({"cmd": "ds_create", "rid": 27, "datasource": None}),
        400, "field 'datasource': expected string, got nil", 27, "nil means absent only for optional fields")
    bad("job_binary", pack({"cmd": "status", "rid": 28, "datasource": DS, "job": b"j", "client": CLIENT}),
        400, "field 'job': expected string, got binary", 28, "ids are msgpack str, never bin")
    bad("status_integer", pack({"cmd": "update", "rid": 29, "datasource": DS, "job": JOB, "status": 2}),
        400, "field 'status': expected status string, got integer", 29)
    bad("status_unknown", pack({"cmd": "update", "rid": 30, "datasource": DS, "job": JOB, "status": "done"}),
        400, "unknown status 'done'", 30)
    bad("status_unknown_long_is_not_echoed_whole",
        pack({"cmd": "update", "rid": 31, "datasource": DS, "job": JOB, "status": "x" * 5000}),
        400, "unknown status", 31)
    bad("error_integer", pack({"cmd": "update", "rid": 32, "datasource": DS, "job": JOB, "status": "failed",
                               "error": 1}), 400, "field 'error': expected string, got integer", 32)
    bad("timestamp_negative", pack({"cmd": "since", "rid": 33, "datasource": DS, "timestamp": -5}),
        400, "field 'timestamp': must not be negative", 33)
    bad("timestamp_string", pack({"cmd": "since", "rid": 34, "datasource": DS, "timestamp": "1"}),
        400, "field 'timestamp': expected unsigned integer, got string", 34)
    bad("limit_negative", pack({"cmd": "since", "rid": 35, "datasource": DS, "timestamp": 1, "limit": -1}),
        400, "field 'limit': must not be negative", 35)
    bad("limit_over_uint32", pack({"cmd": "since", "rid": 36, "datasource": DS, "timestamp": 1, "limit": 2**32}),
        400, "field 'limit': out of range", 36)
    bad("seq_float", pack({"cmd": "missed", "rid": 37, "client": CLIENT, "seq": 1.5}),
        400, "field 'seq': expected unsigned integer, got float", 37)
    bad("seq_boolean", pack({"cmd": "missed", "rid": 38, "client": CLIENT, "seq": True}),
        400, "field 'seq': expected unsigned integer, got boolean", 38)

    # Field limits.
    bad("job_id_129_bytes", pack({"cmd": "status", "rid": 40, "datasource": DS, "job": "j" * 129, "client": CLIENT}),
        413, "field 'job': longer than 128 bytes", 40)
    bad("client_id_129_bytes", pack({"cmd": "missed", "rid": 41, "client": "c" * 129, "seq": 1}),
        413, "field 'client': longer than 128 bytes", 41)
    bad("job_id_empty", pack({"cmd": "status", "rid": 42, "datasource": DS, "job": "", "client": CLIENT}),
        400, "field 'job': must not be empty", 42)
    bad("client_id_with_nul", pack({"cmd": "status", "rid": 43, "datasource": DS, "job": JOB, "client": "a\x00b"}),
        400, "field 'client': must not contain a NUL byte", 43)
    bad("datasource_65_bytes", pack({"cmd": "ds_create", "rid": 44, "datasource": "d" * 65}),
        413, "field 'datasource': longer than 64 bytes", 44)
    bad("datasource_empty", pack({"cmd": "ds_create", "rid": 45, "datasource": ""}),
        400, "field 'datasource': must not be empty", 45)
    for i, (label, name) in enumerate([("space", "a b"), ("slash", "a/b"), ("non_ascii", "wé"), ("nul", "a\x00"),
                                       ("colon", "a:b")]):
        bad("datasource_bad_char_" + label, pack({"cmd": "ds_create", "rid": 46 + i, "datasource": name}),
            400, "may hold only A-Z a-z 0-9 _ . -", 46 + i)
    bad("error_4097_bytes", pack({"cmd": "update", "rid": 51, "datasource": DS, "job": JOB, "status": "failed",
                                  "error": "e" * 4097}), 413, "field 'error': longer than 4096 bytes", 51)

    # Sizes and depth.
    n = MIB - 4  # bin32: 5 + n = 1 MiB + 1 bytes
    prefix = map_header(6) + pack("cmd") + pack("submit") + pack("rid") + pack(52) + pack("datasource") + pack(DS) \
        + pack("job") + pack(JOB) + pack("client") + pack(CLIENT) + pack("request") + b"\xc6" + struct.pack(">I", n)
    bad("body_over_1_mib", {"concat": [prefix.hex(), {"repeat": "ab", "times": n}]}, 413,
        "field 'request': body over 1 MiB", 52, "1 MiB + 1 bytes once encoded")
    n = MAX_MESSAGE  # the frame exceeds 1 MiB + 64 KiB before anything is parsed
    prefix = map_header(3) + pack("cmd") + pack("ping") + pack("rid") + pack(53) + pack("pad") \
        + b"\xc6" + struct.pack(">I", n)
    bad("frame_over_1_mib_64_kib", {"concat": [prefix.hex(), {"repeat": "00", "times": n}]}, 413,
        "message body over 1114112 bytes", 0)
    bad("body_depth_33", request("submit", 54, datasource=DS, job=JOB, client=CLIENT, request=body(nest(33))),
        413, "field 'request': nesting deeper than 32", 54)
    bad("response_depth_33", request("update", 57, datasource=DS, job=JOB, status="complete",
                                     response=body(nest(33))),
        413, "field 'response': nesting deeper than 32", 57)
    bad("body_depth_40", request("submit", 55, datasource=DS, job=JOB, client=CLIENT, request=body(nest(40))),
        413, "nesting", 0, "past the frame's parser limit: the rid cannot be read either")
    bad("body_depth_35", request("submit", 58, datasource=DS, job=JOB, client=CLIENT, request=body(nest(35))),
        413, "field 'request': nesting deeper than 32", 58,
        "the frame is 36 deep (its map is level 1), within the parser's limit: refused at the field, rid echoed")
    bad("body_depth_36", request("submit", 59, datasource=DS, job=JOB, client=CLIENT, request=body(nest(36))),
        413, "nesting", 0, "the frame is 37 deep: refused by the parser before the rid is read")
    out.append(valid("frame_depth_36", pairs(("cmd", "ping"), ("rid", 60), ("x", nest(35))),
                     req_expected("ping", 60), False,
                     "the top map is level 1, so a value of depth 35 in it makes a frame 36 deep: the limit"))
    empty36 = []
    for _ in range(35):
        empty36 = [empty36]
    bad("frame_depth_37_empty_arrays", pairs(("cmd", "ping"), ("rid", 61), ("x", empty36)), 413, "nesting", 0,
        "an empty array is a level like any other: 1 + 36 levels")
    bad("array_over_262144_elements",
        {"concat": [(map_header(3) + pack("cmd") + pack("ping") + pack("rid") + pack(56) + pack("pad")
                     + array_header(262145)).hex(),
                    {"repeat": "c0", "times": 262145}]},
        413, "over the limits", 0)
    bad("map_header_claims_4g_entries", b"\xdf\xff\xff\xff\xff", 413, "over the limits", 0)
    bad("array_header_claims_4g_elements", b"\xdd\xff\xff\xff\xff", 413, "over the limits", 0)
    bad("str_header_claims_4g_bytes", b"\xdb\xff\xff\xff\xff", 400, "truncated msgpack", 0)
    pad = map_header(3) + pack("cmd") + pack("ping") + pack("rid") + pack(62) + pack("pad")
    bad("array_header_over_limit_without_elements", pad + b"\xdd" + struct.pack(">I", 262145), 413,
        "over the limits", 0, "a container's count is checked when its header is read, before its elements")
    bad("array_header_at_limit_without_elements", pad + b"\xdd" + struct.pack(">I", 262144), 400,
        "truncated msgpack", 0, "a count within the limit: the missing elements make the frame truncated")
    bad("map_header_over_limit_without_pairs", pad + b"\xdf" + struct.pack(">I", 65537), 413, "over the limits", 0)
    bad("bin_header_claims_4g_bytes", pad + b"\xc6\xff\xff\xff\xff", 400, "truncated msgpack", 0,
        "a str, bin or ext length is no limit check: bytes that would run past the frame are truncated input")
    bad("str_length_past_frame_end", pad + b"\xdb" + struct.pack(">I", 2 * MIB) + b"abc", 400,
        "truncated msgpack", 0, "a 2 MiB string cannot be whole in a frame of at most 1 MiB + 64 KiB")
    out.extend(queue_requests())
    return out


def over_10000(cmd, rid, key, element, **before):
    """A request whose array field `key` (the last field) holds 10,001 copies of `element`."""
    head = map_header(len(before) + 3) + pack("cmd") + pack(cmd) + pack("rid") + pack(rid) \
        + b"".join(pack(k) + pack(v) for k, v in before.items()) + pack(key) + array_header(10001)
    return {"concat": [head.hex(), {"repeat": pack(element).hex(), "times": 10001}]}


def queue_requests():
    """The work-queue commands (PROTOCOL.md §6.8 to §6.12): options, batches,
    dequeue/ack/checkpoint, introspection and repair, datasource options."""
    out = []

    def ok(name, cmd, rid, fields, expected=None, canonical=True, note=None, pending=None):
        v = valid(name, request(cmd, rid, **fields),
                  req_expected(cmd, rid, **decoded(expected if expected is not None else fields)), canonical, note)
        if pending:
            v["pending"] = pending
        out.append(v)

    def loose(name, raw, cmd, rid, expected, note=None, pending=None):
        """A valid request in a non-canonical form."""
        v = valid(name, raw, req_expected(cmd, rid, **decoded(expected)), False, note)
        if pending:
            v["pending"] = pending
        out.append(v)

    def bad(name, raw, code, msg, rid=None, note=None, pending=None):
        out.append(invalid(name, raw, code, msg, rid, note, pending))

    sub = {"datasource": DS, "job": JOB, "client": CLIENT, "request": REQ}
    all_opts = job_options(priority=2, run_after=T0 + 60_000_000, attempts=5, type="image.resize", key="user-42",
                           lifecycle="create", custom_status="queued by the nightly import")

    # --- submit with options
    ok("submit_with_options", "submit", 100, {**sub, "options": all_opts}, note="every option, in canonical order")
    ok("submit_options_empty_map", "submit", 101, {**sub, "options": {}},
       note="an empty options map is present and empty: every default applies")
    ok("submit_option_priority_only", "submit", 102, {**sub, "options": job_options(priority=3)})
    ok("submit_option_priority_zero_decodes", "submit", 103, {**sub, "options": job_options(priority=0)},
       note="the codec keeps 0; the broker answers priority outside 1..3 with 400")
    ok("submit_option_attempts_zero_decodes", "submit", 104, {**sub, "options": job_options(attempts=0)},
       note="the codec keeps 0; the broker answers attempts 0 with 400")
    ok("submit_option_lifecycle_delete", "submit", 105,
       {**sub, "options": job_options(key="user-42", lifecycle="delete")})
    ok("submit_option_lifecycle_other_word_decodes", "submit", 106,
       {**sub, "options": job_options(key="user-42", lifecycle="rename")},
       note="lifecycle is a word for the codec; the broker accepts only 'create' and 'delete' (else 400)")
    ok("submit_option_custom_status_1024_bytes", "submit", 107,
       {**sub, "options": job_options(custom_status="s" * 1024)})
    ok("submit_option_type_64_bytes", "submit", 108, {**sub, "options": job_options(type="T" * 63 + ".")})
    loose("submit_options_nil_is_absent", request("submit", 109, **sub, options=None), "submit", 109, sub)
    loose("submit_option_custom_status_empty_is_absent",
          request("submit", 110, **sub, options={"custom_status": ""}), "submit", 110, {**sub, "options": {}},
          note="an empty custom_status is the default: canonical form leaves it out")
    loose("submit_option_unknown_keys_ignored",
          request("submit", 111, **sub, options={"priority": 2, "deadline": 5, "x": [1]}), "submit", 111,
          {**sub, "options": job_options(priority=2)})
    loose("submit_option_nil_type_is_absent",
          request("submit", 112, **sub, options={"type": None}), "submit", 112, {**sub, "options": {}},
          note="PROTOCOL.md §4 rule 4: nil means absent for every optional field")
    ok("submit_option_broker_defaults_are_written", "submit", 113,
       {**sub, "options": job_options(priority=1, run_after=0, attempts=2)},
       note="priority, run_after and attempts are '?' without a default on the wire (§7.3): given at the values "
            "the broker reads their absence as, they are still written and kept")
    loose("submit_option_nil_priority_is_absent",
          request("submit", 114, **sub, options={"priority": None, "attempts": None}), "submit", 114,
          {**sub, "options": {}})

    # --- submit_batch
    batch = {"datasource": DS, "client": CLIENT,
             "jobs": [{"job": "job-0001", "request": REQ},
                      {"job": "job-0002", "request": body(None), "options": job_options(priority=1, key="k-1")},
                      {"job": "job-0003", "request": RESP, "options": {}}]}
    ok("submit_batch", "submit_batch", 120, batch)
    ok("submit_batch_one_job", "submit_batch", 121,
       {"datasource": DS, "client": CLIENT, "jobs": [{"job": JOB, "request": body([])}]})
    ok("submit_batch_empty_decodes", "submit_batch", 122, {"datasource": DS, "client": CLIENT, "jobs": []},
       note="the codec accepts 0 jobs; the broker answers a batch outside 1..1000 with 400")

    # --- dequeue
    ack_ok = {"job": "job-0007", "token": 3, "outcome": "success", "response": RESP}
    ack_fail = {"job": "job-0008", "token": 1, "outcome": "failure", "error": "upstream 503", "retry_delay_ms": 5000,
                "custom_status": "step 2 of 3"}
    ack_cancel = {"job": "job-0009", "token": 2, "outcome": "cancelled"}
    ok("dequeue", "dequeue", 130, {"datasource": DS, "worker": "resizer:5f1c"})
    ok("dequeue_all_fields", "dequeue", 131,
       {"datasource": DS, "worker": "resizer:5f1c", "limit": 10, "types": ["image.resize", "image.thumb"],
        "lease_ms": 60000, "wait_ms": 30000, "dry_run": True, "acks": [ack_ok, ack_fail]})
    ok("dequeue_with_acks", "dequeue", 132,
       {"datasource": DS, "worker": "w1", "limit": 2, "wait_ms": 600000, "acks": [ack_cancel]},
       note="acks are applied first, then up to limit jobs are leased")
    ok("dequeue_types_empty_array", "dequeue", 133, {"datasource": DS, "worker": "w1", "types": []},
       note="an empty types list is present: it matches no job")
    ok("dequeue_limit_zero_decodes", "dequeue", 134, {"datasource": DS, "worker": "w1", "limit": 0},
       note="the broker answers limit outside 1..1000 with 400")
    ok("dequeue_repeatable", "dequeue", 135,
       {"datasource": DS, "worker": "resizer:5f1c", "limit": 5, "dequeue_id": "dq:9f2e61a0c4b3d857"},
       note="sent again with the same dequeue_id after a timeout, it is answered with this one's leases (§10.4)")
    loose("dequeue_false_and_empty_are_absent",
          request("dequeue", 135, datasource=DS, worker="w1", dry_run=False, acks=[]), "dequeue", 135,
          {"datasource": DS, "worker": "w1"}, note="dry_run false and acks [] are the defaults: canonical form leaves them out")
    loose("dequeue_nil_types_is_absent", request("dequeue", 136, datasource=DS, worker="w1", types=None),
          "dequeue", 136, {"datasource": DS, "worker": "w1"},
          note="absent types: every type, the untyped jobs included")
    loose("dequeue_nil_dry_run_is_absent", request("dequeue", 137, datasource=DS, worker="w1", dry_run=None),
          "dequeue", 137, {"datasource": DS, "worker": "w1"},
          note="PROTOCOL.md §4 rule 4: nil means absent for every optional field")

    # --- ack
    ok("ack", "ack", 140, {"datasource": DS, "acks": [ack_ok, ack_fail, ack_cancel]})
    ok("ack_outcome_other_word_decodes", "ack", 141,
       {"datasource": DS, "acks": [{"job": JOB, "token": 1, "outcome": "done"}]},
       note="the broker answers an unknown outcome with 400 in that item's result")
    ok("ack_token_uint64_max", "ack", 142,
       {"datasource": DS, "acks": [{"job": JOB, "token": 2**64 - 1, "outcome": "failure", "retry_delay_ms": 0}]})
    loose("ack_custom_status_empty_is_absent",
          request("ack", 143, datasource=DS, acks=[{"job": JOB, "token": 1, "outcome": "success",
                                                   "custom_status": ""}]), "ack", 143,
          {"datasource": DS, "acks": [{"job": JOB, "token": 1, "outcome": "success"}]})

    # --- checkpoint
    ok("checkpoint_heartbeat", "checkpoint", 150, {"datasource": DS, "job": JOB, "token": 4})
    ok("checkpoint_heartbeat_lease", "checkpoint", 151,
       {"datasource": DS, "job": JOB, "token": 4, "lease_ms": 120000, "custom_status": "70% done"})
    ok("checkpoint_to_pending", "checkpoint", 152,
       {"datasource": DS, "job": JOB, "token": 4, "request": body({"cursor": 1200}), "custom_status": "",
        "to_pending": True, "run_after": T0 + 3_600_000_000, "attempts": 3},
       note="a chained job: new body, back to submitted in an hour; custom_status \"\" is present and clears it")
    loose("checkpoint_to_pending_false_is_absent",
          request("checkpoint", 153, datasource=DS, job=JOB, token=4, to_pending=False), "checkpoint", 153,
          {"datasource": DS, "job": JOB, "token": 4})

    # --- introspection and repair
    ok("lookup", "lookup", 160, {"datasource": DS, "jobs": ["job-0001", "job-0002", "jöb-3"]})
    ok("lookup_bodies", "lookup", 161, {"datasource": DS, "jobs": [JOB], "bodies": True})
    ok("lookup_empty_decodes", "lookup", 162, {"datasource": DS, "jobs": []},
       note="the broker answers a lookup outside 1..1000 ids with 400")
    ok("count", "count", 170, {"datasource": DS, "status": "failed"})
    ok("count_due", "count", 171, {"datasource": DS, "status": "retrying", "priority": 2, "due": "now"})
    ok("count_future", "count", 172, {"datasource": DS, "status": "submitted", "due": "future"})
    ok("scan", "scan", 180, {"datasource": DS})
    ok("scan_all_filters", "scan", 181,
       {"datasource": DS, "status": "failed", "type": "image.resize", "key": "user-42", "client": CLIENT,
        "priority": 1, "limit": 500, "continuation": "k7765617468"})
    loose("scan_empty_continuation_is_absent", request("scan", 182, datasource=DS, continuation=""), "scan", 182,
          {"datasource": DS}, note="\"\" starts a scan, like no continuation")
    ok("retry", "retry", 190, {"datasource": DS})
    ok("retry_all_fields", "retry", 191,
       {"datasource": DS, "attempts": 3, "priority": 2, "run_after": T0 + 1_000_000, "limit": 10000})
    ok("delete", "delete", 200, {"datasource": DS, "status": "complete"})
    ok("stats", "stats", 210, {})
    ok("delete_all_filters", "delete", 201,
       {"datasource": DS, "status": "failed", "type": "t", "key": "k", "client": CLIENT, "priority": 3,
        "limit": 50})
    ok("delete_without_status_decodes", "delete", 202, {"datasource": DS, "client": CLIENT},
       note="status is optional for the codec (shared filter); the broker answers a delete without it with 400")
    ok("retry_jobs", "retry", 192, {"datasource": DS, "jobs": ["job-0001", "job-0002"]},
       note="only these jobs, those of them that are failed")
    ok("retry_jobs_all_fields", "retry", 193,
       {"datasource": DS, "attempts": 2, "priority": 1, "run_after": T0 + 1_000_000, "limit": 1, "jobs": [JOB]},
       note="jobs comes last in canonical order")
    ok("retry_jobs_empty_decodes", "retry", 194, {"datasource": DS, "jobs": []},
       note="present and empty is not absent: the broker answers ids outside 1..1000 with 400, never retries "
            "every failed job for it")
    ok("delete_jobs", "delete", 203, {"datasource": DS, "jobs": [JOB, "job-0002"]},
       note="by id no status is needed: the listed jobs are deleted whatever their status")
    ok("delete_jobs_with_filters", "delete", 204,
       {"datasource": DS, "status": "failed", "client": CLIENT, "limit": 5, "jobs": [JOB]},
       note="the filters given still hold for each listed job")
    ok("delete_jobs_1001_decodes", "delete", 205, {"datasource": DS, "jobs": ["j%04d" % i for i in range(1001)]},
       note="the codec takes up to 10,000 elements; the broker answers ids outside 1..1000 with 400")
    ok("history", "history", 220, {"datasource": DS, "job": JOB})
    ok("history_continuation", "history", 221, {"datasource": DS, "job": JOB, "continuation": "h0006474846204100"},
       note="the continuation of the previous page, passed back as it came (opaque)")
    loose("history_empty_continuation_is_absent", request("history", 222, datasource=DS, job=JOB, continuation=""),
          "history", 222, {"datasource": DS, "job": JOB}, note="\"\" starts at the job's submit, like no continuation")

    # --- datasource options
    all_ds = ds_options(max_pending=100000, dequeue_rate=250, lease_ms=45000, retry_base_ms=500,
                        retry_cap_ms=60000, resources=True, paused=True)
    ok("ds_create_with_options", "ds_create", 210, {"datasource": DS, "options": all_ds})
    ok("ds_create_options_empty_map", "ds_create", 211, {"datasource": DS, "options": {}})
    ok("ds_create_max_pending_uint64", "ds_create", 212,
       {"datasource": DS, "options": ds_options(max_pending=2**64 - 1)})
    ok("ds_configure", "ds_configure", 213, {"datasource": DS, "options": ds_options(dequeue_rate=10, lease_ms=5000)})
    ok("ds_configure_pause", "ds_configure", 216,
       {"datasource": DS, "options": ds_options(lease_ms=5000, paused=True)},
       note="paused: dequeues lease nothing until a ds_configure without it (§10.9)")
    ok("ds_configure_defaults", "ds_configure", 214, {"datasource": DS, "options": {}},
       note="the whole option set is replaced: {} puts every default back")
    loose("ds_options_zero_and_false_are_absent",
          request("ds_configure", 215, datasource=DS,
                  options={"max_pending": 0, "dequeue_rate": 0, "lease_ms": 0, "resources": False, "paused": False}),
          "ds_configure", 215, {"datasource": DS, "options": {}}, note="0 and false are the defaults")

    # --- invalid
    def subm(rid, **opts):
        return request("submit", rid, **sub, options=opts)

    bad("submit_options_not_a_map", request("submit", 300, **sub, options=[2]), 400,
        "field 'options': expected map, got array", 300)
    bad("submit_option_priority_string", subm(301, priority="high"), 400,
        "field 'options.priority': expected unsigned integer, got string", 301)
    bad("submit_option_priority_over_uint8", subm(302, priority=256), 400, "field 'options.priority': out of range",
        302)
    bad("submit_option_priority_negative", subm(303, priority=-1), 400,
        "field 'options.priority': must not be negative", 303)
    bad("submit_option_run_after_float", subm(304, run_after=1.5), 400,
        "field 'options.run_after': expected unsigned integer, got float", 304)
    bad("submit_option_attempts_over_uint32", subm(305, attempts=2**32), 400, "field 'options.attempts': out of range",
        305)
    bad("submit_option_type_empty", subm(306, type=""), 400, "field 'options.type': must not be empty", 306)
    bad("submit_option_type_bad_char", subm(307, type="image/resize"), 400,
        "field 'options.type': may hold only A-Z a-z 0-9 _ . -", 307)
    bad("submit_option_type_65_bytes", subm(308, type="t" * 65), 413, "field 'options.type': longer than 64 bytes",
        308)
    bad("submit_option_key_empty", subm(309, key=""), 400, "field 'options.key': must not be empty", 309)
    bad("submit_option_key_129_bytes", subm(310, key="k" * 129), 413, "field 'options.key': longer than 128 bytes",
        310)
    bad("submit_option_key_integer", subm(311, key=42), 400, "field 'options.key': expected string, got integer", 311)
    bad("submit_option_lifecycle_empty", subm(312, key="k", lifecycle=""), 400,
        "field 'options.lifecycle': must be 1..32 bytes", 312)
    bad("submit_option_custom_status_1025_bytes", subm(313, custom_status="s" * 1025), 413,
        "field 'options.custom_status': longer than 1024 bytes", 313)
    bad("submit_option_custom_status_binary", subm(314, custom_status=b"x"), 400,
        "field 'options.custom_status': expected string, got binary", 314)
    bad("submit_options_duplicate_key", request("submit", 315, **sub, options=Raw(pairs(("priority", 1),
                                                                                        ("priority", 2)))),
        400, "duplicate key 'priority'", 315,
        "a nested map's keys are checked when its field is read (§4 rule 1): the rid is echoed. The message "
        "names the map's path; its wording is not normative (ours: \"options.duplicate key 'priority'\")")
    bad("submit_options_integer_key", request("submit", 316, **sub, options=Raw(pairs((1, 2)))), 400,
        "map keys must be strings, got integer", 316)
    bad("submit_options_duplicate_key_after_missing_request",
        request("submit", 317, datasource=DS, job=JOB, client=CLIENT,
                options=Raw(pairs(("priority", 1), ("priority", 2)))),
        400, "missing field 'request'", 317, "fields are checked in table order: the earlier error wins")

    bad("submit_batch_missing_client", request("submit_batch", 320, datasource=DS, jobs=[]), 400,
        "missing field 'client'", 320)
    bad("submit_batch_jobs_not_array",
        request("submit_batch", 321, datasource=DS, client=CLIENT, jobs={"job": JOB, "request": 1}), 400,
        "field 'jobs': expected array, got map", 321)
    bad("submit_batch_job_not_a_map", request("submit_batch", 322, datasource=DS, client=CLIENT, jobs=[JOB]), 400,
        "field 'jobs[0]': expected map, got string", 322)
    bad("submit_batch_job_missing_request",
        request("submit_batch", 323, datasource=DS, client=CLIENT,
                jobs=[{"job": "a", "request": 1}, {"job": "b"}]), 400, "missing field 'jobs[1].request'", 323)
    bad("submit_batch_job_bad_option",
        request("submit_batch", 324, datasource=DS, client=CLIENT,
                jobs=[{"job": "a", "request": 1, "options": {"type": "a b"}}]), 400,
        "field 'jobs[0].options.type': may hold only", 324)
    bad("submit_batch_job_id_129_bytes",
        request("submit_batch", 325, datasource=DS, client=CLIENT, jobs=[{"job": "j" * 129, "request": 1}]), 413,
        "field 'jobs[0].job': longer than 128 bytes", 325)
    bad("submit_batch_over_10000_jobs",
        over_10000("submit_batch", 326, "jobs", {"job": "j", "request": None}, datasource=DS, client=CLIENT), 413,
        "field 'jobs': more than 10000 elements", 326, "arrays of the protocol hold at most 10,000 elements")
    bad("submit_batch_job_options_duplicate_key",
        request("submit_batch", 327, datasource=DS, client=CLIENT,
                jobs=[{"job": "a", "request": 1, "options": Raw(pairs(("key", "k"), ("key", "k")))}]), 400,
        "duplicate key 'key'", 327)

    deq = {"datasource": DS, "worker": "w1"}
    bad("dequeue_missing_worker", request("dequeue", 330, datasource=DS), 400, "missing field 'worker'", 330)
    bad("dequeue_worker_empty", request("dequeue", 331, datasource=DS, worker=""), 400,
        "field 'worker': must not be empty", 331)
    bad("dequeue_types_not_array", request("dequeue", 332, **deq, types="image.resize"), 400,
        "field 'types': expected array, got string", 332)
    bad("dequeue_types_element_integer", request("dequeue", 333, **deq, types=["a", 7]), 400,
        "field 'types[1]': expected string, got integer", 333)
    bad("dequeue_types_element_empty", request("dequeue", 334, **deq, types=[""]), 400,
        "field 'types[0]': must not be empty", 334, "untyped jobs cannot be asked for by name: leave types out")
    bad("dequeue_types_element_bad_char", request("dequeue", 335, **deq, types=["ok", "no way"]), 400,
        "field 'types[1]': may hold only", 335)
    bad("dequeue_types_element_nil", request("dequeue", 336, **deq, types=[None]), 400,
        "field 'types[0]': expected string, got nil", 336)
    bad("dequeue_types_over_10000", over_10000("dequeue", 337, "types", "t", **deq), 413,
        "field 'types': more than 10000 elements", 337)
    bad("dequeue_limit_string", request("dequeue", 338, **deq, limit="10"), 400,
        "field 'limit': expected unsigned integer, got string", 338)
    bad("dequeue_lease_ms_negative", request("dequeue", 339, **deq, lease_ms=-1), 400,
        "field 'lease_ms': must not be negative", 339)
    bad("dequeue_wait_ms_over_uint32", request("dequeue", 340, **deq, wait_ms=2**32), 400,
        "field 'wait_ms': out of range", 340)
    bad("dequeue_dry_run_integer", request("dequeue", 341, **deq, dry_run=1), 400,
        "field 'dry_run': expected boolean, got integer", 341)
    bad("dequeue_acks_not_array", request("dequeue", 342, **deq, acks=ack_ok), 400,
        "field 'acks': expected array, got map", 342)
    bad("dequeue_ack_missing_token", request("dequeue", 343, **deq, acks=[{"job": JOB, "outcome": "success"}]), 400,
        "missing field 'acks[0].token'", 343)

    bad("ack_missing_acks", request("ack", 350, datasource=DS), 400, "missing field 'acks'", 350)
    bad("ack_acks_nil", request("ack", 351, datasource=DS, acks=None), 400,
        "field 'acks': expected array, got nil", 351, "acks is required in an ack")
    bad("ack_item_not_a_map", request("ack", 352, datasource=DS, acks=[1]), 400,
        "field 'acks[0]': expected map, got integer", 352)
    bad("ack_item_missing_outcome", request("ack", 353, datasource=DS, acks=[{"job": JOB, "token": 1}]), 400,
        "missing field 'acks[0].outcome'", 353)
    bad("ack_item_outcome_empty", request("ack", 354, datasource=DS, acks=[{"job": JOB, "token": 1, "outcome": ""}]),
        400, "field 'acks[0].outcome': must be 1..32 bytes", 354)
    bad("ack_item_token_negative",
        request("ack", 355, datasource=DS, acks=[{"job": JOB, "token": -1, "outcome": "success"}]), 400,
        "field 'acks[0].token': must not be negative", 355)
    bad("ack_item_retry_delay_string",
        request("ack", 356, datasource=DS, acks=[{"job": JOB, "token": 1, "outcome": "failure",
                                                  "retry_delay_ms": "5s"}]), 400,
        "field 'acks[0].retry_delay_ms': expected unsigned integer, got string", 356)
    bad("ack_item_error_4097_bytes",
        request("ack", 357, datasource=DS, acks=[{"job": JOB, "token": 1, "outcome": "failure", "error": "e" * 4097}]),
        413, "field 'acks[0].error': longer than 4096 bytes", 357)
    bad("ack_item_custom_status_1025_bytes",
        request("ack", 358, datasource=DS, acks=[{"job": JOB, "token": 1, "outcome": "success",
                                                  "custom_status": "c" * 1025}]), 413,
        "field 'acks[0].custom_status': longer than 1024 bytes", 358)
    bad("ack_over_10000_items",
        over_10000("ack", 359, "acks", {"job": "j", "token": 1, "outcome": "success"}, datasource=DS), 413,
        "field 'acks': more than 10000 elements", 359)
    bad("ack_item_duplicate_key",
        request("ack", 365, datasource=DS, acks=[Raw(pairs(("job", JOB), ("job", JOB), ("token", 1),
                                                           ("outcome", "success")))]), 400,
        "duplicate key 'job'", 365)

    cp = {"datasource": DS, "job": JOB}
    bad("checkpoint_missing_token", request("checkpoint", 360, **cp), 400, "missing field 'token'", 360)
    bad("checkpoint_to_pending_integer", request("checkpoint", 361, **cp, token=1, to_pending=1), 400,
        "field 'to_pending': expected boolean, got integer", 361)
    bad("checkpoint_custom_status_1025_bytes", request("checkpoint", 362, **cp, token=1, custom_status="c" * 1025),
        413, "field 'custom_status': longer than 1024 bytes", 362)
    bad("checkpoint_run_after_string", request("checkpoint", 363, **cp, token=1, to_pending=True, run_after="soon"),
        400, "field 'run_after': expected unsigned integer, got string", 363)
    bad("checkpoint_request_depth_33", request("checkpoint", 364, **cp, token=1, request=body(nest(33))), 413,
        "field 'request': nesting deeper than 32", 364)

    bad("lookup_missing_jobs", request("lookup", 370, datasource=DS), 400, "missing field 'jobs'", 370)
    bad("lookup_jobs_not_array", request("lookup", 371, datasource=DS, jobs=JOB), 400,
        "field 'jobs': expected array, got string", 371)
    bad("lookup_jobs_element_empty", request("lookup", 372, datasource=DS, jobs=["a", ""]), 400,
        "field 'jobs[1]': must not be empty", 372)
    bad("lookup_jobs_element_129_bytes", request("lookup", 373, datasource=DS, jobs=["j" * 129]), 413,
        "field 'jobs[0]': longer than 128 bytes", 373)
    bad("lookup_jobs_element_map", request("lookup", 374, datasource=DS, jobs=[{"job": JOB}]), 400,
        "field 'jobs[0]': expected string, got map", 374)
    bad("lookup_jobs_over_10000", over_10000("lookup", 375, "jobs", "j", datasource=DS), 413,
        "field 'jobs': more than 10000 elements", 375)
    bad("lookup_bodies_string", request("lookup", 376, datasource=DS, jobs=[JOB], bodies="yes"), 400,
        "field 'bodies': expected boolean, got string", 376)

    bad("retry_jobs_not_array", request("retry", 386, datasource=DS, jobs=JOB), 400,
        "field 'jobs': expected array, got string", 386)
    bad("retry_jobs_element_empty", request("retry", 387, datasource=DS, jobs=[JOB, ""]), 400,
        "field 'jobs[1]': must not be empty", 387)
    bad("delete_jobs_element_129_bytes", request("delete", 388, datasource=DS, jobs=["j" * 129]), 413,
        "field 'jobs[0]': longer than 128 bytes", 388)
    bad("delete_jobs_over_10000", over_10000("delete", 389, "jobs", "j", datasource=DS), 413,
        "field 'jobs': more than 10000 elements", 389)

    bad("count_missing_status", request("count", 380, datasource=DS), 400, "missing field 'status'", 380)
    bad("count_status_unknown", request("count", 381, datasource=DS, status="pending"), 400,
        "unknown status 'pending'", 381)
    bad("count_due_empty", request("count", 382, datasource=DS, status="submitted", due=""), 400,
        "field 'due': must be 1..32 bytes", 382)
    bad("count_due_integer", request("count", 383, datasource=DS, status="submitted", due=1), 400,
        "field 'due': expected string, got integer", 383)
    bad("count_priority_over_uint8", request("count", 384, datasource=DS, status="submitted", priority=300), 400,
        "field 'priority': out of range", 384)

    bad("scan_status_unknown", request("scan", 390, datasource=DS, status="done"), 400, "unknown status 'done'", 390)
    bad("scan_type_bad_char", request("scan", 391, datasource=DS, type="a b"), 400,
        "field 'type': may hold only", 391)
    bad("scan_key_empty", request("scan", 392, datasource=DS, key=""), 400, "field 'key': must not be empty", 392)
    bad("scan_continuation_4097_bytes", request("scan", 393, datasource=DS, continuation="c" * 4097), 413,
        "field 'continuation': longer than 4096 bytes", 393)
    bad("history_missing_job", request("history", 385, datasource=DS), 400, "missing field 'job'", 385)
    bad("history_continuation_4097_bytes", request("history", 396, datasource=DS, job=JOB, continuation="h" * 4097),
        413, "field 'continuation': longer than 4096 bytes", 396)
    bad("scan_limit_negative", request("scan", 394, datasource=DS, limit=-5), 400,
        "field 'limit': must not be negative", 394)
    bad("retry_attempts_negative", request("retry", 395, datasource=DS, attempts=-1), 400,
        "field 'attempts': must not be negative", 395)
    bad("retry_run_after_string", request("retry", 396, datasource=DS, run_after="now"), 400,
        "field 'run_after': expected unsigned integer, got string", 396)
    bad("delete_status_integer", request("delete", 397, datasource=DS, status=5), 400,
        "field 'status': expected status string, got integer", 397)
    bad("delete_client_129_bytes", request("delete", 398, datasource=DS, status="failed", client="c" * 129), 413,
        "field 'client': longer than 128 bytes", 398)

    bad("ds_create_options_not_a_map", request("ds_create", 400, datasource=DS, options="fast"), 400,
        "field 'options': expected map, got string", 400)
    bad("ds_create_option_resources_integer", request("ds_create", 401, datasource=DS, options={"resources": 1}),
        400, "field 'options.resources': expected boolean, got integer", 401)
    bad("ds_create_option_max_pending_negative",
        request("ds_create", 402, datasource=DS, options={"max_pending": -1}), 400,
        "field 'options.max_pending': must not be negative", 402)
    bad("ds_create_option_lease_ms_over_uint32",
        request("ds_create", 403, datasource=DS, options={"lease_ms": 2**32}), 400,
        "field 'options.lease_ms': out of range", 403)
    bad("ds_configure_missing_options", request("ds_configure", 404, datasource=DS), 400,
        "missing field 'options'", 404)
    bad("ds_configure_options_nil", request("ds_configure", 405, datasource=DS, options=None), 400,
        "field 'options': expected map, got nil", 405, "options is required in ds_configure")
    bad("ds_configure_dequeue_rate_float",
        request("ds_configure", 406, datasource=DS, options={"dequeue_rate": 2.5}), 400,
        "field 'options.dequeue_rate': expected unsigned integer, got float", 406)
    return out


# --- records (shared by replies and notices) --------------------------------------

# Optional members of a StatusRecord, in canonical order; each is left out
# when zero or empty (PROTOCOL.md §7.1).
RECORD_TAIL = ("attempts_made", "type", "key", "lifecycle", "custom_status", "worker", "lease_until", "token")


def status_record(job=JOB, client=CLIENT, status="submitted", response=None, error="", submitted=T0,
                  updated=T0, cancel_requested=False, priority=1, run_after=0, attempts=2, **tail):
    assert set(tail) <= set(RECORD_TAIL), tail
    m = {"job": job, "client": client, "status": status}
    if response is not None:
        m["response"] = response
    m.update({"error": error, "submitted": submitted, "updated": updated, "cancel_requested": cancel_requested,
              "priority": priority})
    if run_after:
        m["run_after"] = run_after
    m["attempts"] = attempts
    for k in RECORD_TAIL:
        if tail.get(k):
            m[k] = tail[k]
    return m


def job_info(request=None, **record):
    """A JobInfo: a StatusRecord's fields, then the body when asked for."""
    m = status_record(**record)
    if request is not None:
        m["request"] = request
    return m


def ds_options(**o):
    """DsOptions in canonical order; zero/false members left out."""
    order = ("max_pending", "dequeue_rate", "lease_ms", "retry_base_ms", "retry_cap_ms", "resources", "paused")
    assert set(o) <= set(order), o
    return {k: o[k] for k in order if o.get(k)}


def job_options(**o):
    """JobOptions in canonical order; absent members left out (a given 0 is kept for the integers)."""
    order = ("priority", "run_after", "attempts", "type", "key", "lifecycle", "custom_status")
    assert set(o) <= set(order), o
    return {k: o[k] for k in order if k in o}


def counts(**c):
    order = ("submitted", "accepted", "complete", "cancelled", "forbidden", "failed", "retrying")
    return {k: c.get(k, 0) for k in order}


def item(job, code=200, message=None, timestamp=0, duplicate=False):
    """An ItemResult: one job's outcome in a submit_batch, an ack or a dequeue's acks."""
    m = {"job": job, "code": code}
    if message:
        m["message"] = message
    if timestamp:
        m["timestamp"] = timestamp
    if duplicate:
        m["duplicate"] = True
    return m


def decoded(m):
    """The decoded JSON form of a record built from Python values and Raw bodies."""
    if isinstance(m, Raw):
        return any_(m)
    if isinstance(m, dict):
        return {k: decoded(v) for k, v in m.items()}
    if isinstance(m, list):
        return [decoded(v) for v in m]
    return m


def request_entry(type_="request", job=JOB, client=CLIENT, request=REQ, timestamp=T0, seq=1, datasource=DS,
                  options=None):
    m = {"datasource": datasource, "type": type_, "job": job, "client": client}
    if request is not None:
        m["request"] = request
    if options is not None:
        m["options"] = options
    m.update({"timestamp": timestamp, "seq": seq})
    return m


def history_event(at, type_, datasource=DS, job=JOB, **fields):
    """A HistoryEvent (§7.9): the log key, then the event in the log's field order."""
    order = ("client", "request", "options", "status", "response", "error", "worker", "token", "lease_until",
             "run_after", "attempts", "priority", "custom_status")
    assert set(fields) <= set(order), fields
    m = {"at": at, "type": type_, "datasource": datasource, "job": job}
    m.update({k: fields[k] for k in order if k in fields})
    return m


def status_notice(data, timestamp=T0, seq=1, datasource=DS):
    return {"datasource": datasource, "job": data["job"], "client": data["client"], "data": data,
            "timestamp": timestamp, "seq": seq}


# --- replies ------------------------------------------------------------------------

def replies():
    out = []

    def ok(name, command, rid, fields, canonical=True, note=None, raw=None):
        m = {"rid": rid, "code": 200, **fields}
        out.append(valid(name, raw if raw is not None else pack(m), decoded(m), canonical, note, command=command))

    ok("ping", "ping", 1, {"version": 1, "now": T0 + 5, "release": "0.1.0"})
    ok("ping_without_release", "ping", 1, {"version": 1, "now": T0 + 5},
       note="release ? = \"\": a broker that does not say its release")
    ok("ds_create_created", "ds_create", 2, {"created": True})
    ok("ds_create_existed", "ds_create", 3, {"created": False}, note="ds_create is idempotent")
    ok("ds_delete", "ds_delete", 4, {"deleted": True})
    ok("ds_list", "ds_list", 5,
       {"datasources": [{"datasource": DS, "created": T0, "seq": 12,
                         "options": ds_options(max_pending=1000, dequeue_rate=50, resources=True),
                         "counts": counts(submitted=3, accepted=2, complete=100, failed=1, retrying=4)},
                        {"datasource": "b", "created": T0 + 9, "seq": 0, "options": {}, "counts": counts()}]},
       note="options: only the non-default ones; counts: jobs in the view by status")
    ok("ds_list_empty", "ds_list", 6, {"datasources": []})
    ok("submit", "submit", 5, {"job": JOB, "client": CLIENT, "timestamp": T0 + 1, "duplicate": False},
       note="the reply of the worked example (PROTOCOL.md §13)")
    ok("submit_duplicate", "submit", 8, {"job": JOB, "client": CLIENT, "timestamp": T0 + 1, "duplicate": True})
    ok("status_submitted", "status", 9, {"status": status_record()})
    ok("cancel_requested", "cancel", 10, {"status": status_record(status="accepted", updated=T0 + 7,
                                                                  cancel_requested=True)})
    ok("update_complete", "update", 11, {"status": status_record(status="complete", response=RESP,
                                                                 updated=T0 + 9)})
    ok("update_failed", "update", 12, {"status": status_record(status="failed", error="disk full",
                                                               updated=T0 + 9)})
    ok("latest", "latest", 13, {"request": request_entry(seq=4)})
    ok("latest_none", "latest", 14, {}, note="no entry: 'request' is absent")
    out.append(valid("latest_nil_is_absent", pairs(("rid", 15), ("code", 200), ("request", None)),
                     {"rid": 15, "code": 200}, False, command="latest"))
    ok("since", "since", 16, {"requests": [request_entry(seq=1),
                                           request_entry(type_="cancel", request=None, timestamp=T0 + 3, seq=2)],
                              "next": T0 + 4, "more": True})
    ok("since_empty", "since", 17, {"requests": [], "next": T0, "more": False})
    ok("missed", "missed", 18, {"notices": [status_notice(status_record(), seq=1),
                                            status_notice(status_record(status="accepted", updated=T0 + 2),
                                                          timestamp=T0 + 2, seq=2)],
                                "next": 3, "more": False, "last": 2})
    deep = body(nest(32))
    ok("missed_with_depth_32_response", "missed", 30,
       {"notices": [status_notice(status_record(status="complete", response=deep), seq=9)],
        "next": 10, "more": False, "last": 9},
       note="the deepest reply: 4 levels of protocol maps/arrays + a body of depth 32 = 36, the parser's limit")
    ok("since_with_depth_32_request", "since", 31,
       {"requests": [request_entry(request=deep)], "next": T0 + 1, "more": False})
    ok("missed_only_last", "missed", 19, {"notices": [], "next": 1, "more": True, "last": 7},
       note="answer to limit 0")

    def err(name, command, rid, code, message, canonical=True, raw=None, note=None):
        m = {"rid": rid, "code": code, "message": message}
        out.append(valid(name, raw if raw is not None else pack(m), m, canonical, note, command=command))

    err("error_bad_request_rid_0", "ping", 0, 400, "truncated msgpack",
        note="an unreadable rid is answered with rid 0")
    err("error_forbidden", "status", 20, 403, "job 'job-0001' belongs to another client")
    # Secure mode (§14): the role table, a client acting as another, a lease
    # of another principal, a key removed by a reload.
    err("error_forbidden_role", "ds_create", 44, 403, "'ds_create' is for admin principals; 'app-7' is a client")
    err("error_forbidden_other_client", "submit", 45, 403,
        "'submit' for client 'app-8': a client acts only as itself, 'app-7'")
    err("error_forbidden_datasource", "update", 46, 403,
        "'update' on datasource 'weather.eu-1': worker 'resizer' does not serve it")
    err("error_forbidden_lease", "checkpoint", 47, 403,
        "job 'job-0001' is leased to 'resizer:5f1c', not to 'thief': a lease belongs to the principal that took it")
    err("error_forbidden_key_removed", "ping", 48, 403,
        "this connection's key is no longer admitted (it left the principals file)")
    err("error_message_quotes_an_id", "checkpoint", 49, 409,
        "stale lease token 9 for job 'j\\x0a[critical] forged\\x1b[2J': it is submitted, not leased",
        note="a peer's string in a message: control characters and bytes that are not UTF-8 as \\xNN (§8.1)")
    err("error_not_found", "submit", 21, 404, "no datasource 'weather.eu-1'")
    err("error_not_found_parked_dequeue", "dequeue", 33, 404, "datasource 'weather.eu-1' not found",
        note="a parked dequeue whose datasource was deleted, answered in the turn that deleted it (§10.4): no ack results")
    err("error_forbidden_unseen_client", "cancel", 34, 403, "job 'job-0001' belongs to another client",
        note="a client id the broker never saw, naming an existing job: 403, as for any other client (§6.4)")
    err("error_conflict", "submit", 22, 409, "job 'job-0001' exists with another body")
    err("error_too_large", "submit", 23, 413, "field 'request': body over 1 MiB")
    err("error_internal", "update", 24, 500, "storage failure; nothing was applied")
    err("error_queue_full", "submit", 29, 301,
        "datasource 'weather.eu-1' holds its max_pending of 1000 jobs; submit later")
    err("error_rate_limited", "dequeue", 32, 302,
        "datasource 'weather.eu-1' allows 50 dequeues a second; retry later",
        note="nothing was applied, piggybacked acks included")
    err("error_unknown_code_3xx", "submit", 25, 399, "busy, retry later",
        note="a client treats an unknown code by its class: 3xx, retry later")
    err("error_unknown_code_503", "ping", 26, 503, "unavailable")
    out.append(valid("error_with_extra_fields_ignored",
                     pairs(("rid", 27), ("code", 404), ("message", "gone"), ("job", JOB), ("x", [1])),
                     {"rid": 27, "code": 404, "message": "gone"}, False, command="status"))
    out.append(valid("error_without_message", pairs(("rid", 28), ("code", 500)), {"rid": 28, "code": 500},
                     True, "a missing message reads as empty", command="ping"))

    def bad(name, command, raw, code, msg):
        out.append(invalid(name, raw, code, msg, command=command))

    bad("missing_code", "ping", pack({"rid": 1, "version": 1, "now": 1}), 400, "missing field 'code'")
    bad("missing_rid", "ping", pack({"code": 200, "version": 1, "now": 1}), 400, "missing field 'rid'")
    bad("code_negative", "ping", pack({"rid": 1, "code": -200}), 400, "field 'code': must not be negative")
    bad("code_over_uint16", "ping", pack({"rid": 1, "code": 70000}), 400, "field 'code': out of range")
    bad("ok_missing_field", "submit", pack({"rid": 1, "code": 200, "job": JOB, "client": CLIENT, "timestamp": 1}),
        400, "missing field 'duplicate'")
    bad("bool_as_integer", "ds_create", pack({"rid": 1, "code": 200, "created": 1}),
        400, "field 'created': expected boolean, got integer")
    bad("record_unknown_status", "status",
        pack({"rid": 1, "code": 200, "status": status_record(status="done")}), 400, "unknown status 'done'")
    bad("record_missing_error", "status",
        pack({"rid": 1, "code": 200, "status": {k: v for k, v in status_record().items() if k != "error"}}),
        400, "missing field 'status.error'")
    bad("list_element_not_a_map", "ds_list", pack({"rid": 1, "code": 200, "datasources": [1]}),
        400, "field 'datasources[0]': expected map, got integer")
    bad("nested_bad_datasource", "ds_list",
        pack({"rid": 1, "code": 200, "datasources": [{"datasource": "a b", "created": 1, "seq": 1}]}),
        400, "field 'datasources[0].datasource': may hold only")
    bad("message_over_4096", "ping", pack({"rid": 1, "code": 400, "message": "m" * 4097}), 413,
        "longer than 4096 bytes")
    bad("reply_duplicate_key", "ping", pairs(("rid", 1), ("code", 200), ("code", 500)), 400,
        "duplicate key 'code'")
    bad("reply_not_a_map", "ping", pack([1, 200]), 400, "expected a map, got array")
    bad("reply_trailing_bytes", "ping", pack({"rid": 1, "code": 500}) + b"\xc0", 400, "trailing bytes")
    bad("reply_to_unknown_command", "frobnicate", pack({"rid": 1, "code": 200}), 400, "unknown command")
    out.extend(queue_replies())
    return out


def queue_replies():
    """Replies to the work-queue commands, and the records they carry."""
    out = []

    def ok(name, command, rid, fields, canonical=True, note=None, raw=None, pending=None):
        m = {"rid": rid, "code": 200, **fields}
        v = valid(name, raw if raw is not None else pack(m), decoded(m), canonical, note, command=command)
        if pending:
            v["pending"] = pending
        out.append(v)

    def bad(name, command, raw, code, msg, note=None, pending=None):
        out.append(invalid(name, raw, code, msg, note=note, pending=pending, command=command))

    leased = dict(status="accepted", updated=T0 + 50, priority=2, attempts=3, attempts_made=1, type="image.resize",
                  key="user-42", worker="resizer:5f1c", lease_until=T0 + 30_000_050, token=1)

    # --- records in full
    ok("status_every_field", "status", 100,
       {"status": status_record(status="retrying", response=RESP, error="upstream 503", updated=T0 + 90,
                                cancel_requested=True, priority=3, run_after=T0 + 2_000_090, attempts=5,
                                attempts_made=2, type="image.resize", key="user-42", lifecycle="create",
                                custom_status="step 2 of 3", worker="resizer:5f1c", lease_until=0, token=2)},
       note="every StatusRecord field; lease_until is 0 (no lease) and so left out")
    ok("status_priority_and_attempts_always_present", "status", 101,
       {"status": status_record(priority=1, attempts=1)},
       note="priority and attempts are written even at their defaults")

    # --- datasource options
    ok("ds_configure", "ds_configure", 110, {"options": ds_options(dequeue_rate=10, lease_ms=5000)})
    ok("ds_configure_defaults", "ds_configure", 111, {"options": {}})

    # --- submit_batch
    ok("submit_batch", "submit_batch", 120,
       {"results": [item("job-0001", timestamp=T0 + 1),
                    item("job-0002", timestamp=T0 - 500, duplicate=True),
                    item("job-0003", 301, "datasource 'weather.eu-1' holds its max_pending of 1000 jobs; submit later"),
                    item("job-0004", 404, "resource 'user-42' will not exist when this job runs"),
                    item("job-0005", 409, "job 'job-0005' was submitted with a different request"),
                    item("job-0006", 400, "option 'priority' must be 1, 2 or 3")]},
       note="one result per job, in request order; a job's failure does not stop the others")
    ok("submit_batch_unknown_item_code", "submit_batch", 121, {"results": [item(JOB, 599, "later")]},
       note="item codes are read like reply codes: unknown ones by class")
    out.append(valid("item_result_defaults_written", pairs(
        ("rid", 122), ("code", 200),
        ("results", [{"job": JOB, "code": 200, "message": "", "timestamp": 0, "duplicate": False}])),
        {"rid": 122, "code": 200, "results": [item(JOB)]}, False, command="submit_batch"))

    # --- dequeue
    second = {**leased, "job": "job-0002", "updated": T0 + 51, "key": "", "attempts_made": 2, "token": 7}
    ok("dequeue", "dequeue", 130, {"jobs": [job_info(request=REQ, **leased), job_info(request=RESP, **second)]},
       note="leased jobs, each with its body")
    m = {"rid": 133, "code": 200, "jobs": [job_info(request=body(None), **second)]}
    out.append(valid("dequeue_nil_body_reads_as_absent", pack(m), decoded(m), False,
                     "a job whose body is nil: 'request' is nil on the wire, which reads as absent",
                     command="dequeue"))
    out[-1]["expected"]["jobs"][0].pop("request")
    ok("dequeue_with_acks", "dequeue", 131,
       {"jobs": [], "acks": [item("job-0007"),
                             item("job-0008", 409, "stale lease token 1 for job 'job-0008': it is held under "
                                                   "token 2 by 'w2'"),
                             item("job-0009", 404, "job 'job-0009' not found in datasource 'weather.eu-1'"),
                             item("job-0010", 400, "outcome must be 'success', 'failure' or 'cancelled'")]},
       note="one result per piggybacked ack; no job was eligible")
    ok("dequeue_empty", "dequeue", 132, {"jobs": []}, note="nothing eligible (or wait_ms ran out): acks absent")

    # --- ack
    ok("ack", "ack", 140, {"results": [item("job-0007"), item("job-0008", 409, "stale lease token 1 for job "
                                                                           "'job-0008': it is failed, not leased")]})
    ok("ack_item_forbidden", "ack", 144,
       {"results": [item("job-0001", 403, "job 'job-0001' is leased to 'resizer:5f1c', not to 'thief': "
                                          "a lease belongs to the principal that took it")]},
       note="secure mode (§14.4): the right token from another principal")

    # --- checkpoint (answered with the job's status record)
    ok("checkpoint_heartbeat", "checkpoint", 150,
       {"status": status_record(**{**leased, "updated": T0 + 70, "lease_until": T0 + 120_000_070,
                                   "custom_status": "70% done"})})
    ok("checkpoint_to_pending", "checkpoint", 151,
       {"status": status_record(updated=T0 + 80, run_after=T0 + 3_600_000_000, attempts=3, type="image.resize",
                                key="user-42", worker="resizer:5f1c", token=1)},
       note="released: submitted, attempts_made back to 0 (left out), lease gone; worker and token stay")

    # --- introspection and repair
    ok("lookup", "lookup", 160, {"jobs": [job_info(**leased), job_info(job="job-0002", status="complete",
                                                                       response=RESP, updated=T0 + 9)]})
    ok("lookup_bodies", "lookup", 161, {"jobs": [job_info(request=REQ)]})
    ok("lookup_none_found", "lookup", 162, {"jobs": []}, note="unknown ids are left out")
    ok("lookup_repeated_id", "lookup", 164, {"jobs": [job_info(), job_info(job="job-0002"), job_info()]},
       note="the answer to lookup{jobs: [\"job-0001\", \"job-0002\", \"job-0001\"]}: an id listed twice is "
            "answered twice")
    ok("lookup_bodies_nil_request", "lookup", 165, {"jobs": [job_info()]},
       raw=pack({"rid": 165, "code": 200, "jobs": [{**job_info(), "request": None}]}), canonical=False,
       note="a job whose body is nil: our broker writes 'request: nil', which reads as absent (§4 rule 10); "
            "the canonical form leaves it out")
    ok("dequeue_nil_request", "dequeue", 133, {"jobs": [job_info(**leased)]},
       raw=pack({"rid": 133, "code": 200, "jobs": [{**job_info(**leased), "request": None}]}), canonical=False,
       note="as lookup_bodies_nil_request: a leased job whose body is nil")
    ok("lookup_more", "lookup", 163, {"jobs": [job_info(request=REQ)], "more": True},
       note="the reply's byte budget (§5) cut it: look up the ids not returned again")
    ok("count", "count", 170, {"count": 42})
    ok("count_capped", "count", 171, {"count": 100000, "capped": True})
    ok("scan", "scan", 180, {"jobs": [job_info(job="a", status="failed", error="boom", attempts_made=2),
                                      job_info(job="b", status="failed", error="boom", attempts_made=2)],
                             "continuation": "s05000647484620400b"})
    ok("scan_end", "scan", 181, {"jobs": [], "continuation": ""}, note="\"\": the scan is over")
    ok("history", "history", 220, {"events": [
        history_event(T0 + 1, "submit", client=CLIENT, request=REQ, options=job_options(type="image.resize")),
        history_event(T0 + 40, "lease", worker="resizer:5f1c", token=1, lease_until=T0 + 30_000_040),
        history_event(T0 + 30_000_041, "expire", status="retrying", error="lease expired", token=1,
                      run_after=T0 + 31_000_041),
        history_event(T0 + 31_000_100, "lease", worker="resizer:77aa", token=2, lease_until=T0 + 61_000_100),
        history_event(T0 + 31_000_200, "ack", status="complete", response=RESP, token=2, custom_status="done")],
        "continuation": ""},
       note="a job submitted, leased, expired, leased again and acked; every event of the job on one page")
    ok("history_page_cut", "history", 221, {"events": [], "continuation": "h0006474846204100"},
       note="a page that read its 10,000 log entries without meeting the job's events: none, and a continuation")
    ok("retry", "retry", 190, {"retried": 17})
    ok("delete", "delete", 200, {"deleted": 0})
    ok("stats", "stats", 210, {
        "version": 1, "release": "0.1.0", "now": T0 + 5_000_000, "started": T0, "requests": 1234, "transactions": 87,
        "apply_us": 61_250, "commit_us": 38_400, "bad_requests": 2, "parked": 5, "expired": 1, "collected": 0, "trimmed": 0, "log_entries": 1300,
        "log_bytes": 181_000, "log_first": T0 + 1, "notice_bytes": 240_000, "map_size": 1 << 30,
        "map_used": 4_194_304, "map_limit": 64 << 30,
        "peers": 3, "status_subscriptions": 2, "request_subscriptions": 1,
        "datasources": [{"datasource": DS, "counts": {"submitted": 3, "accepted": 1, "complete": 40,
                                                      "cancelled": 0, "forbidden": 0, "failed": 2,
                                                      "retrying": 1},
                         "oldest_pending": T0 + 2, "submitted_1m": 120, "completed_1m": 118}]})

    # --- invalid
    rec = status_record()
    bad("ds_list_missing_counts", "ds_list",
        pack({"rid": 1, "code": 200, "datasources": [{"datasource": DS, "created": 1, "seq": 1, "options": {}}]}),
        400, "missing field 'datasources[0].counts'")
    bad("ds_list_missing_options", "ds_list",
        pack({"rid": 1, "code": 200, "datasources": [{"datasource": DS, "created": 1, "seq": 1,
                                                      "counts": counts()}]}),
        400, "missing field 'datasources[0].options'")
    bad("ds_list_count_negative", "ds_list",
        pack({"rid": 1, "code": 200, "datasources": [{"datasource": DS, "created": 1, "seq": 1, "options": {},
                                                      "counts": {**counts(), "failed": -1}}]}),
        400, "field 'datasources[0].counts.failed': must not be negative")
    bad("ds_configure_missing_options", "ds_configure", pack({"rid": 1, "code": 200}), 400,
        "missing field 'options'")
    bad("submit_batch_item_code_string", "submit_batch",
        pack({"rid": 1, "code": 200, "results": [{"job": JOB, "code": "ok"}]}), 400,
        "field 'results[0].code': expected unsigned integer, got string")
    bad("submit_batch_item_code_over_uint16", "submit_batch",
        pack({"rid": 1, "code": 200, "results": [{"job": JOB, "code": 65536}]}), 400,
        "field 'results[0].code': out of range")
    bad("submit_batch_item_missing_job", "submit_batch",
        pack({"rid": 1, "code": 200, "results": [{"code": 200}]}), 400, "missing field 'results[0].job'")
    bad("dequeue_missing_jobs", "dequeue", pack({"rid": 1, "code": 200, "acks": []}), 400, "missing field 'jobs'")
    bad("dequeue_job_missing_error", "dequeue",
        pack({"rid": 1, "code": 200, "jobs": [{k: v for k, v in rec.items() if k != "error"}]}), 400,
        "missing field 'jobs[0].error'")
    bad("dequeue_acks_not_array", "dequeue", pack({"rid": 1, "code": 200, "jobs": [], "acks": {}}), 400,
        "field 'acks': expected array, got map")
    bad("ack_missing_results", "ack", pack({"rid": 1, "code": 200}), 400, "missing field 'results'")
    bad("lookup_job_type_bad_char", "lookup",
        pack({"rid": 1, "code": 200, "jobs": [{**rec, "type": "a b"}]}), 400, "field 'jobs[0].type': may hold only")
    bad("status_custom_status_1025_bytes", "status",
        pack({"rid": 1, "code": 200, "status": {**rec, "custom_status": "c" * 1025}}), 413,
        "field 'status.custom_status': longer than 1024 bytes")
    bad("status_worker_empty", "status", pack({"rid": 1, "code": 200, "status": {**rec, "worker": ""}}), 400,
        "field 'status.worker': must not be empty", note="an encoder leaves an empty worker out")
    bad("status_priority_over_uint8", "status", pack({"rid": 1, "code": 200, "status": {**rec, "priority": 256}}),
        400, "field 'status.priority': out of range")
    bad("status_token_string", "status", pack({"rid": 1, "code": 200, "status": {**rec, "token": "1"}}),
        400, "field 'status.token': expected unsigned integer, got string")
    bad("status_missing_priority", "status",
        pack({"rid": 1, "code": 200, "status": {k: v for k, v in rec.items() if k != "priority"}}),
        400, "missing field 'status.priority'")
    bad("status_missing_attempts", "status",
        pack({"rid": 1, "code": 200, "status": {k: v for k, v in rec.items() if k != "attempts"}}),
        400, "missing field 'status.attempts'")
    ok("status_priority_zero_round_trips", "status", 102, {"status": status_record(priority=0, attempts=0)},
       note="out of the broker's range, but a decoder keeps what it read and an encoder writes it back")
    bad("count_capped_integer", "count", pack({"rid": 1, "code": 200, "count": 5, "capped": 1}), 400,
        "field 'capped': expected boolean, got integer")
    bad("scan_missing_continuation", "scan", pack({"rid": 1, "code": 200, "jobs": []}), 400,
        "missing field 'continuation'", note="the end of a scan is an explicit \"\"")
    bad("history_missing_continuation", "history", pack({"rid": 1, "code": 200, "events": []}), 400,
        "missing field 'continuation'")
    bad("history_event_missing_at", "history",
        pack({"rid": 1, "code": 200, "events": [{"type": "submit", "datasource": DS, "job": JOB}],
              "continuation": ""}), 400, "missing field 'events[0].at'")
    bad("retry_missing_retried", "retry", pack({"rid": 1, "code": 200}), 400, "missing field 'retried'")
    bad("delete_deleted_negative", "delete", pack({"rid": 1, "code": 200, "deleted": -3}), 400,
        "field 'deleted': must not be negative")
    return out


# --- notifications --------------------------------------------------------------------

def notices():
    out = []

    def sn(name, m, topic_client, canonical=True, note=None, raw=None):
        out.append(valid(name, raw if raw is not None else pack(m), decoded(m), canonical, note,
                         kind="status_notice", topic=(topic_client + b"\x00").hex()))

    def re_(name, m, topic_ds, canonical=True, note=None, raw=None):
        out.append(valid(name, raw if raw is not None else pack(m), decoded(m), canonical, note,
                         kind="request_entry", topic=(topic_ds + b"\x00").hex()))

    sn("status_notice_submitted", status_notice(status_record(), seq=1), CLIENT.encode())
    sn("status_notice_cancel_requested",
       status_notice(status_record(status="accepted", updated=T0 + 8, cancel_requested=True), timestamp=T0 + 8, seq=3),
       CLIENT.encode())
    sn("status_notice_complete",
       status_notice(status_record(status="complete", response=RESP, updated=T0 + 9), timestamp=T0 + 9, seq=4),
       CLIENT.encode())
    sn("status_notice_cancelled_with_error",
       status_notice(status_record(status="cancelled", error="cancelled by client", updated=T0 + 10),
                     timestamp=T0 + 10, seq=5), CLIENT.encode())
    sn("status_notice_leased",
       status_notice(status_record(status="accepted", updated=T0 + 11, attempts_made=1, type="image.resize",
                                   worker="resizer:5f1c", lease_until=T0 + 30_000_011, token=1),
                     timestamp=T0 + 11, seq=6), CLIENT.encode(), note="a dequeue leased the job")
    sn("status_notice_retrying_after_expiry",
       status_notice(status_record(status="retrying", updated=T0 + 30_000_012, run_after=T0 + 30_000_012,
                                   error="lease of 'resizer:5f1c' expired (attempt 1 of 2)", attempts_made=1,
                                   type="image.resize", worker="resizer:5f1c", token=1),
                     timestamp=T0 + 30_000_012, seq=7), CLIENT.encode())
    sn("status_notice_failed_missing_resource",
       status_notice(status_record(status="failed", updated=T0 + 13, error="resource 'user-42' does not exist",
                                   key="user-42"), timestamp=T0 + 13, seq=8), CLIENT.encode(),
       note="Cast's rule: the job came to the front of its key's line and its resource did not exist")
    re_("request_entry_request", request_entry(seq=1), DS.encode())
    re_("request_entry_request_with_options",
        request_entry(seq=5, options=job_options(priority=2, attempts=4, type="image.resize", key="user-42")),
        DS.encode(), note="options as submitted (absent when the submit had none)")
    re_("request_entry_cancel", request_entry(type_="cancel", request=None, timestamp=T0 + 8, seq=2), DS.encode(),
        note="a cancel entry carries no request")
    re_("request_entry_nil_request_body",
        request_entry(request=body(None), seq=3), DS.encode(), canonical=False,
        note="a submit whose body is nil: 'request' is nil on the wire, which reads as absent")
    out[-1]["expected"].pop("request")
    re_("request_entry_unknown_keys_ignored", request_entry(seq=4), DS.encode(), canonical=False,
        raw=pack({**request_entry(seq=4), "priority": 3}))

    def bad(name, kind, raw, code, msg):
        out.append(invalid(name, raw, code, msg, kind=kind))

    bad("status_notice_missing_seq", "status_notice",
        pack({k: v for k, v in status_notice(status_record()).items() if k != "seq"}), 400, "missing field 'seq'")
    bad("status_notice_data_not_a_map", "status_notice",
        pack({**status_notice(status_record()), "data": "x"}), 400, "field 'data': expected map, got string")
    bad("status_notice_data_missing_updated", "status_notice",
        pack({**status_notice(status_record()),
              "data": {k: v for k, v in status_record().items() if k != "updated"}}),
        400, "missing field 'data.updated'")
    bad("request_entry_bad_datasource", "request_entry", pack(request_entry(datasource="a b")), 400,
        "field 'datasource': may hold only")
    bad("request_entry_empty_type", "request_entry", pack(request_entry(type_="")), 400, "field 'type'")
    bad("request_entry_negative_timestamp", "request_entry", pack(request_entry(timestamp=-1)), 400,
        "field 'timestamp': must not be negative")
    bad("request_entry_options_not_a_map", "request_entry", pack(request_entry(options=[1])), 400,
        "field 'options': expected map, got array")
    bad("request_entry_option_priority_string", "request_entry", pack(request_entry(options={"priority": "1"})),
        400, "field 'options.priority': expected unsigned integer, got string")
    bad("status_notice_data_missing_attempts", "status_notice",
        pack({**status_notice(status_record()),
              "data": {k: v for k, v in status_record().items() if k != "attempts"}}),
        400, "missing field 'data.attempts'")
    return out


# --- signature ------------------------------------------------------------------------

def signatures():
    out = []
    good = b"LDGQ\x01"
    out.append({"name": "good", "hex": good.hex(), "valid": True})

    def bad(name, raw, msg):
        out.append({"name": name, "hex": raw.hex(), "valid": False, "error": {"code": 400, "message": msg}})

    bad("version_2", b"LDGQ\x02", "unsupported protocol version 2; this broker speaks 1")
    bad("version_0", b"LDGQ\x00", "unsupported protocol version 0; this broker speaks 1")
    bad("version_255", b"LDGQ\xff", "unsupported protocol version 255")
    bad("empty", b"", "not the ledgerq signature")
    bad("short", b"LDGQ", "not the ledgerq signature")
    bad("long", b"LDGQ\x01\x00", "not the ledgerq signature")
    bad("lower_case", b"ldgq\x01", "not the ledgerq signature")
    bad("msgpack_body_first", pack({"cmd": "ping", "rid": 1}), "not the ledgerq signature")
    bad("garbage", b"\x00\xff\x10GET /", "not the ledgerq signature")
    return out


def write(name, vectors, what):
    names = [v["name"] for v in vectors]
    assert len(names) == len(set(names)), name
    doc = {"spec": SPEC, "generated_by": "proto-spec/vectors/generate.py", "what": what, "vectors": vectors}
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")


def main():
    write("requests.json", requests(), "request bodies (peer -> broker, frame 2 on the ROUTER)")
    write("replies.json", replies(), "reply bodies (broker -> peer); decode with the answered command")
    write("notices.json", notices(), "publication bodies and their topic frames (status and requests XPUB)")
    write("signature.json", signatures(), "the first frame of every message")


if __name__ == "__main__":
    main()
