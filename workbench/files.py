"""Opening a file that a user or a file named, without blocking on it or reading the wrong kind.

A FIFO with no writer blocks ``open(2)`` forever, ``/dev/zero`` never ends, a folder cannot be
read as bytes. Every reader of such paths (recordings, settings, messages, themes, files to send)
opens the same way: non-blocking, then ``fstat`` on the open descriptor (so a file swapped in
meanwhile is judged by what was opened), refusing whatever is not a regular file. Each caller
words the refusal for its own reader. Stdlib only: the core uses it too.
"""

from __future__ import annotations

import errno
import os
import stat


class NotRegularFile(Exception):
    """``path`` opened, but it is a FIFO, a device or a socket (``mode`` says which)."""

    def __init__(self, mode: int) -> None:
        super().__init__(f"not a regular file (mode {stat.filemode(mode)})")
        self.mode = mode


def open_regular(path: str | os.PathLike[str]) -> tuple[int, os.stat_result]:
    """A blocking read-only descriptor on the regular file ``path``, and its status.

    Raises ``IsADirectoryError`` for a folder (as ``open`` does), ``NotRegularFile`` for a FIFO,
    a device or a socket, and ``OSError`` (or ``ValueError`` for a path holding a NUL) when it
    cannot be opened. The descriptor is the caller's to close.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):  # what open() itself says of a folder
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fsdecode(path))
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(info.st_mode)
        os.set_blocking(fd, True)  # a regular file never blocks; reads then behave as usual
    except BaseException:
        os.close(fd)
        raise
    return fd, info
