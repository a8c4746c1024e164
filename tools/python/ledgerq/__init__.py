"""ledgerq: a Python client of the LDGQ/1 job broker protocol
(proto-spec/PROTOCOL.md), over pyzmq and msgpack.

    Client  submit, submit_batch, status, cancel, watch (status notices with gap recovery), wait_for
    Driver  ds_create/configure/delete/list, follow (request entries with `since`), update,
            latest, since, and the operator commands
    Worker  dequeue (with wait), ack, heartbeat, checkpoint
    Credentials  CURVE keys for a broker in secure mode (from_files, from_env)
    protocol  frames, codec, status codes, errors (no sockets)
"""

from .protocol import (Body, LedgerqError, ProtocolError, Timeout, is_retryable, OK, QUEUE_FULL, RATE_LIMITED,
                       BAD_REQUEST, FORBIDDEN, NOT_FOUND, CONFLICT, TOO_LARGE, INTERNAL, TERMINAL)
from .credentials import Credentials
from .client import Client, Watch
from .driver import Driver, Feed
from .worker import Worker

__all__ = ["Body", "LedgerqError", "ProtocolError", "Timeout", "is_retryable", "OK", "QUEUE_FULL", "RATE_LIMITED",
           "BAD_REQUEST", "FORBIDDEN", "NOT_FOUND", "CONFLICT", "TOO_LARGE", "INTERNAL", "TERMINAL", "Client",
           "Watch", "Driver", "Feed", "Worker", "Credentials"]
