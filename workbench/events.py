"""The engine's event vocabulary: one frozen, slotted dataclass per kind of thing that happens.

Everything workbench shows, records or replays is one of these. They are plain data (stdlib
only, no behaviour beyond derived properties) so the UI, the recorder, the replayer and the
tests can all consume the same stream. Payloads stay ``bytes``: turning them into text is the
job of whoever displays them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, NamedTuple

_BRACKETED = re.compile(r"\[(?P<host>.*:.*)\]:(?P<port>[0-9]{1,5})", re.DOTALL)
_PLAIN = re.compile(r"(?P<host>[^:]*):(?P<port>[0-9]{1,5})", re.DOTALL)


class Address(NamedTuple):
    """A socket address reduced to what people read: host and port (IPv6 flow info dropped)."""

    host: str
    port: int

    def __str__(self) -> str:
        if ":" in self.host:
            return f"[{self.host}]:{self.port}"
        return f"{self.host}:{self.port}"

    @classmethod
    def parse(cls, text: str) -> Address:
        """Invert ``str(Address)`` exactly, brackets around IPv6 hosts included.

        Exact, not forgiving: recordings store addresses this way and must read back the same,
        whatever the host holds (a Unix path with a colon, an empty host). What people type goes
        through ``workbench.endpoints``, which checks the host and port and explains mistakes.
        """
        match = _BRACKETED.fullmatch(text) or _PLAIN.fullmatch(text)
        if match is None or int(match["port"]) > 65535:
            raise ValueError(f"not a host:port address: {text!r}")
        return cls(match["host"], int(match["port"]))

    @classmethod
    def from_sockaddr(cls, sockaddr: tuple[object, ...] | str) -> Address:
        """Normalise what getsockname/getpeername return (2-tuple for v4, 4-tuple for v6)."""
        if isinstance(sockaddr, str):
            return cls(sockaddr, 0)
        host, port = sockaddr[0], sockaddr[1]
        return cls(str(host), int(port))  # type: ignore[call-overload]


class Side(StrEnum):
    """Which role the connection plays for us."""

    LISTENER = "listener"  # a listening socket of our server
    PEER = "peer"  # a connection our server accepted
    CLIENT = "client"  # a connection we opened


class Closer(StrEnum):
    """How a connection ended; a teacher's tool must say who closed and how."""

    LOCAL = "local"  # we closed it gracefully (FIN)
    LOCAL_RESET = "local-reset"  # we aborted it (RST: SO_LINGER 0, or closed with unread data)
    PEER = "peer"  # the peer closed gracefully and both directions are done
    PEER_RESET = "peer-reset"  # the peer aborted it (ECONNRESET / EPIPE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Fields every event carries.

    ``seq`` gives the total order in which the engine saw things; ``mono`` is
    ``time.monotonic()`` for measuring intervals, ``wall`` is ``time.time()`` for people.
    ``conn`` is the id of the connection (or listener) the event belongs to.
    """

    kind: ClassVar[str] = "event"

    seq: int
    mono: float
    wall: float
    conn: int
    side: Side
    local: Address | None = None
    remote: Address | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Listening(Event):
    """A server socket is bound and listening; ``local`` holds the real port."""

    kind: ClassVar[str] = "listen"
    backlog: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Stopped(Event):
    """A server socket stopped listening; accepted peers are not affected by this alone."""

    kind: ClassVar[str] = "stop"


@dataclass(frozen=True, slots=True, kw_only=True)
class Accepted(Event):
    """Our server accepted a peer; ``listener`` is the id of the listening socket."""

    kind: ClassVar[str] = "accept"
    listener: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Connecting(Event):
    """A client started connecting; lets the UI show the attempt before it resolves."""

    kind: ClassVar[str] = "connecting"
    timeout: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Connected(Event):
    """A client connection is established."""

    kind: ClassVar[str] = "connect"


@dataclass(frozen=True, slots=True, kw_only=True)
class Sent(Event):
    """These exact bytes were handed to the kernel for this connection.

    ``pending`` is what was still queued behind them: when it stays high, the peer is not
    reading and TCP's flow control is holding our sends back.
    """

    kind: ClassVar[str] = "send"
    data: bytes
    pending: int = 0

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True, kw_only=True)
class Received(Event):
    """These exact bytes arrived from the peer."""

    kind: ClassVar[str] = "recv"
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerEof(Event):
    """The peer finished sending (FIN). The connection stays half-open: we may still send."""

    kind: ClassVar[str] = "eof"


@dataclass(frozen=True, slots=True, kw_only=True)
class HalfClosed(Event):
    """We finished sending (shutdown of our write side); we keep reading."""

    kind: ClassVar[str] = "shutdown"


@dataclass(frozen=True, slots=True, kw_only=True)
class Closed(Event):
    """The connection is gone; ``by`` says who ended it and how.

    ``unread`` counts bytes that had arrived in the kernel but were never read (FIONREAD just
    before the close). Closing a socket with unread data makes the kernel send RST instead of
    FIN, so a close we asked for as FIN is reported as ``LOCAL_RESET`` whenever ``unread`` is
    above zero, and ``reason`` says why.
    """

    kind: ClassVar[str] = "close"
    by: Closer
    unread: int = 0

    @property
    def reason(self) -> str:
        """Why our close went out as RST (bytes left unread); empty when that is not the story."""
        if self.unread <= 0 or self.by is not Closer.LOCAL_RESET:
            return ""
        unit = "byte" if self.unread == 1 else "bytes"
        return (
            f"{self.unread} {unit} had arrived and were never read: the kernel answers the "
            "close of a socket with unread data with RST, not FIN"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Error(Event):
    """Something a user can cause went wrong; ``hint`` says what to check, as a teacher would."""

    kind: ClassVar[str] = "error"
    operation: str
    errno: int | None
    message: str
    hint: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        Listening,
        Stopped,
        Accepted,
        Connecting,
        Connected,
        Sent,
        Received,
        PeerEof,
        HalfClosed,
        Closed,
        Error,
    )
}
"""Every concrete event class by its ``kind``, for readers that rebuild events from data."""
