"""TOML files with line numbers, so every problem can name its file, line and key.

`tomllib` gives values but no positions. `load` parses with tomllib and then
maps each key path to the line that defines it by a light scan of the text
(table headers and ``key =`` lines), which is all an error message needs.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import Problem

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)


def _split_key(text: str) -> tuple[str, ...]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", text)
    return tuple(p.strip("\"'") for p in parts)


@dataclass(frozen=True, slots=True)
class TomlFile:
    """A parsed TOML file and where each key path is defined."""

    path: Path
    data: dict[str, Any]
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict)

    def where(self, *key: str | int) -> str:
        """``file:line key.path`` for messages; falls back to the nearest parent's line."""
        probe = tuple(key)
        while probe and probe not in self.lines:
            probe = probe[:-1]
        line = self.lines.get(probe)
        dotted = ".".join(str(k) for k in key if not isinstance(k, int))
        return f"{self.path}:{line} {dotted}" if line else f"{self.path} {dotted}"


def _index_lines(text: str) -> dict[tuple[str | int, ...], int]:
    lines: dict[tuple[str | int, ...], int] = {}
    arrays: dict[tuple[str, ...], int] = {}
    table: tuple[str | int, ...] = ()
    in_multiline = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
            in_multiline = not in_multiline
            if not in_multiline:
                continue
        if in_multiline:
            continue
        header = _HEADER.match(line)
        if header:
            path = _split_key(header.group(2))
            if header.group(1) == "[[":
                index = arrays.get(path, -1) + 1
                arrays[path] = index
                table = (*path, index)
            else:
                table = path
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            lines.setdefault((*table, *_split_key(key.group(1))), number)
    return lines


def load(path: Path) -> tuple[TomlFile | None, list[Problem]]:
    """Parse `path`; on a syntax error return no file and one problem with its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(str(path), f"not UTF-8 text ({exc.reason})", "save it as UTF-8")]
    except OSError as exc:
        return None, [Problem(str(path), f"cannot read: {exc.strerror}")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\(at line (\d+), column (\d+)\)", message)
        where = f"{path}:{match.group(1)}" if match else str(path)
        return None, [Problem(where, f"TOML syntax error: {message}", "fix the syntax")]
    return TomlFile(path, data, _index_lines(text)), []
