"""Replacing a file the system depends on (hostapd.conf): a full disk or a crash leaves the old file or the new
one, never a truncated one.

`Path.write_text` truncates first and writes after: on a full disk hostapd.conf would be left empty or cut off,
and hostapd, which reads it at its restart, would not start at all: Wi-Fi lost to a channel switch.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path


def replace_contents(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path` (its mode kept), sync it, then rename it over `path`.
    Raises OSError, with `path` as it was, when any step fails (a full disk, a directory the agent may not write)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(temporary, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
