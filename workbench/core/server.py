"""A listening socket that accepts any number of peers concurrently."""

from __future__ import annotations

import errno
import socket
from collections.abc import Awaitable, Callable

import trio

from workbench.core.errors import explain
from workbench.core.hub import Hub
from workbench.events import Address, Error, Listening, Side, Stopped

# Running out of descriptors is temporary (peers leave); back off instead of spinning.
FD_EXHAUSTED = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
FD_BACKOFF_SECONDS = 0.1


async def bind_listener(host: str, port: int, backlog: int) -> trio.SocketListener:
    """Resolve, bind and listen; IPv6 sockets are v6-only so ``::`` and ``0.0.0.0`` coexist."""
    infos = await trio.socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )
    family, _, _, _, sockaddr = infos[0]
    sock = trio.socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        await sock.bind(sockaddr)
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return trio.SocketListener(sock)


class Listener:
    """Our server socket: accepts peers and hands each one to ``on_accept``.

    Peers are owned by the engine, not the listener, so stopping the listener leaves
    connected peers running until they are closed.
    """

    def __init__(
        self,
        hub: Hub,
        listener_id: int,
        socket_listener: trio.SocketListener,
        backlog: int,
        on_accept: Callable[[trio.SocketStream, Listener], Awaitable[None]],
        *,
        echo: bool = False,
        close_on_eof: bool = True,
    ) -> None:
        self.id = listener_id
        self.backlog = backlog
        self.echo = echo
        self.close_on_eof = close_on_eof
        self.local = Address.from_sockaddr(socket_listener.socket.getsockname())
        self.listening = True
        self._hub = hub
        self._socket_listener = socket_listener
        self._on_accept = on_accept
        self._scope = trio.CancelScope()

    async def announce(self) -> None:
        await self._hub.emit(
            Listening, conn=self.id, side=Side.LISTENER, local=self.local, backlog=self.backlog
        )

    def stop(self) -> None:
        """Stop accepting; peers already connected stay until closed."""
        self._scope.cancel()

    async def serve(self) -> None:
        """Accept until stopped, then close the socket and say so."""
        try:
            with self._scope:
                while True:
                    await self._accept_one()
        finally:
            with trio.CancelScope(shield=True):
                self._socket_listener.socket.close()
                self.listening = False
                await self._hub.emit(Stopped, conn=self.id, side=Side.LISTENER, local=self.local)

    async def _accept_one(self) -> None:
        try:
            stream = await self._socket_listener.accept()
        except OSError as exc:
            if exc.errno not in FD_EXHAUSTED:
                raise
            await self._report_accept_error(exc)
            await trio.sleep(FD_BACKOFF_SECONDS)
            return
        await self._on_accept(stream, self)

    async def _report_accept_error(self, exc: OSError) -> None:
        explanation = explain(exc, "accept", self.local)
        await self._hub.emit(
            Error,
            conn=self.id,
            side=Side.LISTENER,
            local=self.local,
            operation="accept",
            errno=explanation.errno,
            message=explanation.message,
            hint=explanation.hint,
        )
