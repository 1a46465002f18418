"""The IMAP cursor: per folder UIDVALIDITY, UIDNEXT, message count, HIGHESTMODSEQ, known UIDs.

The cursor is self-contained (no side file in the cache folder): the core
commits it with each batch, so whatever it says is exactly what the core has.
The UIDs nurture has reported are kept as a compact IMAP sequence set
("1:5000,5002:7311"); mailboxes grow at the end, so the set stays short.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from nurture.errors import CursorExpired

VERSION = 1


def compress(uids: Iterable[int]) -> str:
    """Sorted UIDs as an IMAP sequence set: [1, 2, 3, 7] → "1:3,7"."""
    parts: list[str] = []
    start = prev = None
    for uid in sorted(set(uids)):
        if prev is not None and uid == prev + 1:
            prev = uid
            continue
        if start is not None:
            parts.append(f"{start}:{prev}" if start != prev else str(start))
        start = prev = uid
    if start is not None:
        parts.append(f"{start}:{prev}" if start != prev else str(start))
    return ",".join(parts)


def expand(text: str) -> frozenset[int]:
    """The inverse of `compress`."""
    uids: set[int] = set()
    for part in filter(None, text.split(",")):
        low, _, high = part.partition(":")
        uids.update(range(int(low), int(high or low) + 1))
    return frozenset(uids)


@dataclass(frozen=True, slots=True)
class FolderState:
    """What nurture knows of one folder.

    `count` is the folder's message count when `uidnext` was taken, or None
    when unknown (a checkpoint in the middle of a backfill): then the next
    sync checks which known UIDs still exist instead of trusting arithmetic.
    """

    role: str
    uidvalidity: int
    uidnext: int
    count: int | None
    modseq: int | None = None
    uids: frozenset[int] = field(default_factory=frozenset)

    def but(self, **changes: object) -> FolderState:
        return replace(self, **changes)  # type: ignore[arg-type]


def encode(folders: dict[str, FolderState]) -> str:
    return json.dumps(
        {
            "v": VERSION,
            "folders": {
                name: {
                    "role": s.role,
                    "uidvalidity": s.uidvalidity,
                    "uidnext": s.uidnext,
                    "count": s.count,
                    "modseq": s.modseq,
                    "uids": compress(s.uids),
                }
                for name, s in sorted(folders.items())
            },
        },
        separators=(",", ":"),
    )


def decode(cursor: str | None) -> dict[str, FolderState]:
    """Parse a cursor; `CursorExpired` if it is not one of ours (the core then backfills)."""
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
        if data.get("v") != VERSION:
            raise CursorExpired(f"IMAP cursor version {data.get('v')!r} is not {VERSION}")
        return {
            name: FolderState(
                role=str(f["role"]),
                uidvalidity=int(f["uidvalidity"]),
                uidnext=int(f["uidnext"]),
                count=None if f.get("count") is None else int(f["count"]),
                modseq=None if f.get("modseq") is None else int(f["modseq"]),
                uids=expand(str(f.get("uids", ""))),
            )
            for name, f in data["folders"].items()
        }
    except CursorExpired:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CursorExpired(f"unreadable IMAP cursor: {exc}") from exc
