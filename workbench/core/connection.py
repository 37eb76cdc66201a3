"""One TCP connection (accepted by our server or opened by a client session).

How this works: ``run`` owns the socket for its whole life. A reader task turns every chunk
the kernel hands us into a ``Received`` event; a writer task drains an outbox and reports each
kernel write as a ``Sent`` event with exactly the bytes the kernel took, so the stream never
claims more than was sent. Closing, resetting and half-closing are requests: they cancel or
nudge the tasks, and ``run`` itself closes the socket and emits the single ``Closed`` event,
so the order on each connection is always the order things happened.
"""

from __future__ import annotations

import socket
import struct
from collections import deque
from enum import StrEnum

import trio

from workbench.core.errors import explain
from workbench.core.hub import Hub
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
SEND_CHUNK = 64 * 1024


class State(StrEnum):
    """Where a connection is in its life, as the UI shows it."""

    OPEN = "open"
    PEER_DONE = "peer done sending"  # we got FIN; we may still send
    WE_DONE = "we are done sending"  # we sent FIN; we still read
    CLOSED = "closed"


class Connection:
    """A live socket plus the bookkeeping the UI and tests read back."""

    def __init__(
        self,
        hub: Hub,
        conn_id: int,
        side: Side,
        stream: trio.SocketStream,
        *,
        listener: int | None = None,
        echo: bool = False,
        close_on_eof: bool = False,
    ) -> None:
        self.id = conn_id
        self.side = side
        self.listener = listener
        self.echo = echo
        self.close_on_eof = close_on_eof
        self.local = Address.from_sockaddr(stream.socket.getsockname())
        self.remote = Address.from_sockaddr(stream.socket.getpeername())
        self.state = State.OPEN
        self.bytes_in = 0
        self.bytes_out = 0
        self._hub = hub
        self._stream = stream
        self._outbox: deque[bytes] = deque()
        self._outbox_bytes = 0
        self._wake_writer = trio.Event()
        self._eof_requested = False
        self._closing_after_peer = False
        self._closer: Closer | None = None
        self._scope = trio.CancelScope()
        self.finished = trio.Event()

    @property
    def pending_bytes(self) -> int:
        """Bytes queued but not yet taken by the kernel: non-zero means the peer is slow."""
        return self._outbox_bytes

    def send(self, data: bytes) -> None:
        """Queue ``data``; the writer task delivers it in order."""
        if self.state in (State.WE_DONE, State.CLOSED) or self._eof_requested or not data:
            return
        self._outbox.append(data)
        self._outbox_bytes += len(data)
        self._wake_writer.set()

    def half_close(self) -> None:
        """Send FIN once everything queued is written; keep reading."""
        if self.state in (State.OPEN, State.PEER_DONE):
            self._eof_requested = True
            self._wake_writer.set()

    def close(self, *, reset: bool = False) -> None:
        """End the connection now: FIN, or RST when ``reset`` (queued data is dropped)."""
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
        if closer is Closer.LOCAL_RESET:
            self._stream.socket.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        self._stream.socket.close()
        self.state = State.CLOSED
        self._outbox.clear()
        self._outbox_bytes = 0
        await self._emit(Closed, by=closer)
        self.finished.set()

    def _end(self, closer: Closer) -> None:
        if self._closer is None:
            self._closer = closer
        self._scope.cancel()

    async def _read_loop(self) -> None:
        while True:
            try:
                data = await self._stream.receive_some(RECV_SIZE)
            except trio.BrokenResourceError as exc:
                await self._report(exc, "receive")
                self._end(Closer.PEER_RESET)
                return
            if not data:
                await self._peer_finished()
                return
            self.bytes_in += len(data)
            await self._emit(Received, data=data)
            if self.echo:
                self.send(data)

    async def _peer_finished(self) -> None:
        await self._emit(PeerEof)
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
                await self._send_eof()

    async def _write_one(self) -> bool:
        data = self._outbox[0]
        chunk = data[:SEND_CHUNK]
        try:
            written = await self._stream.socket.send(chunk)
        except OSError as exc:
            await self._report(exc, "send")
            self._end(Closer.PEER_RESET)
            return False
        if written == len(data):
            self._outbox.popleft()
        else:
            self._outbox[0] = data[written:]
        self._outbox_bytes -= written
        self.bytes_out += written
        await self._emit(Sent, data=chunk[:written], pending=self._outbox_bytes)
        return True

    async def _send_eof(self) -> None:
        peer_done = self.state is State.PEER_DONE
        self._stream.socket.shutdown(socket.SHUT_WR)
        self.state = State.WE_DONE
        await self._emit(HalfClosed)
        if peer_done:
            self._end(Closer.PEER if self._closing_after_peer else Closer.LOCAL)

    async def _report(self, exc: BaseException, operation: str) -> None:
        explanation = explain(exc, operation, self.remote)
        await self._emit(
            Error,
            operation=operation,
            errno=explanation.errno,
            message=explanation.message,
            hint=explanation.hint,
        )

    async def _emit(self, cls: type[Event], **fields: object) -> None:
        await self._hub.emit(
            cls, conn=self.id, side=self.side, local=self.local, remote=self.remote, **fields
        )
