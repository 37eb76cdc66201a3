"""One TCP connection (accepted by our server or opened by a client session).

How this works: ``run`` owns the socket for its whole life. A reader task turns every chunk
the kernel hands us into a ``Received`` event; a writer task drains an outbox and reports each
kernel write as a ``Sent`` event with exactly the bytes the kernel took, so the stream never
claims more than was sent. Closing, resetting and half-closing are requests: they cancel or
nudge the tasks, and ``run`` itself closes the socket and emits the single ``Closed`` event,
so the order on each connection is always the order things happened.

Causal order, by construction: both tasks wait for readiness (``wait_readable`` /
``wait_writable``), then make one *synchronous* non-blocking syscall on the plain socket and
stamp its event with ``Hub.stamp`` straight after, with no checkpoint in between. No other task
can run between a syscall and its stamp, so ``seq`` orders events exactly as the syscalls
happened: the ``recv`` of a reply is always stamped after the ``send`` that carried the request
(trio's own ``await sock.send()`` yields *after* the syscall, which let the reader stamp the
reply first). Delivery to consumers follows with ``await hub.flush()``, which is where a lagging
lossless consumer holds this connection back.

Nothing a peer does may raise out of here: every syscall on the socket (including the
getsockname/getpeername at the start, shutdown, setsockopt and close) can fail once the peer has
reset, and each failure becomes events (``Error`` with its hint, then ``Closed``).

Sends are linear: the outbox holds memoryviews, and a partial write only advances a view,
never copies the rest. ``wait_outbox_below`` lets a producer (e.g. a file streamed from disk)
keep the outbox between a low- and a high-water mark instead of queueing everything at once.
"""

from __future__ import annotations

import array
import fcntl
import socket
import struct
import termios
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from enum import StrEnum
from typing import Any

import trio

from workbench import describe
from workbench.core.errors import explain
from workbench.core.hub import Hub, Origin, Stamp
from workbench.events import (
    Address,
    Closed,
    Closer,
    Error,
    Event,
    HalfClosed,
    PeerEof,
    Received,
    Sent,
    Side,
)

RECV_SIZE = 256 * 1024
SEND_CHUNK = 256 * 1024
UNKNOWN_ADDRESS = Address("?", 0)


class State(StrEnum):
    """Where a connection is in its life, in the words the UI shows (``workbench.describe``)."""

    OPEN = describe.OPEN
    PEER_DONE = describe.HALF_CLOSED_BY_PEER  # we got FIN; we may still send
    WE_DONE = describe.HALF_CLOSED_BY_US  # we sent FIN; we still read
    CLOSED = describe.CLOSED


def plain_socket(sock: trio.socket.SocketType) -> socket.socket:
    """Take the descriptor out of a trio socket into a plain non-blocking one, tuned for TCP.

    The connection makes its syscalls itself (see the module docstring); the trio socket is
    left detached, so closing it later is harmless. Tuning is best effort: a socket the peer
    already reset may refuse options, and that must not stop us from reporting the reset.
    """
    family, type_, proto = sock.family, sock.type, sock.proto
    plain = socket.socket(family, type_, proto, fileno=sock.detach())
    plain.setblocking(False)
    with suppress(OSError):
        plain.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if hasattr(socket, "TCP_NOTSENT_LOWAT"):  # as trio's SocketStream: wake the writer early
        with suppress(OSError):
            plain.setsockopt(socket.IPPROTO_TCP, socket.TCP_NOTSENT_LOWAT, 2**14)
    return plain


def address_of(getter: Callable[[], Any], fallback: Address) -> Address:
    """``getsockname``/``getpeername`` as an Address, or ``fallback`` when the socket is dead.

    A peer that connects and resets at once (port scanners do) leaves an accepted socket whose
    getpeername fails with ENOTCONN; the address accept() returned is the truth then.
    """
    try:
        return Address.from_sockaddr(getter())
    except OSError:
        return fallback


def _taken(view: memoryview, written: int) -> bytes:
    """The bytes of ``view`` the kernel took, for the ``Sent`` event: the queued ``bytes``
    object itself when all of it went in one write (a file's chunks usually do), else a copy."""
    whole = view.obj
    if written == len(view) and isinstance(whole, bytes) and len(whole) == written:
        return whole
    return bytes(view[:written])


