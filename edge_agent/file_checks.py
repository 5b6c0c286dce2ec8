"""Whether a file a config names can be used: one line naming the key and the path when it cannot."""

from __future__ import annotations

import stat
from pathlib import Path


def unreadable_file(where: str, path: Path, head_bytes: int = 0) -> tuple[str | None, bytes]:
    """(problem, the file's first `head_bytes`): missing, not a regular file, or not readable by this user.

    `where` starts the line, e.g. "mqtt.ca_file = '/etc/ca.pem'"."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return f"{where}: not a regular file", b""
        with path.open("rb") as f:
            return None, f.read(head_bytes)
    except FileNotFoundError:
        return f"{where}: file not found", b""
    except PermissionError:
        return f"{where}: this user may not read it", b""
    except (OSError, ValueError) as exc:
        return f"{where}: cannot be read ({getattr(exc, 'strerror', None) or exc})", b""
