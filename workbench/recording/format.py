"""The recording file format: versioned JSON Lines, with payloads stored raw after their line.

A recording must outlive the workbench that wrote it, so every file names its format version on
its first line and readers decide from that alone, never by guessing from the fields they meet.

Layout: one JSON object per line, written ASCII-only (non-ASCII is ``\\u`` escaped) so that no
string an event can hold breaks the encoding and every tool can read every line.

* Line 1, the header: ``{"format": "workbench-recording", "version": "2.1", "tool_version": ...,
  "started": <ISO-8601 UTC>, "started_wall": <epoch>, "started_mono": <monotonic>, "host": ...}``.
* Then one line per engine event: ``{"t": <seconds since started_mono>, "kind": "recv",
  "seq": ..., "conn": ..., "side": ..., "local": "127.0.0.1:5000", "remote": "[::1]:40000",
  "wall": <epoch>, ...}`` followed by the fields of that kind of event. Non-finite numbers (an
  infinite timeout) are written as the strings ``"inf"``, ``"-inf"`` and ``"nan"`` because jq
  rejects bare ``Infinity``.
* A payload (the bytes of a send or recv) is stored in one of two ways, and readers take both:
  - raw, which is what the recorder writes: the line ends with ``"raw": N`` and is followed by
    exactly N bytes, exactly as they crossed the wire, and one newline. Raw is what lets a
    recording keep up with a loopback stream: encoding every byte as base64 text capped a
    recorded connection at a fifth of what the engine moves;
  - inline, which ``workbench show --jsonl`` writes so that jq can read every line:
    ``"data_b64"`` holds the payload exactly, and ``"size"`` and a ``"text"`` preview are there
    for people only and never read back. Version 1 files hold all their payloads this way.

Reading back checks every value against what its consumers can use, because recordings are
shared: times are finite and within MAX_SECONDS of the header's start, wall clocks lie between
1970 and the year 3000, ids, sequence numbers and counts are 0..2**63-1, an errno or a backlog
fits a C int, JSON ``true`` is never a number and text holds no unpaired surrogate that no OS
string can (only surrogateescape's U+DC80..U+DCFF). Anything else is damage at its line.

Versioning rules, for whoever changes this file or the events in ``workbench.events``:

* A field that older readers can safely ignore: bump the minor version. Readers accept any minor
  of a major they know and ignore fields they do not know.
* Anything else (a renamed, removed or newly required field, a new event kind, a changed
  meaning, a new way of framing lines): bump the major version and add to ``MIGRATIONS`` a
  function that upgrades one event dict from the previous major, so every recording ever
  written stays readable.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import reprlib
import socket
from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from os import PathLike
from typing import Any, TypeAlias, TypeVar, get_type_hints

from workbench import __version__
from workbench.events import EVENT_TYPES, Address, Closer, Event, Side

FORMAT_NAME = "workbench-recording"
FORMAT_VERSION = (2, 1)
"""1.1 added ``pending`` to send events (optional); 2.0 added raw payloads after their line;
2.1 added ``unread`` to close events (optional: bytes never read, the reason for an RST)."""

RAW_KEY = "raw"
"""The key whose value says how many raw payload bytes follow the line (format 2 and later)."""


def _from_major_1(obj: dict[str, Any]) -> dict[str, Any]:
    """A 1.x line is already a 2.x line whose payload is inline; only the framing is new."""
    return obj


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _from_major_1}
"""Old major -> function upgrading one event dict to the next major; the reader chains them.

A migration may raise KeyError, TypeError or ValueError on input it cannot upgrade; the reader
reports that as a RecordingError for that line.
"""

PREVIEW_BYTES = 256
"""How much of an inline payload's human-only ``text`` preview shows; ``data_b64`` has it all."""

MAX_SECONDS = 1e9
"""How far from the header's start an event's ``t`` may lie, either way (about 31 years).

Times are checked when read, so that what a recording hands its consumers (replay's pauses,
the watch view's timers, durations on screen) is always a finite, usable number of seconds.
"""

MAX_MONO = 1e12
"""The largest monotonic clock reading a header's ``started_mono`` may hold, either way."""

MAX_WALL = 32_503_680_000.0
"""Wall-clock times (``wall``, ``started_wall``) lie between 1970 and the year 3000: what every
platform's ``localtime`` can show."""

MAX_COUNT = (1 << 63) - 1
"""Ids, sequence numbers and byte counts are whole numbers from 0 to this."""

C_INT = (-(1 << 31), (1 << 31) - 1)
"""The range of a C ``int``, which the OS's numbers (``errno``, a listen backlog) fit in."""

_NON_FINITE = ("inf", "-inf", "nan")
_LEADING_FIELDS = ("seq", "conn", "side", "local", "remote", "wall")
_VERSION = re.compile(r"([0-9]{1,9})\.([0-9]{1,9})")

