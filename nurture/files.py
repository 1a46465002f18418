"""Files read and written whole, safely: what a hostile path or a killed write must not break.

Reading: `read_limited` opens without blocking and reads only a regular file up to a
size cap, so a FIFO named ``x.toml`` cannot hang the daemon's only worker and a
symlink to ``/dev/zero`` cannot fill its memory.

Writing: `replace_file` writes a temporary file beside the target, flushes it and
renames it over the target, so a reader sees the old file or the new one, never
half of one. A kill between the two leaves a ``.nurture-*.tmp``, which
`sweep_temporaries` removes on the next write.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from pathlib import Path

TEMP_PREFIX = ".nurture-"
TEMP_SUFFIX = ".tmp"
# A temporary file lives for the milliseconds of one write; one this old was
# left by a killed process (a live writer's is never near this age).
STALE_AFTER = 60.0


class FileRefused(OSError):
    """A file nurture will not read: not a regular file, or over the size cap."""


def read_limited(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at `path` (symlinks followed), at most `limit` of them.

    Raises `FileRefused` for a FIFO, a device, a folder or a file over `limit`
    bytes, and OSError when it cannot be opened. Opening never blocks.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(errno.EINVAL, "not a regular file", str(path))
        if info.st_size > limit:
            raise FileRefused(errno.EFBIG, f"larger than {limit:,} bytes", str(path))
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # it grew while being read
                raise FileRefused(errno.EFBIG, f"larger than {limit:,} bytes", str(path))
        return b"".join(chunks)
    finally:
        os.close(fd)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Write `data` to `path` via a temporary file beside it and a rename."""
    temp = path.with_name(f"{TEMP_PREFIX}{os.getpid()}.{os.urandom(4).hex()}{TEMP_SUFFIX}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            fd = -1
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        temp.unlink(missing_ok=True)
        raise


def replace_file(path: Path, data: bytes, new_mode: int = 0o600) -> Path:
    """Replace the file at `path` atomically; returns the path written.

    A symlink is written through: its target is replaced and the link stays.
    An existing file keeps its permission bits; a new one gets `new_mode`.
    """
    target = Path(os.path.realpath(path))
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = new_mode
    _write_new(target, data, mode)
    return target


def write_private(path: Path, text: str) -> Path:
    """Replace `path` atomically with a 0600 file holding `text`, whatever the umask.

    The text goes to a temporary file beside it (created 0600, never readable by
    others, even for a moment), is flushed to disk, and is renamed over `path`.
    """
    _write_new(path, text.encode("utf-8"), 0o600)
    return path


def sweep_temporaries(folder: Path, now: float | None = None) -> int:
    """Remove the temporary files killed writes left in `folder`; returns how many."""
    now = time.time() if now is None else now
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        name = entry.name
        if not (name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and now - entry.stat().st_mtime > STALE_AFTER:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed
