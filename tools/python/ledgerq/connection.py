"""One DEALER to the broker's ROUTER: send a request, wait for its reply
(PROTOCOL.md §2, §3). Synchronous; one request in flight at a time; not
thread-safe (use one object per thread).
"""

import itertools
import time

import zmq

from . import protocol as p


class Connection:
    """A DEALER connected to the broker's command socket.

    `timeout` (seconds) bounds each call; a call that times out raises
    protocol.Timeout, and its late reply, if any, is dropped by rid. The
    `zmq.Context` is shared (zmq.Context.instance()) unless given.
    `credentials` (ledgerq.Credentials): a broker in secure mode (§14); every
    socket of this object is then a CURVE client. None: plain ZeroMQ.
    """

    def __init__(self, router, timeout=10.0, context=None, credentials=None):
        self.router = router
        self.timeout = timeout
        self.context = context or zmq.Context.instance()
        self.credentials = credentials
        self._dealer = new_socket(self.context, zmq.DEALER, credentials)
        self._dealer.connect(router)
        self._rids = itertools.count(1)

    def close(self):
        """Closes the socket; the object cannot be used afterwards."""
        if self._dealer is not None:
            self._dealer.close()
            self._dealer = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, cmd, timeout=None, **fields):
        """Sends request `cmd` with `fields` (None values are left out) and
        returns the reply's fields (a dict with rid and code 200). A reply
        with another code raises LedgerqError(code, message); no reply within
        `timeout` (default self.timeout, seconds) raises Timeout."""
        rid = next(self._rids)
        request = {k: v for k, v in fields.items() if v is not None}
        request.update(cmd=cmd, rid=rid)
        frame = p.encode_request(request)
        p.decode_request(frame)          # the broker's checks, locally: fail before sending
        wait_ms = int((self.timeout if timeout is None else timeout) * 1000)
        deadline = _now_ms() + wait_ms
        # A DEALER without a pipe (a CURVE handshake the broker refused: an
        # unknown key gets no answer, §14.8) blocks a send: bound it too.
        self._dealer.setsockopt(zmq.SNDTIMEO, max(wait_ms, 0))
        try:
            self._dealer.send_multipart([p.SIGNATURE, frame])
        except zmq.Again:
            raise p.Timeout("could not send %s (rid %d) within %d ms" % (cmd, rid, wait_ms)) from None
        poller = zmq.Poller()
        poller.register(self._dealer, zmq.POLLIN)
        while True:
            left = deadline - _now_ms()
            if left <= 0 or not poller.poll(left):
                raise p.Timeout("no reply to %s (rid %d) within %d ms" % (cmd, rid, wait_ms))
            frames = self._dealer.recv_multipart()
            if len(frames) == 3 and frames[0] == b"":
                frames = frames[1:]
            if len(frames) != 2:
                continue                     # not a reply of this protocol: drop it
            try:
                p.check_signature(frames[0])
            except p.ProtocolError:
                continue
            got = p.peek_rid(frames[1])
            if got != rid and got != 0:
                continue                     # a late reply to a call that timed out
            reply = p.decode_reply(cmd, frames[1])
            if reply["code"] != p.OK:
                raise p.LedgerqError(reply["code"], reply.get("message", ""), reply["rid"])
            if got == 0 and rid != 0:
                continue                     # 200 with rid 0 is not ours
            return reply

    def ping(self):
        """{version, now}: the broker's protocol version and clock (µs)."""
        return self.call("ping")


def new_socket(context, kind, credentials=None):
    """A socket with LINGER 0, a CURVE client when `credentials` are given
    (set before connect, as CURVE requires)."""
    s = context.socket(kind)
    s.setsockopt(zmq.LINGER, 0)
    if credentials is not None:
        credentials.apply(s)
    return s


def _now_ms():
    return int(time.monotonic() * 1000)
