"""The JSON form of a body (PROTOCOL.md §4): Body.to_json and Body.from_json
write and read msgpack bin as {"$bin": "<hex>"}, as the C++ tools and
libclient's Payload do (tests/unit/json_test.cpp, tests/client/payload_test.cpp)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ledgerq import protocol as p  # noqa: E402


class BodyJson(unittest.TestCase):
    def test_bin_is_lowercase_hex_both_ways(self):
        body = p.Body.of({"img": b"\x00\xff\x10", "n": 1})
        self.assertEqual(body.to_json(), '{"img":{"$bin":"00ff10"},"n":1}')
        self.assertEqual(p.Body.from_json('{"img": {"$bin": "00FF10"}, "n": 1}'), body)
        self.assertEqual(p.Body.from_json('{"$bin": "610062ff"}').raw, b"\xc4\x04a\x00b\xff")
        self.assertEqual(p.Body.of(b"").to_json(), '{"$bin":""}')

    def test_the_same_bytes_as_the_cpp_codec(self):
        # tests/unit/json_test.cpp: BinaryIsLowercaseHexAndReadInEitherCase
        body = p.Body.from_json('[{"$bin": "00FFaB"}, {"$bin": ""}]')
        self.assertEqual(body.raw, b"\x92\xc4\x03\x00\xff\xab\xc4\x00")
        self.assertEqual(body.to_json(), '[{"$bin":"00ffab"},{"$bin":""}]')

    def test_only_a_lone_string_valued_dollar_bin_is_binary(self):
        self.assertEqual(p.Body.from_json('{"$bin": 5}').value(), {"$bin": 5})
        self.assertEqual(p.Body.from_json('{"$bin": "00", "x": 1}').value(), {"$bin": "00", "x": 1})

    def test_bad_hex_and_bad_json_are_refused(self):
        for text in ('{"$bin": "abc"}', '{"$bin": "0g"}', '{"$bin": "00 ff"}', "{nope"):
            with self.assertRaises(p.ProtocolError) as cm:
                p.Body.from_json(text)
            self.assertEqual(cm.exception.code, 400, text)

    def test_values_json_cannot_hold_are_refused(self):
        for raw in (b"\xd4\x01\x00", b"\x81\x01\x02"):  # an ext; a map with an int key
            with self.assertRaises(p.ProtocolError) as cm:
                p.Body.from_msgpack(raw).to_json()
            self.assertEqual(cm.exception.code, 400)


if __name__ == "__main__":
    unittest.main()
