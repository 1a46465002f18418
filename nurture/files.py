"""Private files written whole: a config naming secret commands, a report naming people."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, text: str) -> Path:
    """Replace `path` atomically with a 0600 file holding `text`, whatever the umask.

    The text goes to a temporary file beside it (created 0600, never readable by
    others, even for a moment), is flushed to disk, and is renamed over `path`: a
    reader sees the old file or the new one, never half of one.
    """
    temp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            fd = -1
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        temp.unlink(missing_ok=True)
        raise
    return path