_UNSHOWABLE = re.compile("[\ud800-\udc7f]")
"""Lone surrogates that no OS string holds: only U+DC80..U+DCFF stand for undecodable bytes
(Python's surrogateescape). Text with the others cannot be shown or encoded, so it is refused."""

_T = TypeVar("_T")
StrPath: TypeAlias = str | PathLike[str]


class RecordingError(Exception):
    """A recording cannot be read; the message names the file and line so people can look."""

    def __init__(
        self, reason: str, *, line_no: int | None = None, path: StrPath | None = None
    ) -> None:
        self.reason = reason
        self.line_no = line_no
        self.path = path
        location = [] if path is None else [str(path)]
        if line_no is not None:
            location.append(f"line {line_no}")
        prefix = " ".join(location)
        super().__init__(f"{prefix}: {reason}" if prefix else reason)

    def in_file(self, path: StrPath) -> RecordingError:
        """The same error, located in a file: format functions see lines, only readers see paths."""
        return RecordingError(self.reason, line_no=self.line_no, path=path)


@dataclass(frozen=True, slots=True)
class Header:
    """What the first line of a recording says about the session as a whole."""

    version: tuple[int, int]
    tool_version: str
    started: str
    started_wall: float
    started_mono: float
    host: str


def new_header(started_wall: float, started_mono: float) -> Header:
    """The header for a recording made now, by this workbench, on this machine."""
    started = datetime.fromtimestamp(started_wall, UTC).isoformat(timespec="milliseconds")
    return Header(
        version=FORMAT_VERSION,
        tool_version=__version__,
        started=started,
        started_wall=started_wall,
        started_mono=started_mono,
        host=socket.gethostname(),
    )


def encode_header(header: Header) -> str:
    """The header as one JSON line (without the newline)."""
    major, minor = header.version
    return _dump(
        {
            "format": FORMAT_NAME,
            "version": f"{major}.{minor}",
            "tool_version": header.tool_version,
            "started": header.started,
            "started_wall": _finite(header.started_wall),
            "started_mono": _finite(header.started_mono),
            "host": header.host,
        }
    )


def decode_header(obj: dict[str, Any]) -> Header:
    """Check that line 1 is a header of a version we can read, and return it."""
    if obj.get("format") != FORMAT_NAME:
        raise RecordingError("not a workbench recording (no header)", line_no=1)
    version = _take(obj, "version", _version, 1)
    _check_readable(version)
    return Header(
        version=version,
        tool_version=_take(obj, "tool_version", _text, 1),
        started=_take(obj, "started", _text, 1),
        started_wall=_take(obj, "started_wall", _epoch, 1),
        started_mono=_take(obj, "started_mono", _start, 1),
        host=_take(obj, "host", _text, 1),
    )


def encode_event(event: Event, started_mono: float) -> str:
    """One event as one JSON line (without the newline), its payload inline, for jq and tests."""
    return b"".join(encode_event_parts(event, started_mono, inline=True))[:-1].decode("ascii")


def encode_event_parts(event: Event, started_mono: float, *, inline: bool = False) -> list[bytes]:
    """One event's line, newline included, as pieces to hand to ``os.writev`` uncopied.

    A payload is raw after the line unless ``inline`` asks for base64 in it. Either way it is
    never passed through json.dumps: scanning it (then re-encoding and joining the line) cost
    three times the base64 encoding itself.
    """
    obj: dict[str, object] = {"t": _finite(event.mono - started_mono), "kind": event.kind}
    payload: tuple[str, bytes] | None = None
    for spec in _SCHEMAS[event.kind][1]:
        value = getattr(event, spec.name)
        if isinstance(value, bytes):
            payload = (spec.key, value)
            if inline:
                obj["size"] = len(value)
                obj["text"] = _preview(value)
        else:
            obj[spec.key] = _plain(value)
    if payload is None:
        return [_dump(obj).encode("ascii"), b"\n"]
    key, data = payload
    if not inline:
        obj[RAW_KEY] = len(data)
        return [_dump(obj).encode("ascii") + b"\n", data, b"\n"]
    head = _dump(obj).encode("ascii")  # ensure_ascii: the line is pure ASCII
    return [head[:-1], f', "{key}": "'.encode("ascii"), base64.b64encode(data), b'"}\n']


def raw_size(obj: dict[str, Any], line_no: int, header: Header) -> int | None:
    """How many raw payload bytes follow this line in the file: None when none do."""
    if header.version[0] < 2 or RAW_KEY not in obj:
        return None
    return _take(obj, RAW_KEY, _size, line_no)


