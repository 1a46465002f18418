"""Compact sets of message-id hashes, the memory of the local mail cursors.

The cursors store 8-byte hashes of what they saw — never names or content —
so they stay small (about 8 bytes a message before compression).
"""

from __future__ import annotations

import base64
import zlib

from nurture.errors import CursorExpired


def pack(keys: set[str]) -> str:
    """Sorted 16-hex-digit keys → compressed base64 text."""
    blob = b"".join(bytes.fromhex(k) for k in sorted(keys))
    return base64.b64encode(zlib.compress(blob, 1)).decode()


def unpack(text: str) -> set[str]:
    """The inverse of `pack`; a damaged cursor raises `CursorExpired` (backfill)."""
    try:
        blob = zlib.decompress(base64.b64decode(text))
    except (ValueError, zlib.error) as exc:
        raise CursorExpired(f"unreadable local mail cursor: {exc}") from exc
    return {blob[i : i + 8].hex() for i in range(0, len(blob), 8)}
