"""Maildir (and Maildir++ subfolders) as a mail source.

Identity: a message's id is a short hash of its folder and the unique part of
its file name (before ``:2,``), so it survives flag changes and the move from
``new/`` to ``cur/``. The cursor stores the folders' directory mtimes and the
hashes of the ids it has seen — hashes, not names or content, so the cursor
stays compact (8 bytes a message) and a no-change sync is a few ``stat`` calls.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from nurture.bodies import compact_message
from nurture.connector import MailBatch, MailSource
from nurture.errors import CursorExpired
from nurture.headers import parse_message
from nurture.model import UTC, Body, FolderRole, Message

from .fingerprint import pack, unpack

log = logging.getLogger(__name__)

BATCH = 1000
HEAD_CHUNK = 16384
# The header block is read up to its blank line, and never past this: a file
# without a blank line is not read whole (20 MB of it took 26 s, quadratically).
MAX_HEAD = 256 * 1024

_ROLES = {
    "sent": FolderRole.SENT,
    "sent items": FolderRole.SENT,
    "sent messages": FolderRole.SENT,
    "sent mail": FolderRole.SENT,
    "archive": FolderRole.ARCHIVE,
    "archives": FolderRole.ARCHIVE,
    "all mail": FolderRole.ARCHIVE,
    "junk": FolderRole.JUNK,
    "spam": FolderRole.JUNK,
    "junk e-mail": FolderRole.JUNK,
    "trash": FolderRole.TRASH,
    "deleted items": FolderRole.TRASH,
    "deleted messages": FolderRole.TRASH,
    "drafts": FolderRole.OTHER,
}


def folder_role(name: str, sent_names: Sequence[str] = ()) -> FolderRole:
    """The role of a Maildir++ folder (".Sent", ".INBOX.Sent", "Sent") by its name."""
    if name == "":
        return FolderRole.INBOX
    leaf = name.strip(".").replace("\\", "/").split(".")[-1].split("/")[-1].lower()
    if name in sent_names or leaf in (s.lower() for s in sent_names):
        return FolderRole.SENT
    return _ROLES.get(leaf, FolderRole.OTHER)


def message_key(folder: str, filename: str) -> str:
    """The stable id of a Maildir message: hash of folder + unique name."""
    unique = filename.split(":", 1)[0]
    return hashlib.blake2b(f"{folder}/{unique}".encode(), digest_size=8).hexdigest()


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return 0


@dataclass(frozen=True, slots=True)
class Folder:
    name: str  # "" for the inbox, ".Sent" for a Maildir++ subfolder
    path: Path
    role: FolderRole

    def stamp(self) -> list[int]:
        return [_mtime(self.path / "cur"), _mtime(self.path / "new")]

    def files(self) -> Iterator[tuple[str, str]]:
        """(id, path) of every message file, in name order within cur/ and new/."""
        for sub in ("new", "cur"):
            try:
                entries = sorted(
                    (e.name, e.path) for e in os.scandir(self.path / sub) if e.is_file()
                )
            except FileNotFoundError:
                continue
            for name, path in entries:
                if not name.startswith("."):
                    yield message_key(self.name, name), path


def find_folders(root: Path, sent_names: Sequence[str] = ()) -> list[Folder]:
    """The inbox and every subfolder holding cur/ or new/ (Maildir++ or nested)."""
    folders = []
    if (root / "cur").is_dir() or (root / "new").is_dir():
        folders.append(Folder("", root, FolderRole.INBOX))
    for dirpath, dirnames, _ in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ("cur", "new", "tmp"))
        for d in list(dirnames):
            path = Path(dirpath) / d
            if (path / "cur").is_dir() or (path / "new").is_dir():
                name = str(path.relative_to(root))
                folders.append(Folder(name, path, folder_role(name, sent_names)))
    return folders


def read_head(path: str) -> bytes:
    """The header block of a message file, at most `MAX_HEAD` bytes; linear in what it reads.

    Each chunk is searched once (with the three bytes before it, where a blank
    line can begin), and the chunks are joined once at the end.
    """
    chunks: list[bytes] = []
    size = 0
    with open(path, "rb") as fh:
        while size < MAX_HEAD:
            chunk = fh.read(HEAD_CHUNK)
            if not chunk:
                break
            seam = chunks[-1][-3:] + chunk if chunks else chunk
            chunks.append(chunk)
            size += len(chunk)
            if b"\n\n" in seam or b"\r\n\r\n" in seam:
                break
    return b"".join(chunks)[:MAX_HEAD]


class MaildirSource(MailSource):
    """Reads a Maildir tree; the cursor is a compact fingerprint of what was seen."""

    def __init__(self, root: Path, sent_names: Sequence[str] = ()) -> None:
        self.root = root
        self.sent_names = tuple(sent_names)
        # id -> path, with the folder stamps it was listed under: the analysis asks
        # for bodies in batches of 200, and listing 100k files per batch cost 6 s.
        self._listing: tuple[dict[str, list[int]], dict[str, str]] | None = None

    def _folders(self) -> list[Folder]:
        if not self.root.is_dir():
            from nurture.errors import Problem, UserError

            raise UserError(
                f"Maildir {self.root} does not exist",
                [Problem(str(self.root), "no such folder", "fix `maildir` in config.toml")],
            )
        return find_folders(self.root, self.sent_names)

    def changes(self, cursor: str | None, since: datetime) -> Iterator[MailBatch]:
        folders = self._folders()
        old = self._load(cursor)
        stamps = {f.name: f.stamp() for f in folders}
        if cursor and {n: o["stamp"] for n, o in old.items()} == stamps:
            yield MailBatch(cursor=cursor)
            return
        # Per folder: what was seen before (from the cursor) and what is there now.
        known: dict[str, set[str]] = {}
        deleted: set[str] = set()
        todo: list[tuple[str, str, Folder]] = []
        for name, entry in old.items():
            if name not in stamps:
                deleted |= unpack(entry["ids"])
        for f in folders:
            before = unpack(old[f.name]["ids"]) if f.name in old else set()
            if f.name in old and old[f.name]["stamp"] == stamps[f.name]:
                known[f.name] = before
                continue
            present = set()
            for key, path in f.files():
                present.add(key)
                if key not in before:
                    todo.append((key, path, f))
            deleted |= before - present
            known[f.name] = before & present
        total = len(todo)
        # Until the last batch, a changed folder keeps its old stamp in the cursor,
        # so a crash re-lists it; its `known` ids make the re-listing skip what
        # was already committed.
        pending_stamps = {n: (old[n]["stamp"] if n in old else [0, 0]) for n in stamps}
        if not todo:
            yield MailBatch(
                deleted=tuple(sorted(deleted)), cursor=self._cursor(stamps, known), total=0
            )
            return
        for start in range(0, total, BATCH):
            chunk = todo[start : start + BATCH]
            messages = []
            for key, path, folder in chunk:
                message = self._read(key, path, folder)
                if message is not None and message.date >= since:
                    messages.append(message)
                known[folder.name].add(key)
            last = start + BATCH >= total
            yield MailBatch(
                messages=tuple(messages),
                deleted=tuple(sorted(deleted)) if start == 0 else (),
                cursor=self._cursor(stamps if last else pending_stamps, known),
                total=total,
            )

    @staticmethod
    def _load(cursor: str | None) -> dict[str, dict]:
        if not cursor:
            return {}
        try:
            state = json.loads(cursor)
            folders = state["folders"]
            for entry in folders.values():
                if not isinstance(entry["ids"], str) or len(entry["stamp"]) != 2:
                    raise TypeError("bad folder entry")
            return dict(folders)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CursorExpired(f"unreadable Maildir cursor: {exc}") from exc

    @staticmethod
    def _cursor(stamps: dict[str, list[int]], known: dict[str, set[str]]) -> str:
        folders = {n: {"stamp": stamps[n], "ids": pack(known.get(n, set()))} for n in stamps}
        return json.dumps({"v": 2, "folders": folders}, separators=(",", ":"))

    def _read(self, key: str, path: str, folder: Folder) -> Message | None:
        try:
            head = read_head(path)
            fallback = datetime.fromtimestamp(os.stat(path).st_mtime, UTC)
        except OSError as exc:  # vanished between listing and reading
            log.debug("skipping %s: %s", path, exc)
            return None
        try:
            return parse_message(
                head, id=key, folder=folder.role, fallback_date=fallback, link=f"file://{path}"
            )
        except Exception as exc:
            log.warning(
                "%s: cannot parse this message (%s); skipped — fix or remove the file", path, exc
            )
            return None

    def _paths(self) -> dict[str, str]:
        """id -> file of every message, listed again only when a folder changed."""
        folders = self._folders()
        stamps = {f.name: f.stamp() for f in folders}
        if self._listing is None or self._listing[0] != stamps:
            self._listing = (stamps, {key: path for f in folders for key, path in f.files()})
        return self._listing[1]

    def bodies(self, ids: Sequence[str]) -> Iterator[tuple[str, Body]]:
        """Each message asked, read alone: its text parts kept, attachments read past."""
        if not ids:
            return
        paths = self._paths()
        for key in dict.fromkeys(ids):
            path = paths.get(key)
            if path is None:
                continue
            try:
                with open(path, "rb") as fh:
                    raw = compact_message(fh)
            except FileNotFoundError:  # moved (new/ to cur/, a flag) since the listing
                self._listing = None
                path = self._paths().get(key)
                if path is None:
                    continue
                try:
                    with open(path, "rb") as fh:
                        raw = compact_message(fh)
                except OSError:
                    continue
            except OSError:
                continue
            yield key, Body(raw=raw)
