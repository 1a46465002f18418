"""Big alternations of phrases, searched several times faster with the same matches.

Python's `re` tries the alternatives of `a|b|c|...` one after another at every place a
match could start. The phrase lists of the signals (hundreds of alternatives in the
tone lexicon) spend most of their time there: on 1,000 candidate mails the lexicon took
about 100 ms of CPU, next to some 1,700 ms for the whole spaCy pipeline.

An `Alternation` keeps the pattern as written (`exact`) and builds a second one
(`starts`) from the same alternatives, merged into a trie on their literal beginnings
("annoy", "anger" and "angr" share "an"), which `re` skips through by one character
test per branch. A text has a match at a place exactly when one of the alternatives
matches there, in whatever order they are written, so `starts` finds the same places;
`exact` then matches at each place found, so which alternative wins and where the match
ends are as the pattern says. `search` and `finditer` return what the plain compiled
pattern would (tests/nlp/test_alternation.py compares them on varied text).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

_NAMED_GROUP = re.compile(r"(?<!\\)\(\?P<\w+>")
_META = frozenset(".^$*+?{}[]()|\\")
_QUANTIFIERS = frozenset("*+?{")


@dataclass(frozen=True, slots=True)
class Alternation:
    """A pattern of alternatives, each tried where a word starts with one of `initials`.

    `pattern` is written for lower-cased text; like `re.compile(rf"(?=\\b[{initials}])
    (?:{pattern})")`, which is `exact`.
    """

    pattern: str
    initials: str = "a-z"
    exact: re.Pattern[str] = field(init=False)
    starts: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        head = rf"(?=\b[{self.initials}])"
        object.__setattr__(self, "exact", re.compile(rf"{head}(?:{self.pattern})"))
        # `starts` captures nothing: its named groups only group (a branch multiplied
        # out would otherwise repeat a name).
        object.__setattr__(self, "starts", re.compile(rf"{head}(?:{_trie(self.branches())})"))

    def branches(self) -> list[str]:
        """The alternatives, leading groups multiplied out (see `_expand`); named groups
        only group."""
        plain = _NAMED_GROUP.sub("(?:", self.pattern)
        return [b for a in alternatives(plain) for b in _expand(a)]

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        """The first match at or after `pos`, as `exact.search(text, pos)` finds it."""
        found = self.starts.search(text, pos)
        if found is None:
            return None
        return self.exact.match(text, found.start())

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """The matches `exact.finditer(text)` gives, in order (none is empty)."""
        pos = 0
        while (match := self.search(text, pos)) is not None:
            yield match
            pos = match.end() if match.end() > match.start() else match.start() + 1

    def findall_count(self, text: str) -> int:
        """How many matches `exact.findall(text)` gives."""
        return sum(1 for _ in self.finditer(text))

    def hits(self, parts: Parts) -> list[bool]:
        """Whether each part has a match, as `search` on the part alone says, from one
        pass over the joined text."""
        check_joinable(self.pattern)
        found = [False] * len(parts.starts)
        pos = 0
        while (match := self.starts.search(parts.text, pos)) is not None:
            at = parts.which(match.start())
            found[at] = True
            if at + 1 >= len(parts.starts):
                break
            pos = parts.starts[at + 1]
        return found

    def matches(self, parts: Parts) -> Iterator[tuple[int, re.Match[str]]]:
        """Each part's matches, as `finditer` on the part alone gives them (offsets are in
        the joined text), with the part's index, from one pass over the joined text."""
        check_joinable(self.pattern)
        for match in self.finditer(parts.text):
            yield parts.which(match.start()), match


def hits_of_each(patterns: Sequence[Alternation], parts: Parts) -> list[list[bool]]:
    """`[pattern.hits(parts) for pattern in patterns]` from one pass over the joined text.

    Their alternatives merged into one trie find every place where one of them may
    match (each pass costs about the same whatever its pattern: most of it is the test
    for a word start at every character); each pattern is then tried only there, and
    only in a part where it has no hit yet.
    """
    for pattern in patterns:
        check_joinable(pattern.pattern)
    union = _union(tuple(patterns))
    found = [[False] * len(parts.starts) for _ in patterns]
    tries = [(row, pattern.starts.match) for row, pattern in zip(found, patterns, strict=True)]
    text = parts.text
    pos = 0
    while (place := union.search(text, pos)) is not None:
        start = place.start()
        at = parts.which(start)
        done = True
        for row, match in tries:
            if not row[at]:
                if match(text, start) is not None:
                    row[at] = True
                else:
                    done = False
        if not done:
            pos = start + 1
        elif at + 1 < len(parts.starts):
            pos = parts.starts[at + 1]  # every pattern has its hit here
        else:
            break
    return found