def decode_event(
    obj: dict[str, Any], line_no: int, header: Header, raw: bytes | None = None
) -> Event:
    """Rebuild the exact event a line was written from; ``mono`` is the header's plus ``t``.

    ``raw`` is the payload the reader found after the line, if ``raw_size`` said one follows.
    Lines of an older major are first upgraded through MIGRATIONS, one major at a time.
    """
    obj = _upgrade(obj, header.version[0], line_no)
    kind = _take(obj, "kind", _text, line_no)
    if kind not in _SCHEMAS:
        raise RecordingError(f"unknown event kind {reprlib.repr(kind)}", line_no=line_no)
    cls, specs = _SCHEMAS[kind]
    values: dict[str, Any] = {}
    for spec in specs:
        if raw is not None and spec.decode is _payload:
            values[spec.name], raw = raw, None
        elif not (spec.optional and spec.key not in obj):
            values[spec.name] = _take(obj, spec.key, spec.decode, line_no)
    if raw is not None:
        reason = f"raw bytes follow this line, but {kind} events carry no payload"
        raise RecordingError(reason, line_no=line_no)
    mono = header.started_mono + _take(obj, "t", _seconds, line_no)
    return cls(mono=mono, **values)


def carries_payload(kind: str) -> bool:
    """Whether events of this kind hold bytes (a line may then frame or inline a payload)."""
    return kind in _SCHEMAS and any(spec.decode is _payload for spec in _SCHEMAS[kind][1])


