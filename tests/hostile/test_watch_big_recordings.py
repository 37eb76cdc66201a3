"""Promise: watching a recording never loads it whole (issue 11, item 2).

A recording is indexed once, in a thread, with its progress in the picker and Escape to cancel;
the index keeps each event for the log but of a big payload only its first bytes and where it
lies, so memory does not follow the payloads. The payload view reads the real bytes from the
file when asked. Leaving the watch screen closes the file and drops the index, so opening the
same recording again and again costs nothing more. Damage the index meets is explained in the
picker, as the command line explains what the header shows.
"""

from __future__ import annotations

import gc
import math
import os
import random
import threading
import tracemalloc
import weakref
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea

from tests.hostile.recording_files import setting, spoiled
from tests.ui.helpers import wait_until
from workbench.events import Address, Closed, Closer, Connected, Event, Received, Sent, Side
from workbench.recording import index as index_module
from workbench.recording.format import (
    RecordingError,
    encode_event,
    encode_event_parts,
    encode_header,
    new_header,
)
from workbench.recording.index import EXCERPT_BYTES, Excerpt, RecordingIndex, index_recording
from workbench.recording.reader import read_recording
from workbench.ui.app import WorkbenchApp
from workbench.ui.model import human_bytes
from workbench.ui.screens.open_recording import OpenRecordingScreen
from workbench.ui.screens.payload import PayloadScreen
from workbench.ui.screens.watch import WatchScreen
from workbench.ui.widgets.event_log import EventLog

PAYLOAD = 8 << 20
PAYLOADS = 6
TOTAL = PAYLOAD * PAYLOADS
"""48 MiB of payloads: holding them anywhere would show; writing them takes a blink."""

START = 1000.0
LOCAL, REMOTE = Address("127.0.0.1", 40000), Address("127.0.0.1", 5000)


def payload(number: int, size: int = PAYLOAD) -> bytes:
    return random.Random(number).randbytes(size)


def conversation(sizes: list[int]) -> list[Event]:
    """A connect, one send or receive per size (the first byte of each says which), a close."""
    common = {"conn": 2, "side": Side.CLIENT, "local": LOCAL, "remote": REMOTE}
    events: list[Event] = [Connected(seq=1, mono=START, wall=1.7e9, **common)]
    for number, size in enumerate(sizes):
        kind = Sent if number % 2 == 0 else Received
        t = START + (number + 1) / 1000
        events.append(
            kind(seq=number + 2, mono=t, wall=1.7e9, data=payload(number, size), **common)
        )
    end = START + 1
    events.append(Closed(seq=len(events) + 1, mono=end, wall=1.7e9, by=Closer.LOCAL, **common))
    return events


def write(path: Path, events: list[Event], *, inline: bool = False) -> Path:
    """The recording as the recorder writes it (raw payloads), or as ``show --jsonl`` does."""
    with path.open("wb") as file:
        file.write(encode_header(new_header(1.7e9, START)).encode() + b"\n")
        for event in events:
            if inline:
                file.write(encode_event(event, START).encode() + b"\n")
            else:
                file.writelines(encode_event_parts(event, START))
    return path


@pytest.fixture
def big(tmp_path: Path) -> Path:
    """Six payloads of 8 MiB; the last event with a payload is the last big one."""
    return write(tmp_path / "big.wbrec", conversation([PAYLOAD] * PAYLOADS))


