"""CURVE credentials for a broker in secure mode (PROTOCOL.md §14): the
broker's public key and this peer's key pair. With them every socket of a
Client, Driver, Worker (and their Watch/Feed) is a CURVE client; without
them (credentials=None, the default) the peer speaks plain ZeroMQ, which
only a broker in development mode accepts.

Keys are Z85 text of 40 characters. A key file holds one key on a line;
blank lines and lines beginning with '#' are ignored (§14.6). `ledgerq
keygen NAME` writes NAME.pub and NAME.secret (mode 0600). Bad keys, a
missing secret, or a secret file its group or others may read raise
LedgerqError(400), as libclient's Credentials do.
"""

import dataclasses
import os
import stat

import zmq
from zmq.utils import z85

from . import protocol as p

Z85_KEY = 40


def _err(message):
    return p.LedgerqError(p.BAD_REQUEST, message)


def _text(key):
    return key.decode("ascii", "replace") if isinstance(key, (bytes, bytearray)) else str(key)


def is_key(z85_text):
    """True when `z85_text` (str or bytes) is a Z85 key: 40 characters that decode to 32 bytes."""
    text = _text(z85_text)
    if len(text) != Z85_KEY:
        return False
    try:
        return len(z85.decode(text)) == 32
    except Exception:                 # a character outside the alphabet, a value over 32 bits
        return False


def public_of(secret_key):
    """The Z85 public key of a Z85 secret key."""
    if not is_key(secret_key):
        raise _err("not a Z85 secret key")
    return zmq.curve_public(_text(secret_key).encode("ascii")).decode("ascii")


def _key_of_file(path, kind):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        raise _err("%s: cannot read" % path) from None
    lines = [ln.strip() for ln in data.split(b"\n")]
    lines = [ln for ln in lines if ln and not ln.startswith(b"#")]
    if len(lines) != 1 or not is_key(lines[0]):
        raise _err("%s: not a %s key file (one Z85 key of 40 characters)" % (path, kind))
    return lines[0].decode("ascii")


def read_public(path):
    """The key of a .pub file."""
    return _key_of_file(path, "public")


def read_secret(path):
    """(public, secret) of a .secret file, which must be readable by its owner only."""
    path = os.fspath(path)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        raise _err("%s: cannot read" % path) from None
    if mode & 0o077:
        raise _err("%s: a secret key file must be readable by its owner only (mode %04o; run chmod 600 %s)"
                   % (path, stat.S_IMODE(mode), path))
    secret = _key_of_file(path, "secret")
    return public_of(secret), secret


def public_key_arg(text_or_path):
    """A public key given as its Z85 text or as a .pub file. A file that
    exists wins: a path of 40 characters may also be valid Z85."""
    if is_key(text_or_path) and not (isinstance(text_or_path, str) and os.path.isfile(text_or_path)):
        return _text(text_or_path)
    return read_public(os.fspath(text_or_path))


@dataclasses.dataclass(frozen=True)
class Credentials:
    """The broker's public key and this peer's key pair, as Z85 str (bytes are accepted)."""

    server_key: str
    public_key: str
    secret_key: str

    def __post_init__(self):
        for field in ("server_key", "public_key", "secret_key"):
            value = _text(getattr(self, field))
            if not is_key(value):
                raise _err("%s: not a Z85 key of 40 characters" % field)
            object.__setattr__(self, field, value)

    def __repr__(self):                  # keep the secret out of logs and tracebacks
        return "Credentials(server_key=%r, public_key=%r, secret_key=...)" % (self.server_key, self.public_key)

    @classmethod
    def from_files(cls, server_key, secret_file):
        """`server_key`: the broker's .pub file or its Z85 text; `secret_file`:
        this peer's .secret file (its public key is derived from it)."""
        public, secret = read_secret(secret_file)
        return cls(public_key_arg(server_key), public, secret)

    @classmethod
    def from_env(cls, environ=None):
        """From LEDGERQ_SERVER_KEY (the broker's .pub file or Z85 text) with
        LEDGERQ_SECRET_KEY_FILE (a .secret file) or LEDGERQ_SECRET_KEY (Z85
        text), as the ledgerq tools read them. None when LEDGERQ_SERVER_KEY
        is unset or empty (plain mode)."""
        env = os.environ if environ is None else environ
        server = env.get("LEDGERQ_SERVER_KEY", "")
        if not server:
            return None
        file, secret = env.get("LEDGERQ_SECRET_KEY_FILE", ""), env.get("LEDGERQ_SECRET_KEY", "")
        if file:
            return cls.from_files(server, file)
        if not secret:
            raise _err("LEDGERQ_SERVER_KEY is set but neither LEDGERQ_SECRET_KEY_FILE nor LEDGERQ_SECRET_KEY")
        try:
            public = public_of(secret)
        except p.LedgerqError as e:
            raise _err("LEDGERQ_SECRET_KEY: " + e.message) from None
        return cls(public_key_arg(server), public, secret)

    def apply(self, socket):
        """Makes `socket` a CURVE client of the broker (call before connect)."""
        socket.setsockopt(zmq.CURVE_SERVERKEY, self.server_key.encode("ascii"))
        socket.setsockopt(zmq.CURVE_PUBLICKEY, self.public_key.encode("ascii"))
        socket.setsockopt(zmq.CURVE_SECRETKEY, self.secret_key.encode("ascii"))
