"""Reading a file whose kind and size the agent does not control: only a regular file, opened without blocking,
and never more than the reader can hold.

`open(path)` on a FIFO blocks until someone writes to it (the agent stalls at start or in its loop), and a
symlink to a device such as /dev/zero never reaches its end. Both are refused here with an error naming them.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO


class UnsafeFileError(OSError):
    """The path is not a regular file, or the file is larger than the reader accepts; str() says which."""


def open_regular(path: Path) -> BinaryIO:
    """`path` open for binary reading, if it is a regular file (symlinks followed); UnsafeFileError if not."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # O_NONBLOCK: a FIFO's open returns at once
    f = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        f.close()
        raise UnsafeFileError("not a regular file")
    return f


def read_bounded(path: Path, max_bytes: int) -> bytes:
    """The whole of a regular file of at most `max_bytes`; UnsafeFileError naming the size otherwise."""
    with open_regular(path) as f:
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise UnsafeFileError(f"{size} bytes; at most {max_bytes} are read")
        content = f.read(max_bytes + 1)
    if len(content) > max_bytes:  # it grew while being read
        raise UnsafeFileError(f"more than {max_bytes} bytes; at most {max_bytes} are read")
    return content
