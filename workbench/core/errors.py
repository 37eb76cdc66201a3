"""Turning socket failures into sentences a student can act on.

Every error a user can cause (a typo in the host, a port in use, nothing listening) ends up here
and comes out as a short message plus a troubleshooting hint, the way a patient teacher would
explain it. Argument checks live here too so bad input is refused before any socket exists.
"""

from __future__ import annotations

import errno as errno_codes
import socket
from dataclasses import dataclass

import trio

from workbench.endpoints import BadArgument, parse_endpoint, validate_host, validate_port
from workbench.events import Address

__all__ = [
    "BadArgument",
    "Explanation",
    "NetworkError",
    "explain",
    "parse_endpoint",
    "validate_host",
    "validate_port",
]

EPHEMERAL_RANGE = "49152–65535"


@dataclass(frozen=True, slots=True)
class Explanation:
    """What went wrong (``message``) and what to check next (``hint``)."""

    errno: int | None
    message: str
    hint: str


class NetworkError(Exception):
    """An operation failed for a reason the user can fix; already reported as an Error event."""

    def __init__(self, explanation: Explanation) -> None:
        super().__init__(explanation.message)
        self.explanation = explanation


def explain(exc: BaseException, operation: str, target: Address) -> Explanation:
    """Map an exception from ``operation`` ("connect", "listen", "send", …) on ``target``."""
    if isinstance(exc, trio.TooSlowError):
        return Explanation(
            errno_codes.ETIMEDOUT,
            f"no answer from {target} in time",
            "the host may be down, or a firewall may be silently dropping packets; "
            "check the address, or allow more time: --connect-timeout SECONDS for this run, "
            "or the connect_timeout setting",
        )
    if isinstance(exc, socket.gaierror):
        return Explanation(
            None,
            f"unknown host {target.host!r}",
            "the name could not be resolved: check the spelling, or use an IP address "
            "such as 127.0.0.1",
        )
    if isinstance(exc, trio.BrokenResourceError) and isinstance(exc.__cause__, OSError):
        exc = exc.__cause__
    if isinstance(exc, OSError) and exc.errno is not None:
        return _explain_errno(exc.errno, operation, target, exc.strerror or str(exc))
    return Explanation(None, f"{operation} {target} failed: {exc}", "see the message above")


def _explain_errno(code: int, operation: str, target: Address, detail: str) -> Explanation:
    hints = _errno_hints(target)
    if code in hints:
        message, hint = hints[code]
        return Explanation(code, message, hint)
    name = errno_codes.errorcode.get(code, str(code))
    return Explanation(code, f"{operation} {target} failed: {detail} ({name})", "")


def _errno_hints(target: Address) -> dict[int, tuple[str, str]]:
    port = target.port
    privileged = (
        f"ports below 1024 are reserved for the administrator: pick {port + 8000 if port else 8080}"
        f" or another port ≥ 1024, or use 0 to let the system choose"
    )
    return {
        errno_codes.ECONNREFUSED: (
            f"connection refused by {target}",
            f"nothing is listening on {target} — is the server running, is the port right?",
        ),
        errno_codes.EADDRINUSE: (
            f"port {port} on {target.host} is already in use",
            "another program (or another workbench server) is listening there: stop it, or "
            f"use port 0 to let the system pick a free one, or one in {EPHEMERAL_RANGE}",
        ),
        errno_codes.EACCES: (
            f"permission denied for {target}",
            privileged if port < 1024 else "the system refused: check firewall rules",
        ),
        errno_codes.EADDRNOTAVAIL: (
            f"{target.host} is not an address of this machine",
            "to listen, use 127.0.0.1 (this machine only), ::1, or 0.0.0.0 (every interface)",
        ),
        errno_codes.ENETUNREACH: (
            f"network unreachable for {target}",
            "no route to that network: check the address and your network connection",
        ),
        errno_codes.EHOSTUNREACH: (
            f"host unreachable: {target.host}",
            "the host did not answer at the network level: is it up, is the address right?",
        ),
        errno_codes.ETIMEDOUT: (
            f"connection to {target} timed out",
            "the host may be down or a firewall may be dropping packets",
        ),
        errno_codes.ECONNRESET: (
            f"connection reset by {target}",
            "the peer aborted the connection (RST): it crashed, was killed, or closed "
            "while data was still unread",
        ),
        errno_codes.EPIPE: (
            f"broken pipe: {target} is no longer reading",
            "the peer closed the connection before our data could be sent",
        ),
        errno_codes.EMFILE: (
            "too many open files",
            "the process hit its file-descriptor limit: close some connections or raise "
            "`ulimit -n`",
        ),
    }
