#!/usr/bin/python3
"""Generates the ledgerq wire protocol v1 conformance vectors (PROTOCOL.md §11).

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
       note="the worked example of PROTOCOL.md §12")
    ok("cancel", "cancel", 6, {"datasource": DS, "job": JOB, "client": CLIENT})
    ok("status", "status", 7, {"datasource": DS, "job": JOB, "client": CLIENT})
    ok("update_accepted", "update", 8, {"datasource": DS, "job": JOB, "status": "accepted"})
    ok("update_complete", "update", 9,
       {"datasource": DS, "job": JOB, "status": "complete", "response": RESP, "error": ""},
       {"datasource": DS, "job": JOB, "status": "complete", "response": any_(RESP), "error": ""})
    ok("update_failed", "update", 10,
       {"datasource": DS, "job": JOB, "status": "failed", "error": "upstream timed out"})
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
    bad("array_over_262144_elements",
        {"concat": [(map_header(3) + pack("cmd") + pack("ping") + pack("rid") + pack(56) + pack("pad")
                     + array_header(262145)).hex(),
                    {"repeat": "c0", "times": 262145}]},
        413, "over the limits", 0)
    bad("map_header_claims_4g_entries", b"\xdf\xff\xff\xff\xff", 413, "over the limits", 0)
    bad("array_header_claims_4g_elements", b"\xdd\xff\xff\xff\xff", 413, "over the limits", 0)
    bad("str_header_claims_4g_bytes", b"\xdb\xff\xff\xff\xff", 400, "truncated msgpack", 0)
    return out


# --- records (shared by replies and notices) --------------------------------------

def status_record(job=JOB, client=CLIENT, status="submitted", response=None, error="", submitted=T0,
                  updated=T0, cancel_requested=False):
    m = {"job": job, "client": client, "status": status}
    if response is not None:
        m["response"] = response
    m.update({"error": error, "submitted": submitted, "updated": updated, "cancel_requested": cancel_requested})
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


def request_entry(type_="request", job=JOB, client=CLIENT, request=REQ, timestamp=T0, seq=1, datasource=DS):
    m = {"datasource": datasource, "type": type_, "job": job, "client": client}
    if request is not None:
        m["request"] = request
    m.update({"timestamp": timestamp, "seq": seq})
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

    ok("ping", "ping", 1, {"version": 1, "now": T0 + 5})
    ok("ds_create_created", "ds_create", 2, {"created": True})
    ok("ds_create_existed", "ds_create", 3, {"created": False}, note="ds_create is idempotent")
    ok("ds_delete", "ds_delete", 4, {"deleted": True})
    ok("ds_list", "ds_list", 5, {"datasources": [{"datasource": DS, "created": T0, "seq": 12},
                                                 {"datasource": "b", "created": T0 + 9, "seq": 0}]})
    ok("ds_list_empty", "ds_list", 6, {"datasources": []})
    ok("submit", "submit", 5, {"job": JOB, "client": CLIENT, "timestamp": T0 + 1, "duplicate": False},
       note="the reply of the worked example (PROTOCOL.md §12)")
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
    err("error_not_found", "submit", 21, 404, "no datasource 'weather.eu-1'")
    err("error_conflict", "submit", 22, 409, "job 'job-0001' exists with another body")
    err("error_too_large", "submit", 23, 413, "field 'request': body over 1 MiB")
    err("error_internal", "update", 24, 500, "storage failure; nothing was applied")
    err("error_unknown_code_3xx", "submit", 25, 302, "busy, retry later",
        note="3xx is reserved for later versions; a client treats an unknown code by its class")
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
    re_("request_entry_request", request_entry(seq=1), DS.encode())
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
