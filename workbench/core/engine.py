"""The engine: every socket workbench intent, on trio, reported as one event stream.

Intents (listen, connect, send, close, …) are methods. Anything that fails for a reason the
user can fix is reported as an ``Error`` event with a hint *and* raised as ``NetworkError`` so
direct callers (the CLI, tests) can stop; the UI ignores the exception because the event has
already told the story. Bad arguments raise ``BadArgument`` before any socket exists.
"""

from __future__ import annotations

from itertools import count
from pathlib import Path
from types import TracebackType

import trio

from workbench.core.client import open_socket
from workbench.core.connection import Connection, plain_socket
from workbench.core.errors import (
    BadArgument,
    Explanation,
    NetworkError,
    explain,
    validate_host,
    validate_port,
)
from workbench.core.file_send import FileSend
from workbench.core.hub import Hub
from workbench.core.server import Listener, bind_listener
from workbench.events import (
    Accepted,
    Address,
    Closed,
    Closer,
    Connected,
    Connecting,
    Error,
    Side,
)

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_BACKLOG = 1024  # bursts of hundreds of clients must not overflow the accept queue


class Engine:
    """Owns every listener and connection; use as ``async with Engine() as engine``.

    Leaving the block closes every socket (each one's ``Closed``/``Stopped`` event is still
    delivered) and then ends the hub's stream.
    """

    def __init__(self, hub: Hub | None = None) -> None:
        self.hub = hub or Hub()
        self.listeners: dict[int, Listener] = {}
        self.connections: dict[int, Connection] = {}
        self.file_sends: dict[int, FileSend] = {}  # by connection id, while one is running
        self._connecting: dict[int, trio.CancelScope] = {}
        self._ids = count(1)
        self._nursery: trio.Nursery | None = None
        self._nursery_cm = trio.open_nursery()

    async def __aenter__(self) -> Engine:
        self._nursery = await self._nursery_cm.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        self.shutdown()
        try:
            return await self._nursery_cm.__aexit__(exc_type, exc, tb)
        finally:
            self.hub.close()

    @property
    def nursery(self) -> trio.Nursery:
        if self._nursery is None:
            raise RuntimeError("use the engine inside `async with Engine() as engine:`")
        return self._nursery

    def shutdown(self) -> None:
        """Stop every listener and close every connection (each emits its own event)."""
        for listener in list(self.listeners.values()):
            listener.stop()
        for connection in list(self.connections.values()):
            connection.close()
        for attempt in self._connecting.values():
            attempt.cancel()

    def reserve_id(self) -> int:
        """An id for a listener or client not yet started, so a caller can follow its events."""
        return next(self._ids)

    # -- server -------------------------------------------------------------------------------

    async def listen(
        self,
        host: str,
        port: int | str,
        *,
        backlog: int = DEFAULT_BACKLOG,
        echo: bool = False,
        close_on_eof: bool = False,
        listener_id: int | None = None,
    ) -> Listener:
        """Bind and start accepting; port 0 picks a free port (see ``listener.local``).

        A peer that finished sending (FIN) stays open, half-open, until we close it: it may
        still be waiting for our answer (``printf 'GET /' | ncat``), and only we know when we
        are done. With ``echo`` on, or ``close_on_eof``, we instead finish too once everything
        queued for it (the echoes included) is delivered: FIN back, then the connection closes
        (echo servers and ``ncat -l`` without ``--keep-open`` do the same).
        """
        target = Address(validate_host(host), validate_port(port, allow_zero=True))
        listener_id = listener_id or self.reserve_id()
        try:
            socket_listener = await bind_listener(target.host, target.port, backlog)
        except OSError as exc:
            await self._fail(listener_id, Side.LISTENER, "listen", exc, target)
        listener = Listener(
            self.hub,
            listener_id,
            socket_listener,
            backlog,
            self._accept_peer,
            echo=echo,
            close_on_eof=close_on_eof,
        )
        self.listeners[listener.id] = listener
        await listener.announce()
        self.nursery.start_soon(self._serve, listener)
        return listener

    async def _serve(self, listener: Listener) -> None:
        try:
            await listener.serve()
        finally:
            self.listeners.pop(listener.id, None)

    async def _accept_peer(
        self, sock: trio.socket.SocketType, remote: Address, listener: Listener
    ) -> None:
        """Turn an accepted socket into a peer; a socket that already died still becomes one.

        A peer that connected and reset at once gets its ``Accepted`` like any other, then the
        reset (``Error`` with its hint) and ``Closed`` by peer-reset from its own reader.
        """
        peer = Connection(
            self.hub,
            self.reserve_id(),
            Side.PEER,
            plain_socket(sock),
            local=listener.local,
            remote=remote,
            listener=listener.id,
            echo=listener.echo,
            close_on_eof=listener.close_on_eof,
        )
        self.connections[peer.id] = peer
        await self.hub.emit(
            lambda at: Accepted(
                **at,
                conn=peer.id,
                side=Side.PEER,
                local=peer.local,
                remote=peer.remote,
                listener=listener.id,
            )
        )
        self.nursery.start_soon(self._run_connection, peer)

    def peers(self, listener_id: int) -> list[Connection]:
        """Live peers accepted by a listener (also after it stopped listening)."""
        return [c for c in self.connections.values() if c.listener == listener_id]

    def stop(self, listener_id: int, *, close_peers: bool = False) -> None:
        listener = self.listeners.get(listener_id)
        if listener is None:
            return
        if close_peers:
            for peer in self.peers(listener_id):
                peer.close()
        listener.stop()

    def set_echo(self, listener_id: int, on: bool) -> None:
        """Echo applies to the listener's current peers and to those still to come."""
        if listener := self.listeners.get(listener_id):
            listener.echo = on
        for peer in self.peers(listener_id):
            peer.echo = on

    def broadcast(self, listener_id: int, data: bytes) -> int:
        """Queue ``data`` to every peer of the listener; returns how many peers got it."""
        peers = self.peers(listener_id)
        for peer in peers:
            peer.send(data)
        return len(peers)

    # -- clients ------------------------------------------------------------------------------

    async def connect(
        self,
        host: str,
        port: int | str,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        conn_id: int | None = None,
    ) -> Connection:
        """Open a client session; it keeps receiving until closed by either side."""
        target = Address(validate_host(host), validate_port(port, allow_zero=False))
        conn_id = conn_id or self.reserve_id()
        await self.hub.emit(
            lambda at: Connecting(
                **at, conn=conn_id, side=Side.CLIENT, remote=target, timeout=connect_timeout
            )
        )
        sock = await self._attempt(conn_id, target, connect_timeout)
        connection = Connection(self.hub, conn_id, Side.CLIENT, plain_socket(sock), remote=target)
        await self.hub.emit(
            lambda at: Connected(
                **at,
                conn=conn_id,
                side=Side.CLIENT,
                local=connection.local,
                remote=connection.remote,
            )
        )
        self.connections[conn_id] = connection
        self.nursery.start_soon(self._run_connection, connection)
        return connection

    async def _attempt(
        self, conn_id: int, target: Address, connect_timeout: float
    ) -> trio.socket.SocketType:
        """One connect attempt that ``close(conn_id)`` can abandon while it is still pending."""
        attempt = self._connecting[conn_id] = trio.CancelScope()
        try:
            with attempt:
                return await open_socket(target, connect_timeout)
        except (OSError, trio.TooSlowError) as exc:
            await self._fail(conn_id, Side.CLIENT, "connect", exc, target)
        finally:
            del self._connecting[conn_id]
        await self.hub.emit(
            lambda at: Closed(**at, conn=conn_id, side=Side.CLIENT, remote=target, by=Closer.LOCAL)
        )
        raise NetworkError(Explanation(None, f"connecting to {target} was cancelled", ""))

    # -- any connection -----------------------------------------------------------------------

    def send(self, conn_id: int, data: bytes) -> bool:
        """Queue ``data`` on a connection; False when no such live connection exists."""
        if connection := self.connections.get(conn_id):
            connection.send(data)
            return True
        return False

    async def send_file(
        self, job: FileSend | Path | str, conn_ids: list[int] | None = None
    ) -> FileSend:
        """Stream a file to connections (default: ``job``'s own list), never loading it whole.

        Returns once the file is delivered, cancelled, or stopped (see ``job.outcome``); a file
        that cannot be sent (missing, a directory, a FIFO, …) or a connection already sending
        one raises ``BadArgument`` before any byte is queued. Run it as a task to watch
        ``job.sent`` meanwhile; ``job.cancel()`` stops it.
        """
        job = job if isinstance(job, FileSend) else FileSend(job)
        ids = conn_ids if conn_ids is not None else job.conns
        targets = [c for i in ids if (c := self.connections.get(i)) is not None]
        try:
            if busy := [c.id for c in targets if c.id in self.file_sends]:
                raise BadArgument(f"connection #{busy[0]} is already sending a file")
            fd = job.start(self.hub, targets)
        except BadArgument as exc:
            job.refuse(str(exc))
            raise
        for conn_id in job.conns:
            self.file_sends[conn_id] = job
        try:
            await job.run(fd)
        finally:
            for conn_id in job.conns:
                if self.file_sends.get(conn_id) is job:
                    del self.file_sends[conn_id]
        return job

    def half_close(self, conn_id: int) -> None:
        if connection := self.connections.get(conn_id):
            connection.half_close()

    def close(self, conn_id: int, *, reset: bool = False) -> None:
        if connection := self.connections.get(conn_id):
            connection.close(reset=reset)
        elif attempt := self._connecting.get(conn_id):
            attempt.cancel()

    # -- internals ----------------------------------------------------------------------------

    async def _run_connection(self, connection: Connection) -> None:
        try:
            await connection.run()
        finally:
            self.connections.pop(connection.id, None)

    async def _fail(
        self, conn_id: int, side: Side, operation: str, exc: BaseException, target: Address
    ) -> None:
        explanation = explain(exc, operation, target)
        local = target if side is Side.LISTENER else None
        remote = None if side is Side.LISTENER else target
        await self.hub.emit(
            lambda at: Error(
                **at,
                conn=conn_id,
                side=side,
                local=local,
                remote=remote,
                operation=operation,
                errno=explanation.errno,
                message=explanation.message,
                hint=explanation.hint,
            )
        )
        raise NetworkError(explanation) from exc
