"""A megabyte in the composer: each key timed to the first frame that shows it, per mode.

    python -m tests.benchmarks.bigcomposer [--quick]

One fresh process runs the real app headless (``apphost``). For text, escapes and hex it puts
a 1 MB message in the composer, then types keys at the end and in the middle, 20 ms apart (a
burst) and 300 ms apart (so each key lands just as the check of a big message, which waits for
a 250 ms pause in typing, runs), and times each key to the frame showing it. An empty composer
gives the floor. It also times that check, and the encoding Enter does, on the megabyte.
Numbers only, judged against the 50 ms target; nothing here asserts.
"""

from __future__ import annotations

import sys
from typing import Any

from tests.benchmarks.common import Child, Figure, below, percentile, table

SIZE = 1_000_000
KEYS = 30
QUICK_KEYS = 8
TARGET_MS = 50.0
BODIES = {"text": "lorem ipsum ", "escapes": r"GET /\x41 HTTP/1.0\r\n", "hex": "de ad be ef "}
TYPED = {"text": "abcdefghij", "escapes": "abcdefghij", "hex": "abcdef0123"}


def child(keys: int) -> None:
    import asyncio
    import time

    from tests.benchmarks.apphost import FrameClock, ms, run_app, wait_for
    from workbench.codec import Mode
    from workbench.ui.app import WorkbenchApp
    from workbench.ui.widgets.composer import Composer

    async def body(app: WorkbenchApp, clock: FrameClock) -> dict[str, Any]:
        composer = app.query_one(Composer)
        field = composer.input
        app.action_focus_composer()
        await wait_for(lambda: app.focused is field, "composer focus")
        results: dict[str, list[float]] = {}
        checks: dict[str, float] = {}

        def timed(call: Any) -> float:
            start = time.perf_counter()
            call()
            return (time.perf_counter() - start) * 1000

        async def typing(label: str, where: str, gap: float) -> None:
            out: list[float | None] = []
            for index in range(keys):
                want = len(field.value) + 1

                def shown(want: int = want) -> bool:
                    return len(field.value) >= want

                key = TYPED[label.split()[0]][index % 10]
                out.append(await clock.key(key, shown))
                await asyncio.sleep(gap)
            results[f"{label}, {where}, keys {int(gap * 1000)} ms apart"] = ms(out)

        for name, mode in (("text", Mode.TEXT), ("escapes", Mode.ESCAPES), ("hex", Mode.HEX)):
            composer.set_mode(mode)
            field.value = ""
            await asyncio.sleep(0.3)
            await typing(f"{name} empty", "end", 0.02)
            text = BODIES[name] * (SIZE // len(BODIES[name]) + 1)
            field.value = text[:SIZE]
            field.cursor_position = len(field.value)
            await asyncio.sleep(0.5)
            await typing(f"{name} 1 MB", "end", 0.02)
            await typing(f"{name} 1 MB", "end", 0.3)
            checks[f"{name}: check after a pause"] = timed(composer._validate)
            checks[f"{name}: encode on Enter"] = timed(lambda: composer._validate(encode=True))
            field.cursor_position = len(field.value) // 2
            await asyncio.sleep(0.5)
            await typing(f"{name} 1 MB", "middle", 0.02)
        return {"latencies": results, "checks": checks}

    run_app(body)


def bench(quick: bool) -> list[Figure]:
    process = Child.python("bigcomposer", "child", QUICK_KEYS if quick else KEYS)
    result = process.result(timeout=600)
    process.wait(60)
    rows = []
    figures = []
    for label, values in result["latencies"].items():
        p50, p95, worst = (percentile(values, 50), percentile(values, 95), max(values))
        rows.append([label, p50, p95, worst])
        if "1 MB" in label:
            figures.append(below("bigcomposer", f"{label}: key → frame p95", p95, "ms", TARGET_MS))
    table(
        f"bigcomposer: {SIZE:,} characters in the composer",
        ["keys", "p50 ms", "p95 ms", "worst ms"],
        rows,
    )
    checks = [[what, value] for what, value in result["checks"].items()]
    table("bigcomposer: checking the megabyte", ["what", "ms"], checks)
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        child(int(sys.argv[2]))
    else:
        bench("--quick" in sys.argv)
