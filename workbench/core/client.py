"""Opening a client connection: resolve, then try each address until one answers."""

from __future__ import annotations

import socket

import trio

from workbench.events import Address


async def open_socket(target: Address, connect_timeout: float) -> trio.socket.SocketType:
    """Connect to ``target`` within ``connect_timeout`` seconds in all.

    Addresses are tried one after another (not raced) so the error a user sees is the real
    errno of a real attempt; the first failure is the one reported when all fail.
    """
    with trio.fail_after(connect_timeout):
        infos = await trio.socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        first_error: OSError | None = None
        for family, type_, proto, _, sockaddr in infos:
            sock = trio.socket.socket(family, type_, proto)
            try:
                await sock.connect(sockaddr)
            except OSError as exc:
                sock.close()
                first_error = first_error or exc
                continue
            except BaseException:
                sock.close()
                raise
            return sock
    assert first_error is not None, "getaddrinfo returns at least one address or raises"
    raise first_error
