"""Sending a file from the UI: choosing it, starting it, its progress, stopping it.

The send is paced by the screen (``EngineBridge.send_file``): the model, folded from the events
the screen has handled, tells the bridge how far the screen has got, and each handled batch
wakes a send that waits for it. That keeps the memory a 1 GiB file costs the app bounded, at
the rate the screen can show, instead of at the rate the kernel takes.

An object the app owns, like ``RecordingControl``. The send itself runs in the engine's trio
run; the ``FileSend`` record it updates holds plain numbers, which a timer here reads a few
times a second for the progress lines (in the composer, for the send
to its target, and in each client tab, for the send on its connection). The bytes themselves
reach the log as ordinary ``send`` events, like any other.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from textual.app import App

from workbench.ui.bridge import EngineBridge, FileSend, Outcome
from workbench.ui.model import SessionModel
from workbench.ui.screens.send_file import SendFileScreen, progress_line
from workbench.ui.widgets.client_tab import ClientSession
from workbench.ui.widgets.composer import Composer

FILE_PROGRESS_INTERVAL = 0.25
"""Seconds between refreshes of a file send's progress lines."""
ENDED_LINE_SECONDS = 30.0
"""How long the line saying how a send ended stays up (the toast and the log stay longer)."""


class FileSendControl:
    """File sends for the app: choosing the file, starting and stopping, their progress."""

    def __init__(
        self,
        app: App[None],
        bridge: EngineBridge,
        model: SessionModel,
        *,
        target_conns: Callable[[], list[int]],
        sessions: Callable[[], list[ClientSession]],
    ) -> None:
        self.app, self.bridge, self.model = app, bridge, model
        self._target_conns, self._sessions = target_conns, sessions
        self.jobs: list[FileSend] = []
        """File sends started here, newest last."""
        self._announced: set[FileSend] = set()
        self._folder = Path.cwd()  # where the file dialog opens: the last file's folder

    def choose(self) -> None:
        """Ask which file to send to the composer's target (if it is live)."""
        composer, conns = self.app.query_one(Composer), self._live_target_conns()
        if not conns:
            composer.explain_no_target()
            return
        if busy := self._running_file(conns):
            self.app.notify(
                f"already sending {busy.path.name} there; Ctrl+G stops it",
                title="one file at a time",
                severity="warning",
                markup=False,
            )
            return
        where = "to " + composer.target_label.removeprefix("→ ")
        screen = SendFileScreen(where, self._folder)
        self.app.push_screen(screen, partial(self._start, conns))

    def _start(self, conns: list[int], path: Path | None) -> None:
        if path is None:
            return
        self._folder = path.parent
        job = FileSend(path)
        job.conns = conns
        self.jobs = [j for j in self.jobs if not j.done or j not in self._announced]
        self.jobs.append(job)
        self.bridge.send_file(job, self._shown_bytes_out)
        self.show_progress()

    def _shown_bytes_out(self, conn_id: int) -> int | None:
        """Bytes sent on a connection as far as the screen has shown (None: not known)."""
        view = self.model.connections.get(conn_id)
        return view.bytes_out if view is not None else None

    def _live_target_conns(self) -> list[int]:
        """From the model, not the composer's label, which may be a pane refresh behind."""
        views = [self.model.connections.get(conn_id) for conn_id in self._target_conns()]
        return [view.id for view in views if view is not None and view.alive and not view.we_done]

    def stop(self) -> None:
        """Stop the file send to the composer's target (or the only one running)."""
        running = [job for job in self.jobs if not job.done]
        job = self._running_file(self._target_conns()) or (
            running[0] if len(running) == 1 else None
        )
        if job is None:
            self.app.notify("no file is being sent there", severity="warning")
            return
        self.bridge.cancel_file_send(job)

    def _running_file(self, conns: list[int]) -> FileSend | None:
        wanted = set(conns)
        return next((j for j in self.jobs if not j.done and wanted & set(j.conns)), None)

    def _unannounced(self) -> list[FileSend]:
        return [job for job in self.jobs if job.done and job not in self._announced]

    def show_progress(self) -> None:
        """Progress in the composer (for the target's send) and in each client tab."""
        if not self.app.is_running or not self.jobs:
            return
        now = time.monotonic()
        for job in self._unannounced():
            self._announced.add(job)
            self._announce(job)
        conns = set(self._target_conns())
        shown = next((j for j in reversed(self.jobs) if conns & set(j.conns)), None)
        shown = shown or self.jobs[-1]
        self.app.query_one(Composer).file_progress = self._file_line(shown, now)
        for session in self._sessions():
            mine = [j for j in self.jobs if session.conn_id in j.conns]
            session.show_file(self._file_line(mine[-1], now) if mine else "")

    @staticmethod
    def _file_line(job: FileSend, now: float) -> str:
        if job.outcome is Outcome.REFUSED:
            return ""
        if job.ended is not None and now - job.ended > ENDED_LINE_SECONDS:
            return ""
        return progress_line(job, now)

    def _announce(self, job: FileSend) -> None:
        """A toast when a send ends; a refused one was already explained when it was refused."""
        if job.outcome is Outcome.REFUSED:
            return
        severity = {Outcome.DONE: "information", Outcome.CANCELLED: "information"}
        self.app.notify(
            progress_line(job, time.monotonic()),
            title=f"file {job.outcome}",
            severity=severity.get(job.outcome, "warning"),  # type: ignore[arg-type]
            markup=False,
        )
