#!/usr/bin/env python3
"""Writes the conformance vectors' request frames as a libFuzzer corpus.

  seed_corpus.py VECTORS_DIR OUT_REQUESTS OUT_COMMANDS

OUT_REQUESTS gets one file per request vector (its bytes); OUT_COMMANDS
gets the same frames as fuzz_commands records ([u16 length][bytes]), each
valid vector alone and all of them in one sequence.
"""
import json
import os
import sys


def frame(v):
    h = v["hex"]
    if isinstance(h, dict):
        parts = []
        for part in h["concat"]:
            if isinstance(part, dict):
                parts.append(bytes.fromhex(part["repeat"]) * part["times"])
            else:
                parts.append(bytes.fromhex(part))
        return b"".join(parts)
    return bytes.fromhex(h)


def main():
    vectors, out_req, out_cmd = sys.argv[1:4]
    os.makedirs(out_req, exist_ok=True)
    os.makedirs(out_cmd, exist_ok=True)
    with open(os.path.join(vectors, "requests.json")) as f:
        doc = json.load(f)
    items = doc["vectors"] if isinstance(doc, dict) else doc
    records = []
    for v in items:
        b = frame(v)
        if len(b) > 65536:
            continue
        with open(os.path.join(out_req, v["name"]), "wb") as f:
            f.write(b)
        if v.get("valid") and len(b) < 4096:
            rec = len(b).to_bytes(2, "big") + b
            records.append(rec)
            with open(os.path.join(out_cmd, v["name"]), "wb") as f:
                f.write(rec)
    with open(os.path.join(out_cmd, "all-in-one"), "wb") as f:
        f.write(b"".join(records))


if __name__ == "__main__":
    main()
