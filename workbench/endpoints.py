"""Hosts, ports and timeouts typed by people, checked before any socket exists.

Stdlib only, so the command line can check its arguments without paying for trio, and the
engine and the UI refuse the same inputs with the same sentences.
"""

from __future__ import annotations

import math

from workbench.events import Address


class BadArgument(ValueError):
    """A host or port that can never work; raised before any socket is created."""


def validate_host(host: str) -> str:
    """Refuse hosts that cannot name anything, so the error is about the input, not DNS."""
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        raise BadArgument("the host is empty: type an address such as 127.0.0.1 or localhost")
    if any(ch.isspace() for ch in host):
        raise BadArgument(f"the host {host!r} contains spaces")
    return host


def validate_port(port: int | str, *, allow_zero: bool) -> int:
    """Ports are 1–65535 (0 only when binding, where it means 'any free port')."""
    text = str(port).strip()
    if not text.isdigit():
        raise BadArgument(f"the port {text!r} is not a number (use 1–65535)")
    value = int(text)
    lowest = 0 if allow_zero else 1
    if not lowest <= value <= 65535:
        zero_note = " or 0 for any free port" if allow_zero else ""
        raise BadArgument(f"the port {value} is out of range (use 1–65535{zero_note})")
    return value


CONNECT_TIMEOUT_MAX = 3600.0
"""An hour: the system itself gives up on an unanswered connect after about two minutes."""


def valid_connect_timeout(value: object) -> float | None:
    """A usable connect timeout in seconds (more than 0, at most an hour), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None  # bool is an int to Python, but `true` is no number of seconds
    seconds = float(value)
    return seconds if math.isfinite(seconds) and 0 < seconds <= CONNECT_TIMEOUT_MAX else None


def parse_endpoint(text: str, *, allow_zero: bool) -> Address:
    """Parse ``HOST:PORT``, ``[v6]:PORT`` or a bare ``PORT`` (meaning 127.0.0.1)."""
    text = text.strip()
    if text.isdigit():
        return Address("127.0.0.1", validate_port(text, allow_zero=allow_zero))
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise BadArgument(f"{text!r} is not [IPv6]:PORT, e.g. [::1]:5000")
        port_text = rest[1:]
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep:
            raise BadArgument(f"{text!r} has no port: write HOST:PORT, e.g. 127.0.0.1:5000")
        if ":" in host:
            raise BadArgument(f"write IPv6 addresses in brackets: [{host}]:{port_text}")
    return Address(validate_host(host), validate_port(port_text, allow_zero=allow_zero))