@functools.lru_cache(maxsize=16)
def _union(patterns: tuple[Alternation, ...]) -> re.Pattern[str]:
    """A pattern that matches wherever one of `patterns`' `starts` does (and maybe
    elsewhere): their initials and alternatives, merged."""
    initials = "".join(pattern.initials for pattern in patterns)
    branches = [branch for pattern in patterns for branch in pattern.branches()]
    return re.compile(rf"(?=\b[{initials}])(?:{_trie(branches)})")


# Between joined parts: no pattern that `_check_joinable` admits can match across it
# ('.' stops at a line break, '\s' at the NUL, and a word boundary stands at each end).
SEPARATOR = "\n\x00\n"


@dataclass(frozen=True, slots=True)
class Parts:
    """Texts joined by `SEPARATOR`, and where each starts: one regex pass over a message
    stands for one per sentence (each call costs about a microsecond of its own)."""

    text: str
    starts: list[int]

    @classmethod
    def of(cls, texts: Sequence[str]) -> Parts:
        width = len(SEPARATOR)
        starts = list(itertools.accumulate((len(text) + width for text in texts[:-1]), initial=0))
        return cls(SEPARATOR.join(texts), starts if texts else [])

    def which(self, offset: int) -> int:
        """The index of the part an offset of the joined text falls in."""
        return bisect.bisect_right(self.starts, offset) - 1


@functools.lru_cache(maxsize=64)
def check_joinable(pattern: str) -> None:
    """Refuse a pattern that could match across `SEPARATOR` or reads the text's ends:
    one with a class that takes the NUL or a line break (`\\W`, `\\S`, `\\D`, `[^`),
    an end anchor, or a start anchor other than "(?:^|\\b)" before a word."""
    plain = pattern.replace(r"(?:^|\b)", "")
    for bad in (r"\W", r"\S", r"\D", "[^", "$", "^"):
        if bad in plain:
            raise ValueError(f"a pattern with {bad!r} cannot be searched over joined parts")


def alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a pattern (its `|` outside groups and classes)."""
    out: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i = _class_end(pattern, i)
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            out.append(pattern[start:i])
            start = i + 1
        i += 1
    out.append(pattern[start:])
    return out


def _class_end(pattern: str, i: int) -> int:
    """The index after the character class opening at `i`."""
    j = i + 1
    if j < len(pattern) and pattern[j] == "^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1  # a leading ']' is a literal
    while pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return j + 1


def _group_end(pattern: str, i: int) -> int:
    """The index after the group opening at `i`."""
    depth = 0
    while True:
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i = _class_end(pattern, i)
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1


# A group that only groups or captures (not a lookaround): "(?:", "(?P<name>" or "(".
_plain_group = re.compile(r"\((?:\?:|\?P<\w+>|(?!\?))")


def _expand(branch: str, depth: int = 0) -> list[str]:
    """A branch as branches that begin with literal text where that is plain to see.

    A leading word boundary is dropped (the `initials` lookahead already stands there),
    and a leading non-capturing group is multiplied out: "(?:i|we) will" is "i will" or
    "we will", and "(?:very )?poor" is "very poor" or "poor". Either way the text has a
    match at a place exactly when one of the new branches matches there.
    """
    if branch.startswith(r"\b"):
        return _expand(branch[2:], depth)
    opening = _plain_group.match(branch)
    if depth < 3 and opening is not None:
        end = _group_end(branch, 0)
        inner, rest = branch[opening.end() : end - 1], branch[end:]
        optional = rest[:1] == "?" and rest[1:2] not in {"?", "+"}
        if rest[:1] in _QUANTIFIERS and not optional:
            return [branch]
        if optional:
            rest = rest[1:]
        out = [b for a in alternatives(inner) for b in _expand(a + rest, depth + 1)]
        if optional:
            out.extend(_expand(rest, depth + 1))
        return out
    return [branch]


def _literal_head(branch: str) -> tuple[str, str]:
    """A branch split into its literal beginning and the pattern after it."""
    chars: list[str] = []
    i = 0
    while i < len(branch):
        char = branch[i]
        if char == "\\" and i + 1 < len(branch) and not branch[i + 1].isalnum():
            literal, width = branch[i + 1], 2
        elif char in _META:
            break
        else:
            literal, width = char, 1
        if branch[i + width : i + width + 1] in _QUANTIFIERS:
            break  # "ugh+": the quantified letter belongs to what follows
        chars.append(literal)
        i += width
    return "".join(chars), branch[i:]


def _trie(branches: list[str]) -> str:
    """One pattern for all branches, their literal beginnings merged into a trie."""
    root: dict[str, dict] = {}  # type: ignore[type-arg]
    for branch in branches:
        head, rest = _literal_head(branch)
        node = root
        for char in head:
            node = node.setdefault(char, {})
        node.setdefault("", {})[rest] = None
    return _emit(root)


def _emit(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
    parts = list(node.get("", {}))
    parts += [re.escape(char) + _emit(child) for char, child in node.items() if char]
    # One part is one branch's rest or one chain of the trie: no '|' at its top level.
    return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"
