"""TOML files with line numbers, so every problem can name its file, line and key.

`tomllib` gives values but no positions. `load` parses with tomllib and then
maps each key path to the line that defines it by a light scan of the text
(table headers and ``key =`` lines), which is all an error message needs.

A rule file is input the daemon reads on every change, so `load` reads only a
regular file of at most `MAX_BYTES` (a FIFO named ``x.toml`` hung the daemon's
only worker; a symlink to /dev/zero read 2.7 GB) and refuses nesting deeper
than `MAX_DEPTH` before tomllib recurses into it; every refusal is a problem
with the file, and the line and key where it can tell.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import Problem
from .files import FileRefused, read_limited

# No settings file nurture reads comes near this; a larger one is the wrong file.
MAX_BYTES = 1024 * 1024
# Arrays and inline tables nested deeper than this are refused before parsing:
# tomllib recurses once per level and 50,000 levels raised RecursionError.
MAX_DEPTH = 32

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


def _too_deep(text: str) -> tuple[int, str] | None:
    """(line, key) where brackets nest deeper than MAX_DEPTH, or None. Strings are skipped."""
    depth, key, quote = 0, "", ""
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line) if depth == 0 else None
        if header:
            table = _split_key(header.group(2))
            continue
        found = _KEY.match(line)
        if found and depth == 0:
            key = ".".join((*table, *_split_key(found.group(1))))
        index = 0
        while index < len(line):
            char = line[index]
            if quote:
                if char == "\\" and quote == '"':
                    index += 1
                elif char == quote:
                    quote = ""
            elif char in "\"'":
                quote = char
            elif char == "#":
                break
            elif char in "[{":
                depth += 1
                if depth > MAX_DEPTH:
                    return number, key
            elif char in "]}":
                depth = max(0, depth - 1)
            index += 1
        if quote == "'" or (quote == '"' and not line.endswith("\\")):
            quote = ""  # single-line strings end with their line; multi-line ones are rare here
    return None


def load(path: Path) -> tuple[TomlFile | None, list[Problem]]:
    """Parse `path`; on any failure return no file and one problem saying where and why."""
    try:
        text = read_limited(path, MAX_BYTES).decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(str(path), f"not UTF-8 text ({exc.reason})", "save it as UTF-8")]
    except FileRefused as exc:
        return None, [
            Problem(str(path), f"not read: {exc.strerror}", "a settings file is a small text file")
        ]
    except OSError as exc:
        return None, [Problem(str(path), f"cannot read: {exc.strerror}")]
    deep = _too_deep(text)
    if deep is not None:
        line, key = deep
        return None, [
            Problem(
                f"{path}:{line} {key}".rstrip(),
                f"arrays or tables nested more than {MAX_DEPTH} deep",
                "flatten the value",
            )
        ]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\(at line (\d+), column (\d+)\)", message)
        where = f"{path}:{match.group(1)}" if match else str(path)
        return None, [Problem(where, f"TOML syntax error: {message}", "fix the syntax")]
    except RecursionError:  # nesting the scan above did not see (it skips strings roughly)
        return None, [Problem(str(path), "nested too deeply to read", "flatten the values")]
    return TomlFile(path, data, _index_lines(text)), []
