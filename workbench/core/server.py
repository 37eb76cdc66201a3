"""A listening socket that accepts any number of peers concurrently.

Accepting never takes the server down: a connection that died before we accepted it is skipped,
running out of descriptors backs off, and any other accept error is reported and ends this
listener only (with its ``Stopped`` event), never the engine. What happens to an accepted socket
afterwards (a reset a microsecond later included) is the connection's business: it becomes
events on that connection.
"""

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

# The connection went away (or was refused by a firewall rule) before we could accept it: there
# is nobody to report it to and nothing to do but accept the next one (trio's list, plus EPERM).
GONE_BEFORE_ACCEPT = {
    getattr(errno, name)
    for name in (
        "ECONNABORTED",
        "EPROTO",
        "ENETDOWN",
        "ENOPROTOOPT",
        "EHOSTDOWN",
        "ENONET",
        "EHOSTUNREACH",
        "EOPNOTSUPP",
        "ENETUNREACH",
        "EPERM",
        "ECONNRESET",
    )
    if hasattr(errno, name)
}

AcceptHandler = Callable[[trio.socket.SocketType, Address, "Listener"], Awaitable[None]]


async def bind_listener(host: str, port: int, backlog: int) -> trio.socket.SocketType:
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
    return sock


class Listener:
    """Our server socket: accepts peers and hands each one to ``on_accept``.

    Peers are owned by the engine, not the listener, so stopping the listener leaves
    connected peers running until they are closed.
    """

    def __init__(
        self,
        hub: Hub,
        listener_id: int,
        sock: trio.socket.SocketType,
        backlog: int,
        on_accept: AcceptHandler,
        *,
        echo: bool = False,
        close_on_eof: bool = False,
    ) -> None:
        self.id = listener_id
        self.backlog = backlog
        self.echo = echo
        self.close_on_eof = close_on_eof
        self.local = Address.from_sockaddr(sock.getsockname())
        self.listening = True
        self._hub = hub
        self._sock = sock
        self._on_accept = on_accept
        self._scope = trio.CancelScope()

    async def announce(self) -> None:
        await self._hub.emit(
            lambda at: Listening(
                **at, conn=self.id, side=Side.LISTENER, local=self.local, backlog=self.backlog
            )
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
                self._sock.close()
                self.listening = False
                await self._hub.emit(
                    lambda at: Stopped(**at, conn=self.id, side=Side.LISTENER, local=self.local)
                )

    async def _accept_one(self) -> None:
        try:
            sock, sockaddr = await self._sock.accept()
        except OSError as exc:
            if exc.errno in GONE_BEFORE_ACCEPT:
                return
            await self._report_accept_error(exc)
            if exc.errno not in FD_EXHAUSTED:
                self.stop()  # the listening socket itself is broken: stop it, not the engine
                return
            await trio.sleep(FD_BACKOFF_SECONDS)
            return
        remote = Address.from_sockaddr(sockaddr) if sockaddr else Address("?", 0)
        await self._on_accept(sock, remote, self)

    async def _report_accept_error(self, exc: OSError) -> None:
        explanation = explain(exc, "accept", self.local)
        await self._hub.emit(
            lambda at: Error(
                **at,
                conn=self.id,
                side=Side.LISTENER,
                local=self.local,
                operation="accept",
                errno=explanation.errno,
                message=explanation.message,
                hint=explanation.hint,
            )
        )
