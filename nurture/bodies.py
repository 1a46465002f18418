"""A raw message read for analysis in bounded memory: its MIME skeleton and its text.

The NLP reads the first text/plain part (or the first text/html one) and of that
at most `nurture.nlp.MAX_MODEL_CHARS` characters of newest text, found after
quote stripping on at most 200,000 characters. Everything else a message holds
(attachments, images, forwarded messages) only costs memory: 40 asks with a
23 MB attachment each peaked at 1.1 GB when read whole.

`compact_message` streams a message once, line by line, and keeps:

- the header block (at most `MAX_HEAD` bytes);
- every part's headers (at most `MAX_SKELETON` bytes in all), so what the
  structure says (a text/calendar part, a delivery report) is still seen;
- the bodies of text/plain and text/html parts that are not attachments, at
  most `TEXT_BUDGET` bytes in all — generous, so that quote stripping still
  finds the newest text under a long quoted thread.

Other bodies are read past, never kept: memory follows the text, not the message.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import BinaryIO

MAX_HEAD = 256 * 1024
MAX_SKELETON = 1024 * 1024
TEXT_BUDGET = 256 * 1024
# Lines are read in pieces of at most this much: a 20 MB base64 line without a
# newline is read past in bounded pieces too. A boundary line (at most 72 bytes,
# RFC 2046) always fits in one piece.
_PIECE = 64 * 1024
_BLOCK = 1024 * 1024
_KEPT_TYPES = ("text/plain", "text/html")
_PARSER = BytesHeaderParser(policy=compat32)


class _Lines:
    """A stream read in 1 MB blocks, as lines (pieces of at most `_PIECE` bytes), with a
    fast way past a body: `skip` finds the next boundary line by searching whole blocks.
    """

    def __init__(self, stream: BinaryIO, limit: int | None) -> None:
        self._stream = stream
        self._left = limit
        self._buf = b""
        self._pos = 0
        self._at_start = True

    def _fill(self) -> bool:
        size = _BLOCK if self._left is None else min(_BLOCK, self._left)
        data = self._stream.read(size) if size > 0 else b""
        if not data:
            return False
        if self._left is not None:
            self._left -= len(data)
        self._buf = self._buf[self._pos :] + data
        self._pos = 0
        return True

    def __iter__(self) -> Iterator[tuple[bytes, bool]]:
        return self

    def __next__(self) -> tuple[bytes, bool]:
        """(piece, whether the piece starts a line)."""
        while True:
            newline = self._buf.find(b"\n", self._pos, self._pos + _PIECE)
            if newline != -1:
                end = newline + 1
                break
            if len(self._buf) - self._pos >= _PIECE:
                end = self._pos + _PIECE
                break
            if not self._fill():
                if self._pos >= len(self._buf):
                    raise StopIteration
                end = len(self._buf)
                break
        piece = self._buf[self._pos : end]
        self._pos = end
        starts, self._at_start = self._at_start, piece.endswith(b"\n")
        return piece, starts

    def skip(self, marks: tuple[bytes, ...]) -> tuple[bytes, bool] | None:
        """Read past everything before the next line that starts with one of `marks`.

        Returns that line (as `__next__` would), or None at the end. Nothing
        read past is kept: memory stays at one block however long the body.
        """
        longest = max((len(m) for m in marks), default=0) + 1
        while True:
            if self._at_start and any(self._buf.startswith(m, self._pos) for m in marks):
                return next(self)
            found = [i for i in (self._buf.find(b"\n" + m, self._pos) for m in marks) if i != -1]
            if found:
                self._pos = min(found) + 1
                self._at_start = True
                return next(self)
            keep = max(self._pos, len(self._buf) - longest)
            if keep > self._pos:
                self._at_start = self._buf[keep - 1 : keep] == b"\n"
                self._pos = keep
            if not self._fill():
                self._pos = len(self._buf)
                return None


class _Compactor:
    def __init__(self, lines: _Lines) -> None:
        self.lines = lines
        self.out = bytearray()
        self.skeleton = 0
        self.text = 0

    def _is_boundary(self, piece: bytes, starts: bool, boundaries: tuple[bytes, ...]) -> bool:
        return starts and any(piece.startswith(b) for b in boundaries)

    def headers(self, boundaries: tuple[bytes, ...], cap: int) -> tuple[bytes, bytes | None]:
        """One header block (up to its blank line); or the boundary line met before its end."""
        block = bytearray()
        for piece, starts in self.lines:
            if self._is_boundary(piece, starts, boundaries):
                return bytes(block), piece
            if len(block) < cap:
                block += piece
            if starts and piece in (b"\n", b"\r\n"):
                break
        return bytes(block), None

    def keep_headers(self, block: bytes) -> None:
        room = MAX_SKELETON - self.skeleton
        if room <= 0 or not block:
            return
        kept = block[:room]
        self.out += kept
        self.skeleton += len(kept)
        if kept not in (b"\n", b"\r\n") and not kept.endswith((b"\n\n", b"\r\n\r\n")):
            self.out += b"\r\n" if kept.endswith(b"\r\n") else b"\n"

    def entity(self, boundaries: tuple[bytes, ...], cap: int = 64 * 1024) -> bytes | None:
        """Copy one entity (headers, then its body as bounded); returns the line that ended it."""
        block, ended = self.headers(boundaries, cap)
        self.keep_headers(block)
        if ended is not None:
            return ended
        try:
            head = _PARSER.parsebytes(block)
            ctype = head.get_content_type()
            boundary = head.get_boundary() if ctype.startswith("multipart/") else None
            attached = str(head.get("content-disposition", "")).lower().startswith("attachment")
        except Exception:  # a header block the parser cannot read: keep its body as text
            ctype, boundary, attached = "text/plain", None, False
        if boundary:
            return self.multipart(b"--" + boundary.encode("ascii", "replace"), boundaries)
        return self.body(boundaries, ctype in _KEPT_TYPES and not attached)

    def multipart(self, mark: bytes, outer: tuple[bytes, ...]) -> bytes | None:
        inner = (mark, *outer)
        line = self.body(inner, keep=False)  # the preamble
        while line is not None:
            if not line.startswith(mark):
                return line  # an enclosing boundary: this multipart ended without its close
            self.out += line
            if line.rstrip(b"\r\n").startswith(mark + b"--"):
                return self.body(outer, keep=False)  # the epilogue
            line = self.entity(inner)
        return None

    def body(self, boundaries: tuple[bytes, ...], keep: bool) -> bytes | None:
        """Copy (or, not kept, read past) a body; returns the boundary line that ended it."""
        while keep and self.text < TEXT_BUDGET:
            try:
                piece, starts = next(self.lines)
            except StopIteration:
                return None
            if self._is_boundary(piece, starts, boundaries):
                return piece
            self.out += piece
            self.text += len(piece)
        if not boundaries:  # the last body of the message: nothing after it matters
            return None
        found = self.lines.skip(boundaries)
        return found[0] if found else None


def compact_message(stream: BinaryIO, length: int | None = None) -> bytes:
    """Read one RFC 5322 message from `stream` (at most `length` bytes) into bounded bytes.

    The result is itself a message: the headers and MIME skeleton, with only
    the bodies of text parts (bounded) left in; see the module docstring.
    """
    compactor = _Compactor(_Lines(stream, length))
    compactor.entity((), cap=MAX_HEAD)
    return bytes(compactor.out)
