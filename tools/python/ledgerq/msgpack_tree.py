"""A strict msgpack reader and canonical writer (PROTOCOL.md §4, §5).

python-msgpack cannot tell us what the spec needs (str vs bin is fine, but not
the byte span of a nested value, the width of a float, duplicate keys, a depth
limit, truncated vs malformed input), so frames are parsed here into a small
tree of nodes, and the protocol layer (protocol.py) reads the tree.

A node is a tuple (tag, value):

    ("nil", None) ("bool", bool) ("int", int) ("float32", bytes4) ("float64", bytes8)
    ("str", bytes) ("bin", bytes) ("ext", (type, bytes)) ("array", [node])
    ("map", [(key_node, value_node)])

Every malformed input raises WireError(code, message): never another exception.
"""

import struct

MAX_ARRAY = 262_144   # elements of one array inside a frame (§5)
MAX_MAP = 65_536      # pairs of one map inside a frame (§5)

TYPE_NAMES = {"nil": "nil", "bool": "boolean", "int": "integer", "float32": "float", "float64": "float",
              "str": "string", "bin": "binary", "ext": "ext", "array": "array", "map": "map"}


class WireError(Exception):
    """A frame that is not acceptable msgpack. `code` is a protocol status code."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def _truncated():
    return WireError(400, "truncated msgpack")


def parse(data, max_depth):
    """Parses exactly one value from `data` (bytes); containers may nest at most
    `max_depth` deep (a scalar has depth 0). Raises WireError."""
    data = bytes(data)
    node, pos = _parse(data, 0, 0, max_depth)
    if pos != len(data):
        raise WireError(400, "trailing bytes")
    return node


def _take(data, pos, n):
    end = pos + n
    if end > len(data):
        raise _truncated()
    return data[pos:end], end


def _uint(data, pos, n):
    raw, pos = _take(data, pos, n)
    return int.from_bytes(raw, "big"), pos


def _parse(data, pos, depth, max_depth):
    if pos >= len(data):
        raise _truncated()
    b = data[pos]
    pos += 1
    if b <= 0x7F:
        return ("int", b), pos
    if b >= 0xE0:
        return ("int", b - 0x100), pos
    if b <= 0x8F:
        return _container(data, pos, "map", b & 0x0F, depth, max_depth)
    if b <= 0x9F:
        return _container(data, pos, "array", b & 0x0F, depth, max_depth)
    if b <= 0xBF:
        raw, pos = _take(data, pos, b & 0x1F)
        return ("str", raw), pos
    if b == 0xC0:
        return ("nil", None), pos
    if b == 0xC1:
        raise WireError(400, "malformed msgpack")
    if b in (0xC2, 0xC3):
        return ("bool", b == 0xC3), pos
    if 0xC4 <= b <= 0xC6:                      # bin 8/16/32
        n, pos = _uint(data, pos, 1 << (b - 0xC4))
        raw, pos = _take(data, pos, n)
        return ("bin", raw), pos
    if 0xC7 <= b <= 0xC9:                      # ext 8/16/32
        n, pos = _uint(data, pos, 1 << (b - 0xC7))
        t, pos = _take(data, pos, 1)
        raw, pos = _take(data, pos, n)
        return ("ext", (struct.unpack(">b", t)[0], raw)), pos
    if b == 0xCA:
        raw, pos = _take(data, pos, 4)
        return ("float32", raw), pos
    if b == 0xCB:
        raw, pos = _take(data, pos, 8)
        return ("float64", raw), pos
    if 0xCC <= b <= 0xCF:                      # uint 8..64
        n, pos = _uint(data, pos, 1 << (b - 0xCC))
        return ("int", n), pos
    if 0xD0 <= b <= 0xD3:                      # int 8..64
        raw, pos = _take(data, pos, 1 << (b - 0xD0))
        return ("int", int.from_bytes(raw, "big", signed=True)), pos
    if 0xD4 <= b <= 0xD8:                      # fixext 1..16
        t, pos = _take(data, pos, 1)
        raw, pos = _take(data, pos, 1 << (b - 0xD4))
        return ("ext", (struct.unpack(">b", t)[0], raw)), pos
    if 0xD9 <= b <= 0xDB:                      # str 8/16/32
        n, pos = _uint(data, pos, 1 << (b - 0xD9))
        raw, pos = _take(data, pos, n)
        return ("str", raw), pos
    if b in (0xDC, 0xDD):
        n, pos = _uint(data, pos, 2 if b == 0xDC else 4)
        return _container(data, pos, "array", n, depth, max_depth)
    n, pos = _uint(data, pos, 2 if b == 0xDE else 4)   # 0xDE, 0xDF: map 16/32
    return _container(data, pos, "map", n, depth, max_depth)


def _container(data, pos, tag, n, depth, max_depth):
    if n > (MAX_MAP if tag == "map" else MAX_ARRAY):
        raise WireError(413, "%s of %d elements: over the limits" % (tag, n))
    if depth + 1 > max_depth:
        raise WireError(413, "nesting deeper than %d" % max_depth)
    # Every element takes at least one byte: refuse absurd headers before looping.
    if n * (2 if tag == "map" else 1) > len(data) - pos:
        raise _truncated()
    items = []
    if tag == "array":
        for _ in range(n):
            v, pos = _parse(data, pos, depth + 1, max_depth)
            items.append(v)
    else:
        for _ in range(n):
            k, pos = _parse(data, pos, depth + 1, max_depth)
            v, pos = _parse(data, pos, depth + 1, max_depth)
            items.append((k, v))
    return (tag, items), pos


def depth(node):
    """Nesting depth of a node: a scalar 0, [0] 1."""
    tag, v = node
    if tag == "array":
        return 1 + max((depth(x) for x in v), default=0)
    if tag == "map":
        return 1 + max((max(depth(k), depth(x)) for k, x in v), default=0)
    return 0


# --- writing ------------------------------------------------------------------

def w_int(n):
    """Smallest encoding of an integer (unsigned forms for n >= 0)."""
    if n >= 0:
        if n < 0x80:
            return bytes([n])
        if n < 1 << 8:
            return b"\xcc" + bytes([n])
        if n < 1 << 16:
            return b"\xcd" + struct.pack(">H", n)
        if n < 1 << 32:
            return b"\xce" + struct.pack(">I", n)
        if n < 1 << 64:
            return b"\xcf" + struct.pack(">Q", n)
        raise ValueError("integer %d does not fit in uint64" % n)
    if n >= -32:
        return bytes([n & 0xFF])
    if n >= -(1 << 7):
        return b"\xd0" + struct.pack(">b", n)
    if n >= -(1 << 15):
        return b"\xd1" + struct.pack(">h", n)
    if n >= -(1 << 31):
        return b"\xd2" + struct.pack(">i", n)
    if n >= -(1 << 63):
        return b"\xd3" + struct.pack(">q", n)
    raise ValueError("integer %d does not fit in int64" % n)


def w_str(b):
    n = len(b)
    if n < 32:
        return bytes([0xA0 | n]) + b
    if n < 1 << 8:
        return b"\xd9" + bytes([n]) + b
    if n < 1 << 16:
        return b"\xda" + struct.pack(">H", n) + b
    return b"\xdb" + struct.pack(">I", n) + b


def w_bin(b):
    n = len(b)
    if n < 1 << 8:
        return b"\xc4" + bytes([n]) + b
    if n < 1 << 16:
        return b"\xc5" + struct.pack(">H", n) + b
    return b"\xc6" + struct.pack(">I", n) + b


def w_ext(t, b):
    n = len(b)
    fixed = {1: 0xD4, 2: 0xD5, 4: 0xD6, 8: 0xD7, 16: 0xD8}
    if n in fixed:
        head = bytes([fixed[n]])
    elif n < 1 << 8:
        head = b"\xc7" + bytes([n])
    elif n < 1 << 16:
        head = b"\xc8" + struct.pack(">H", n)
    else:
        head = b"\xc9" + struct.pack(">I", n)
    return head + struct.pack(">b", t) + b


def w_array_header(n):
    if n < 16:
        return bytes([0x90 | n])
    if n < 1 << 16:
        return b"\xdc" + struct.pack(">H", n)
    return b"\xdd" + struct.pack(">I", n)


def w_map_header(n):
    if n < 16:
        return bytes([0x80 | n])
    if n < 1 << 16:
        return b"\xde" + struct.pack(">H", n)
    return b"\xdf" + struct.pack(">I", n)


def w_bool(v):
    return b"\xc3" if v else b"\xc2"


def canonical(node):
    """The canonical encoding of a node (§4 rule 10): smallest headers and
    integer widths, floats at their width, map order kept."""
    out = []
    _canon(node, out)
    return b"".join(out)


def _canon(node, out):
    tag, v = node
    if tag == "nil":
        out.append(b"\xc0")
    elif tag == "bool":
        out.append(w_bool(v))
    elif tag == "int":
        out.append(w_int(v))
    elif tag == "float32":
        out.append(b"\xca" + v)
    elif tag == "float64":
        out.append(b"\xcb" + v)
    elif tag == "str":
        out.append(w_str(v))
    elif tag == "bin":
        out.append(w_bin(v))
    elif tag == "ext":
        out.append(w_ext(v[0], v[1]))
    elif tag == "array":
        out.append(w_array_header(len(v)))
        for x in v:
            _canon(x, out)
    else:
        out.append(w_map_header(len(v)))
        for k, x in v:
            _canon(k, out)
            _canon(x, out)
