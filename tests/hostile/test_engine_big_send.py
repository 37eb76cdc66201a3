"""Big sends are linear: 128 MiB to a real reader takes seconds, not minutes, and arrives exact.

A partial write used to copy the rest of the payload (``data[written:]``), so one 128 MiB send
to a reader slower than memory was quadratic (97 s in the issue, 300 s on a busy test machine).
The outbox now advances a memoryview. ``wait_outbox_below`` lets a producer stream without
queueing everything at once.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time

import pytest
import trio

from tests.core.helpers import Setup, payload
from workbench.events import Accepted, Closed, Received, Sent

pytestmark = pytest.mark.trio

BIG = 128 * 1024 * 1024
WITHIN_SECONDS = 30  # about 1 s on an idle machine; the quadratic copy took minutes


async def test_a_128_mib_send_to_socat_is_linear_and_exact(engine_and_events: Setup) -> None:
    """One 128 MiB send to `socat | sha256sum`: done within seconds, the hash matches."""
    engine, events = engine_and_events
    blob = os.urandom(BIG)
    listener = await engine.listen("127.0.0.1", 0)
    command = f"socat -u TCP:127.0.0.1:{listener.local.port} STDOUT | sha256sum"
    process = await trio.lowlevel.open_process(["sh", "-c", command], stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        accepted = await events.wait_for(lambda e: isinstance(e, Accepted))
        started = time.perf_counter()
        engine.send(accepted.conn, blob)
        engine.half_close(accepted.conn)
        digest = b""
        with trio.fail_after(WITHIN_SECONDS):
            while chunk := await process.stdout.receive_some():
                digest += chunk
            await process.wait()
        seconds = time.perf_counter() - started
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
    print(f"\n128 MiB send: {seconds:.2f}s")
    assert digest.split()[0].decode() == hashlib.sha256(blob).hexdigest()
    sends = events.of(accepted.conn, "send")
    assert sum(e.size for e in sends if isinstance(e, Sent)) == BIG
    del blob


async def test_a_producer_can_keep_the_outbox_between_water_marks(
    engine_and_events: Setup,
) -> None:
    """Queue a chunk, wait for the outbox to drain below a low-water mark, repeat: the
    outbox never holds more than one chunk plus the mark, and the bytes arrive in order."""
    engine, events = engine_and_events
    listener = await engine.listen("127.0.0.1", 0)
    client = await engine.connect("127.0.0.1", listener.local.port)
    peer = await events.wait_for(lambda e: isinstance(e, Accepted))
    chunks = [os.urandom(256 * 1024) for _ in range(32)]
    low_water = 512 * 1024
    highest = 0
    with trio.fail_after(30):
        for chunk in chunks:
            assert await client.wait_outbox_below(low_water)
            client.send(chunk)
            highest = max(highest, client.pending_bytes)
        assert await client.wait_outbox_below(0)
        await events.wait_for(
            lambda _: len(payload(events.of(peer.conn), Received)) == len(b"".join(chunks))
        )
    assert highest <= low_water + len(chunks[0])
    assert payload(events.of(client.id), Sent) == b"".join(chunks)
    client.close()
    await events.wait_for(lambda e: isinstance(e, Closed) and e.conn == client.id)
    assert not await client.wait_outbox_below(0), "a closed connection takes no more"