def descriptors_on(path: Path) -> int:
    """How many of this process's file descriptors are open on ``path``."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}") == str(path)
        except OSError:
            pass  # the listing's own descriptor, gone already
    return count


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


async def collected(pilot: Pilot[None], ref: weakref.ref[RecordingIndex]) -> None:
    """Wait (bounded) until the index is garbage: screens go in cycles, so collect as we wait."""
    for _ in range(100):
        gc.collect()
        if ref() is None:
            return
        await pilot.pause(0.1)
    raise AssertionError("the index is still alive 10 s after its screen went")


def indexes_alive() -> int:
    gc.collect()
    return sum(isinstance(thing, RecordingIndex) for thing in gc.get_objects())


def test_indexing_48_mib_of_payloads_allocates_a_few_mib_and_reads_them_back_exactly(
    big: Path,
) -> None:
    tracemalloc.start()
    try:
        index = index_recording(big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    with index:
        assert peak < 4 << 20, f"indexing {TOTAL >> 20} MiB of payloads peaked at {peak:,} bytes"
        kept = [event.data for event in index.rows if isinstance(event, Sent | Received)]
        assert all(isinstance(data, Excerpt) and len(data) == EXCERPT_BYTES for data in kept)
        assert [data.size for data in kept] == [PAYLOAD] * PAYLOADS  # type: ignore[attr-defined]
        assert list(index.events) == read_recording(big).events  # whole, read on demand
        assert index.read(kept[3], PAYLOAD - 10, 100) == payload(3)[-10:]


def test_inline_payloads_are_left_in_the_file_too_and_read_back_exactly(tmp_path: Path) -> None:
    """``show --jsonl`` exports and format 1 hold payloads as base64 in their lines: long lines
    (over 1 MiB) and short ones alike are indexed to excerpts and read back from the text."""
    events = conversation([3 << 20, 5000, EXCERPT_BYTES, EXCERPT_BYTES + 1, 0, 1 << 20])
    path = write(tmp_path / "export.jsonl", events, inline=True)
    with index_recording(path) as index:
        excerpts = [e.data for e in index.rows if isinstance(getattr(e, "data", None), Excerpt)]
        assert len(excerpts) == 4
        assert list(index.events) == events
        whole = payload(0, 3 << 20)
        for start, length in ((0, 1), (1, 7), (2, 3 << 20), (1_000_001, 65_536), (3 << 20, 9)):
            assert index.read(excerpts[0], start, length) == whole[start : start + length]


def test_a_closed_index_or_a_file_that_shrank_is_an_error_never_other_bytes(big: Path) -> None:
    with index_recording(big) as index:
        data = index.rows[-2].data  # type: ignore[attr-defined]
        assert index.read(data, 0, 10) == payload(PAYLOADS - 1)[:10]  # the excerpt has them
        with big.open("r+b") as file:
            file.truncate(PAYLOAD)
        with pytest.raises(RecordingError, match="the file changed since it was opened"):
            index.read(data, 1000, 10)
    with pytest.raises(RecordingError, match="the recording was closed"):
        index.read(data, 1000, 10)
    assert descriptors_on(big) == 0


@pytest.mark.asyncio
async def test_the_picker_shows_indexing_progress_and_escape_cancels_it(
    big: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--open`` starts the UI at once and indexes in the picker, which says how far it got;
    Escape leaves while the thread is inside a payload, and the thread stops and closes the
    file. (The thread is held mid-file by a gate, as a slow disk would hold it.)"""
    gate, inside = threading.Event(), threading.Event()
    report = index_module._Indexer._report
    held_at: list[int] = []

    def slow_report(self: index_module._Indexer) -> None:
        report(self)
        if self.file.tell() > 2 * PAYLOAD + (1 << 20) and not held_at:  # in the third payload
            held_at.append(self.file.tell())
            inside.set()
            assert gate.wait(10), "the test never opened the gate"

    monkeypatch.setattr(index_module, "PROGRESS_EVERY", 0.0)
    monkeypatch.setattr(index_module._Indexer, "_report", slow_report)
    app = WorkbenchApp(watch=big, recordings_dir=big.parent / "none")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, inside.is_set, "the indexing to reach the third payload")
            picker = app.screen
            assert isinstance(picker, OpenRecordingScreen)
            status = picker.query_one("#open-error", Static)

            def shown() -> str:
                return str(status.render())

            done = f"indexing big.wbrec: {human_bytes(held_at[0])} of 48.0 MiB, 3 events"
            await wait_until(pilot, lambda: done in shown(), f"{done!r}")
            assert shown().endswith("· Escape cancels")
            await pilot.press("escape")
            assert not isinstance(app.screen, OpenRecordingScreen | WatchScreen)
            gate.set()
            await app.workers.wait_for_complete()
            await wait_until(pilot, lambda: descriptors_on(big) == 0, "the file to be closed")
            assert app.is_running
    finally:
        gate.set()
    assert indexes_alive() == 0