def unread_bytes(sock: socket.socket) -> int:
    """Bytes in the kernel's receive buffer that nobody read (FIONREAD, a.k.a. SIOCINQ)."""
    count = array.array("i", [0])
    try:
        fcntl.ioctl(sock.fileno(), termios.FIONREAD, count, True)
    except OSError:
        return 0
    return max(count[0], 0)


class Connection:
    """A live socket plus the bookkeeping the UI and tests read back."""

    def __init__(
        self,
        hub: Hub,
        conn_id: int,
        side: Side,
        sock: socket.socket,
        *,
        local: Address | None = None,
        remote: Address | None = None,
        listener: int | None = None,
        echo: bool = False,
        close_on_eof: bool = False,
    ) -> None:
        """Wrap ``sock`` (plain, non-blocking; see ``plain_socket``); never raises on a dead one.

        ``local``/``remote`` are fallbacks for when the kernel can no longer tell (the address
        accept() or connect() used); the kernel's answer wins while the socket is alive.
        """
        self.id = conn_id
        self.side = side
        self.listener = listener
        self.echo = echo
        self.close_on_eof = close_on_eof
        self.local = address_of(sock.getsockname, local or UNKNOWN_ADDRESS)
        self.remote = address_of(sock.getpeername, remote or UNKNOWN_ADDRESS)
        # What every event of this connection says about where it happened.
        self.origin = Origin(conn=conn_id, side=side, local=self.local, remote=self.remote)
        self.state = State.OPEN
        self.bytes_in = 0
        self.bytes_out = 0
        self._hub = hub
        self._sock = sock
        self._outbox: deque[memoryview] = deque()
        self._outbox_bytes = 0
        self._wake_writer = trio.Event()
        self._progress = trio.lowlevel.ParkingLot()
        self._eof_requested = False
        self._closing_after_peer = False
        self._closer: Closer | None = None
        self._scope = trio.CancelScope()
        self.finished = trio.Event()

    @property
    def pending_bytes(self) -> int:
        """Bytes queued but not yet taken by the kernel: non-zero means the peer is slow."""
        return self._outbox_bytes

    @property
    def unread(self) -> int:
        """Bytes that arrived in the kernel and we have not read yet (0 once closed)."""
        return 0 if self.state is State.CLOSED else unread_bytes(self._sock)

    @property
    def accepts_data(self) -> bool:
        """False once ``send`` would drop data: we sent (or asked for) FIN, or it is closed."""
        return not (self.state in (State.WE_DONE, State.CLOSED) or self._eof_requested)

    def send(self, data: bytes) -> None:
        """Queue ``data``; the writer task delivers it in order.

        ``data`` is kept by reference (no copy), so it must not change afterwards: pass
        ``bytes``, or a memoryview of a buffer that is not reused.
        """
        if not self.accepts_data or not data:
            return
        view = memoryview(data).cast("B")
        self._outbox.append(view)
        self._outbox_bytes += len(view)
        self._wake_writer.set()

    async def wait_outbox_below(self, low_water: int) -> bool:
        """Wait until at most ``low_water`` bytes are queued; False if it can take no more.

        For producers of big streams (send a file): queue a chunk, then wait here before the
        next, so the outbox stays bounded while the kernel is kept busy. Returns True as soon
        as the outbox is at or below ``low_water`` and ``send`` still accepts data; False once
        the connection closed or half-closed (then stop producing). Cancellable.
        """
        while self.accepts_data and self._outbox_bytes > low_water:
            await self._progress.park()
        return self.accepts_data

    def half_close(self) -> None:
        """Send FIN once everything queued is written; keep reading."""
        if self.state in (State.OPEN, State.PEER_DONE):
            self._eof_requested = True
            self._wake_writer.set()
            self._progress.unpark_all()

    def close(self, *, reset: bool = False) -> None:
        """End the connection now: FIN, or RST when ``reset`` (queued data is dropped).

        The kernel turns a FIN into an RST by itself when unread data sits in our receive
        buffer; ``Closed`` then says so (``by=LOCAL_RESET`` with ``unread`` bytes).
        """
        if self._closer is None and self.state is not State.CLOSED:
            self._closer = Closer.LOCAL_RESET if reset else Closer.LOCAL
            self._scope.cancel()

    async def run(self) -> None:
        """Serve the connection until it is closed by either side."""
        try:
            with self._scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._read_loop)
                    nursery.start_soon(self._write_loop)
        finally:
            with trio.CancelScope(shield=True):
                await self._finish()

    async def _finish(self) -> None:
        closer = self._closer or Closer.LOCAL
        unread = unread_bytes(self._sock)
        if closer is Closer.LOCAL_RESET:
            with suppress(OSError):  # a socket that is already dead needs no RST
                self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif unread and closer in (Closer.LOCAL, Closer.PEER):
            closer = Closer.LOCAL_RESET  # the kernel answers close() with RST, not FIN
        trio.lowlevel.notify_closing(self._sock)
        with suppress(OSError):
            self._sock.close()
        self.state = State.CLOSED
        self._outbox.clear()
        self._outbox_bytes = 0
        self._progress.unpark_all()
        await self._emit(lambda at: Closed(**at, **self.origin, by=closer, unread=unread))
        self.finished.set()

    def _end(self, closer: Closer) -> None:
        if self._closer is None:
            self._closer = closer
        self._scope.cancel()

    async def _read_loop(self) -> None:
        sock = self._sock
        while True:
            await trio.lowlevel.checkpoint_if_cancelled()
            try:
                data = sock.recv(RECV_SIZE)
            except BlockingIOError:
                await trio.lowlevel.wait_readable(sock)
                continue
            except OSError as exc:
                await self._report(exc, "receive")
                self._end(Closer.PEER_RESET)
                return
            if not data:
                self._stamp_eof()
                self._peer_finished()  # the state changes with the event, before anyone sees it
                await self._hub.flush()
                return
            self.bytes_in += len(data)
            self._stamp_received(data)  # no checkpoint since the recv: causal order
            if self.echo:
                self.send(data)
            await self._hub.flush()

    def _peer_finished(self) -> None:
        if self.state is State.WE_DONE:
            self._end(Closer.PEER)
            return
        self.state = State.PEER_DONE
        if self.echo or self.close_on_eof:
            self._closing_after_peer = True
            self.half_close()  # what is queued (echoes included) still reaches the peer first

    async def _write_loop(self) -> None:
        while True:
            await self._wake_writer.wait()
            self._wake_writer = trio.Event()
            while self._outbox:
                if not await self._write_one():
                    return
            if self._eof_requested and self.state is not State.WE_DONE:
                if not await self._send_eof():
                    return

    async def _write_one(self) -> bool:
        """One non-blocking send of at most SEND_CHUNK bytes: O(bytes sent), never a copy of
        the rest. False when the connection is over."""
        await trio.lowlevel.checkpoint_if_cancelled()
        view = self._outbox[0]
        try:
            written = self._sock.send(view[:SEND_CHUNK])
        except BlockingIOError:
            await trio.lowlevel.wait_writable(self._sock)
            return True
        except OSError as exc:
            await self._report(exc, "send")
            self._end(Closer.PEER_RESET)
            return False
        if written == len(view):
            self._outbox.popleft()
        else:
            self._outbox[0] = view[written:]
        self._outbox_bytes -= written
        self.bytes_out += written
        # Stamped before any checkpoint: a reply cannot be logged ahead of this send.
        self._stamp_sent(_taken(view, written), self._outbox_bytes)
        self._progress.unpark_all()
        await self._hub.flush()
        return True

    async def _send_eof(self) -> bool:
        peer_done = self.state is State.PEER_DONE
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError as exc:  # ENOTCONN: the peer reset while we were getting here
            await self._report(exc, "shutdown")
            self._end(Closer.PEER_RESET)
            return False
        self.state = State.WE_DONE
        self._progress.unpark_all()
        await self._emit(lambda at: HalfClosed(**at, **self.origin))
        if peer_done:
            self._end(Closer.PEER if self._closing_after_peer else Closer.LOCAL)
        return True

    async def _report(self, exc: BaseException, operation: str) -> None:
        explanation = explain(exc, operation, self.remote)
        await self._emit(
            lambda at: Error(
                **at,
                **self.origin,
                operation=operation,
                errno=explanation.errno,
                message=explanation.message,
                hint=explanation.hint,
            )
        )

    def _stamp_eof(self) -> None:
        self._hub.stamp(lambda at: PeerEof(**at, **self.origin))

    def _stamp_received(self, data: bytes) -> None:
        self._hub.stamp(lambda at: Received(**at, **self.origin, data=data))

    def _stamp_sent(self, data: bytes, pending: int) -> None:
        self._hub.stamp(lambda at: Sent(**at, **self.origin, data=data, pending=pending))

    async def _emit(self, build: Callable[[Stamp], Event]) -> None:
        self._hub.stamp(build)
        await self._hub.flush()