def parse_line(raw: bytes, line_no: int) -> dict[str, Any]:
    """One line of the file as a JSON object, or a RecordingError saying why it is not one."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text (bad byte at column {exc.start + 1})"
        raise RecordingError(reason, line_no=line_no) from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        reason = f"not JSON ({exc.msg} at column {exc.colno})"
        raise RecordingError(reason, line_no=line_no) from None
    except (ValueError, RecursionError) as exc:
        raise RecordingError(f"not JSON ({exc})", line_no=line_no) from None
    if not isinstance(value, dict):
        reason = f"expected a JSON object, found {type(value).__name__}"
        raise RecordingError(reason, line_no=line_no)
    return value


class _Invalid(Exception):
    """A JSON value has the wrong shape; carries what was expected, for the error message."""


@dataclass(frozen=True, slots=True)
class _Field:
    """How one dataclass field of an event travels: under which JSON key, read back how."""

    name: str
    key: str
    decode: Callable[[object], object]
    optional: bool  # added in a minor version with a default: older files lack it


def _dump(obj: dict[str, object]) -> str:
    return json.dumps(obj, ensure_ascii=True, allow_nan=False)


def _finite(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def _plain(value: object) -> object:
    if isinstance(value, Address):
        return str(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, float):
        return _finite(value)
    return value


def _preview(data: bytes) -> str:
    text = data[:PREVIEW_BYTES].decode("utf-8", "backslashreplace")
    return text + "…" if len(data) > PREVIEW_BYTES else text


def _take(obj: dict[str, Any], key: str, decode: Callable[[object], _T], line_no: int) -> _T:
    if key not in obj:
        raise RecordingError(f"missing field {key!r}", line_no=line_no)
    try:
        return decode(obj[key])
    except _Invalid as exc:
        found = reprlib.repr(obj[key])
        reason = f"field {key!r} should be {exc}, found {found}"
        raise RecordingError(reason, line_no=line_no) from None


def _upgrade(obj: dict[str, Any], major: int, line_no: int) -> dict[str, Any]:
    for old in range(major, FORMAT_VERSION[0]):
        migrate = MIGRATIONS[old]
        try:
            obj = migrate(obj)
        except (KeyError, TypeError, ValueError) as exc:
            reason = f"cannot upgrade this event from format {old}.x ({exc!r})"
            raise RecordingError(reason, line_no=line_no) from exc
    return obj


def _readable_majors() -> list[int]:
    majors = [FORMAT_VERSION[0]]
    while majors[-1] - 1 in MIGRATIONS:
        majors.append(majors[-1] - 1)
    return sorted(majors)


def _check_readable(version: tuple[int, int]) -> None:
    readable = _readable_majors()
    if version[0] in readable:
        return
    found = f"{version[0]}.{version[1]}"
    supported = ", ".join(f"{major}.x" for major in readable)
    if version[0] > FORMAT_VERSION[0]:
        reason = f"recording format version {found} is newer than this workbench understands"
    else:
        reason = f"recording format version {found} is older than this workbench can read"
    raise RecordingError(f"{reason} ({supported})", line_no=1)


def _version(value: object) -> tuple[int, int]:
    match = _VERSION.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise _Invalid('a version like "1.0"')
    return int(match[1]), int(match[2])


def _integer_in(low: int, high: int, *, nullable: bool = False) -> Callable[[object], Any]:
    """A decoder of whole numbers from ``low`` to ``high``; JSON ``true`` is not a number."""
    what = "an integer or null" if nullable else "an integer"

    def decode(value: object) -> int | None:
        if value is None and nullable:
            return None
        if type(value) is not int:
            raise _Invalid(what)
        if not low <= value <= high:
            raise _Invalid(f"{what} from {low} to {high}")
        return value

    return decode


_count = _integer_in(0, MAX_COUNT)
_c_int = _integer_in(*C_INT)
_optional_c_int = _integer_in(*C_INT, nullable=True)


def _size(value: object) -> int:
    if type(value) is int and 0 <= value <= MAX_COUNT:
        return value
    raise _Invalid("a byte count")


def _finite_in(low: float, high: float, what: str) -> Callable[[object], float]:
    """A decoder of finite numbers from ``low`` to ``high``: never NaN, never infinite."""

    def decode(value: object) -> float:
        number = _number(value)
        if math.isfinite(number) and low <= number <= high:
            return number
        raise _Invalid(what)

    return decode


_seconds = _finite_in(
    -MAX_SECONDS, MAX_SECONDS, "a finite number of seconds, at most 1e9 either way"
)
_start = _finite_in(-MAX_MONO, MAX_MONO, "a finite clock reading, at most 1e12 either way")
_epoch = _finite_in(0.0, MAX_WALL, "seconds since 1970, before the year 3000")
_finite_number = _finite_in(-math.inf, math.inf, "a finite number")


def _timeout(value: object) -> float:
    number = _number(value)
    if number >= 0:  # NaN fails this too
        return number
    raise _Invalid('a number of seconds, 0 or more, or "inf"')


def _number(value: object) -> float:
    if isinstance(value, float):
        return value
    if isinstance(value, str) and value in _NON_FINITE:
        return float(value)
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:
            pass
    raise _Invalid("a number")


def _text(value: object) -> str:
    if isinstance(value, str) and not _UNSHOWABLE.search(value):
        return value
    raise _Invalid("a string")


def _address(value: object) -> Address | None:
    if value is None:
        return None
    if isinstance(value, str) and not _UNSHOWABLE.search(value):
        try:
            return Address.parse(value)
        except ValueError:
            pass
    raise _Invalid('"host:port" or null')


def _payload(value: object) -> bytes:
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass
    raise _Invalid("base64 text")


def _member_of(enum: type[StrEnum]) -> Callable[[object], StrEnum]:
    names = ", ".join(member.value for member in enum)

    def decode(value: object) -> StrEnum:
        if isinstance(value, str) and value in enum._value2member_map_:
            return enum(value)
        raise _Invalid(f"one of {names}")

    return decode


_DECODERS: dict[object, Callable[[object], object]] = {
    int: _count,
    int | None: _optional_c_int,
    float: _finite_number,
    str: _text,
    bytes: _payload,
    Address | None: _address,
    Side: _member_of(Side),
    Closer: _member_of(Closer),
}
"""How a field is read back, by its type; ``_FIELD_DECODERS`` narrows some by name."""

_FIELD_DECODERS: dict[str, Callable[[object], object]] = {
    "wall": _epoch,
    "timeout": _timeout,  # a connect timeout may be infinite
    "backlog": _c_int,
}


def _fields_of(cls: type[Event]) -> tuple[_Field, ...]:
    hints = get_type_hints(cls)
    specs = []
    for field in fields(cls):
        if field.name == "mono":
            continue  # stored as "t", relative to the header, so files compare across runs
        hint = hints[field.name]
        if hint not in _DECODERS:
            raise TypeError(
                f"{cls.__name__}.{field.name}: {hint} has no recording encoding; "
                "extend workbench/recording/format.py and bump FORMAT_VERSION"
            )
        key = f"{field.name}_b64" if hint is bytes else field.name
        optional = field.default is not MISSING
        decode = _FIELD_DECODERS.get(field.name, _DECODERS[hint])
        specs.append(_Field(field.name, key, decode, optional))
    _check_keys(cls, specs)
    leading = {name: index for index, name in enumerate(_LEADING_FIELDS)}
    specs.sort(key=lambda spec: leading.get(spec.name, len(leading)))
    return tuple(specs)


def _check_keys(cls: type[Event], specs: list[_Field]) -> None:
    """A line frames at most one raw payload, and no field may shadow the format's own keys."""
    if sum(spec.decode is _payload for spec in specs) > 1:
        raise TypeError(f"{cls.__name__} has two payloads; a line can frame only one")
    clashes = {spec.key for spec in specs} & {"t", "kind", "size", "text", RAW_KEY}
    if clashes:
        raise TypeError(f"{cls.__name__}: field {sorted(clashes)[0]!r} clashes with the format")


_SCHEMAS: dict[str, tuple[type[Event], tuple[_Field, ...]]] = {
    kind: (cls, _fields_of(cls)) for kind, cls in EVENT_TYPES.items()
}
