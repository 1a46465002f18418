"""mbox files as a mail source (read as bytes: some have 8-bit ``From `` lines).

A message starts at a ``From `` line at the start of the file or after a blank
line, which tolerates unescaped "From " inside bodies better than splitting at
every such line. The cursor keeps each file's size and mtime and the hashes of
the messages seen in it; a file that changed is read again and compared.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

from nurture.connector import MailBatch, MailSource
from nurture.errors import CursorExpired, Problem, UserError
from nurture.headers import header_block, message_ids, parse_message
from nurture.model import UTC, Body, FolderRole

from .fingerprint import pack, unpack
from .maildir import folder_role

log = logging.getLogger(__name__)

BATCH = 1000
# A separator is "From " + sender + a date with a clock time, at the start of the
# file or after a blank line; "From here on, ..." in a body is not one.
_FROM_LINE = re.compile(rb"(?:\A|\n\n|\r\n\r\n)(From [^\n]*\d{1,2}:\d{2}[^\n]*\n)")


def split_mbox(data: bytes) -> list[bytes]:
    """The messages of an mbox file, without their ``From `` separator lines."""
    starts = [m.start(1) for m in _FROM_LINE.finditer(data)]
    messages = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(data)
        chunk = data[start:end]
        newline = chunk.find(b"\n")
        messages.append(chunk[newline + 1 :] if newline != -1 else b"")
    return [m for m in messages if m.strip()]


def _key(path: Path, raw: bytes, index: int) -> str:
    ids = message_ids(_message_id_header(raw))
    basis = ids[0] if ids else f"{index}:{hashlib.sha1(raw[:4096]).hexdigest()}"
    return hashlib.blake2b(f"{path}\0{basis}".encode(), digest_size=8).hexdigest()


def _message_id_header(raw: bytes) -> str:
    head = header_block(raw)
    match = re.search(rb"(?im)^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", head)
    return match.group(1).decode("latin-1") if match else ""


class MboxSource(MailSource):
    """Reads one or more mbox files; folder roles come from the file names."""

    def __init__(self, paths: Sequence[Path], sent_names: Sequence[str] = ()) -> None:
        self.paths = list(paths)
        self.sent_names = tuple(sent_names)

    def _files(self) -> list[Path]:
        files: list[Path] = []
        for path in self.paths:
            if path.is_dir():
                files.extend(sorted(p for p in path.iterdir() if p.is_file()))
            elif path.is_file():
                files.append(path)
            else:
                raise UserError(
                    f"mbox {path} does not exist",
                    [Problem(str(path), "no such file or folder", "fix `mbox` in config.toml")],
                )
        return files

    def _role(self, path: Path) -> FolderRole:
        stem = path.stem
        role = folder_role(stem, self.sent_names)
        return FolderRole.INBOX if role is FolderRole.OTHER else role

    def _messages(self, path: Path) -> Iterator[tuple[str, bytes]]:
        data = path.read_bytes()
        for index, raw in enumerate(split_mbox(data)):
            yield _key(path, raw, index), raw

    def changes(self, cursor: str | None, since: datetime) -> Iterator[MailBatch]:
        try:
            old = json.loads(cursor)["files"] if cursor else {}
        except (ValueError, KeyError, TypeError) as exc:
            raise CursorExpired(f"unreadable mbox cursor: {exc}") from exc
        files = self._files()
        stamps = {str(p): [p.stat().st_size, p.stat().st_mtime_ns] for p in files}
        if cursor and {k: v["stamp"] for k, v in old.items()} == stamps:
            yield MailBatch(cursor=cursor)
            return
        known: dict[str, set[str]] = {}
        deleted: set[str] = set()
        messages = []
        for name, entry in old.items():
            if name not in stamps:
                deleted |= unpack(entry["ids"])
        for path in files:
            name = str(path)
            before = unpack(old[name]["ids"]) if name in old else set()
            if name in old and old[name]["stamp"] == stamps[name]:
                known[name] = before
                continue
            present: set[str] = set()
            role = self._role(path)
            fallback = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            for key, raw in self._messages(path):
                if key in present:
                    continue
                present.add(key)
                if key in before:
                    continue
                try:
                    message = parse_message(
                        raw, id=key, folder=role, fallback_date=fallback, link=f"file://{path}"
                    )
                except Exception as exc:
                    log.warning("%s: cannot parse a message (%s); skipped", path, exc)
                    continue
                if message.date >= since:
                    messages.append(message)
            deleted |= before - present
            known[name] = present
        cursor_out = json.dumps(
            {
                "v": 1,
                "files": {
                    n: {"stamp": stamps[n], "ids": pack(known.get(n, set()))} for n in stamps
                },
            },
            separators=(",", ":"),
        )
        # mbox files are read whole; one checkpoint per sync is enough.
        chunks = [messages[i : i + BATCH] for i in range(0, len(messages), BATCH)] or [[]]
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            yield MailBatch(
                messages=tuple(chunk),
                deleted=tuple(sorted(deleted)) if last else (),
                cursor=cursor_out if last else (cursor or ""),
                total=len(messages),
            )

    def bodies(self, ids: Sequence[str]) -> Iterator[tuple[str, Body]]:
        wanted = set(ids)
        for path in self._files():
            if not wanted:
                return
            for key, raw in self._messages(path):
                if key in wanted:
                    wanted.discard(key)
                    yield key, Body(raw=raw)