@pytest.mark.asyncio
async def test_the_payload_view_of_a_watched_event_shows_the_real_bytes_read_on_demand(
    big: Path,
) -> None:
    """The log holds excerpts but shows each payload's real size; the payload view reads the
    bytes it shows from the file, well past the excerpt."""
    app = WorkbenchApp(watch=index_recording(big))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, WatchScreen)
        await pilot.press("space", "ctrl+end")
        log = screen.query_one(EventLog)
        await wait_until(pilot, lambda: log.store.total_events == PAYLOADS + 2, "every event")
        held = sum(len(getattr(log.store.event_at(p), "data", b"")) for p in range(len(log.store)))
        assert held <= PAYLOADS * EXCERPT_BYTES
        assert f"{PAYLOAD:>10,}" in log.row_text(PAYLOADS)
        log.focus()
        await pilot.press("up", "enter")  # the last payload: the close is the last row
        await wait_until(pilot, lambda: isinstance(app.screen, PayloadScreen), "payload view")
        view = app.screen
        await wait_until(pilot, lambda: bool(view.query_one("#payload-hex", TextArea).text), "hex")
        assert f"{PAYLOAD:,} bytes" in str(view.query_one("#payload-header", Static).render())
        hex_lines = view.query_one("#payload-hex", TextArea).text.splitlines()
        assert len(hex_lines) == 64 * 1024 // 16  # the first 64 KiB, not the 256-byte excerpt
        real = payload(PAYLOADS - 1)[0x1000:0x1010]
        assert hex_lines[0x100].startswith("00001000  " + " ".join(f"{b:02x}" for b in real[:8]))
        await pilot.press("escape", "escape")
        assert not isinstance(app.screen, WatchScreen)
        assert descriptors_on(big) == 0


@pytest.mark.asyncio
async def test_reopening_a_recording_five_times_frees_it_each_time(big: Path) -> None:
    """Each Escape closes the file and drops the index: no index stays alive, no descriptor
    stays open, and memory after five openings is what it was after the first (within a few
    MiB: widgets come and go too), where keeping each copy would have cost 48 MiB apiece."""
    app = WorkbenchApp(recordings_dir=big.parent / "none")
    after: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(5):
            await pilot.press("ctrl+o")
            await wait_until(pilot, lambda: isinstance(app.screen, OpenRecordingScreen), "picker")
            app.screen.query_one("#open-path", Input).value = str(big)
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, WatchScreen), "watch screen")
            index = weakref.ref(app.screen.recording)  # type: ignore[attr-defined]
            await pilot.press("ctrl+end")
            store = app.screen.query_one(EventLog).store
            shown = lambda: store.total_events == PAYLOADS + 2  # noqa: B023, E731
            await wait_until(pilot, shown, "every event")
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, WatchScreen), "live")
            assert descriptors_on(big) == 0  # at once
            await collected(pilot, index)
            after.append(rss_mib())
    growth = after[-1] - after[0]
    assert growth < PAYLOAD >> 20, f"RSS after each opening (MiB): {after}"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (setting("t", math.nan), "line 7: field 't' should be a finite number of seconds"),
        (setting("conn", True), "line 7: field 'conn' should be an integer"),
    ],
    ids=["nan time", "true for an id"],
)
async def test_damage_past_the_header_of_an_open_file_is_explained_in_the_picker(
    tmp_path: Path, spoil: object, message: str
) -> None:
    """The command line refuses what the header shows; damage further in is found while
    indexing, and the picker names the file and line, as it does for Ctrl+O."""
    path = spoiled(tmp_path / "damaged.jsonl", spoil)  # type: ignore[arg-type]
    app = WorkbenchApp(watch=path, recordings_dir=tmp_path / "none")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, OpenRecordingScreen), "picker")
        status = app.screen.query_one("#open-error", Static)
        await wait_until(pilot, lambda: message in str(status.render()), "the explanation")
        assert f"{path} {message}" in str(status.render())
        assert descriptors_on(path) == 0
        await pilot.press("escape")
        assert app.is_running and not isinstance(app.screen, WatchScreen)
