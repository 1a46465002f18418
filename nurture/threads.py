"""Thread rebuild, and who owes whom a reply.

Threads come from Message-ID / In-Reply-To / References (union-find, so a
missing middle message does not split a thread). Mail without those headers
(Enron-era Outlook, some mobile clients) falls back to the normalised
subject plus a shared participant within a time window, which is how a person
would link a bare "RE: contract" to the mail it answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from .model import FolderRole, Message

FALLBACK_WINDOW = timedelta(days=60)
_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|sv|vs|antw|wg|tr|r|rif|res)\s*(\[\d+\])?\s*:\s*)+", re.I)
_FOLDER_RANK = {
    FolderRole.SENT: 0,
    FolderRole.INBOX: 1,
    FolderRole.ARCHIVE: 2,
    FolderRole.OTHER: 3,
    FolderRole.JUNK: 4,
    FolderRole.TRASH: 5,
}


def normalise_subject(subject: str) -> str:
    """The subject without reply/forward prefixes, whitespace folded, lower case."""
    return " ".join(_PREFIX.sub("", subject).split()).lower()


def is_reply_subject(subject: str) -> bool:
    return bool(_PREFIX.match(subject))


@dataclass(frozen=True, slots=True)
class Thread:
    """A conversation: its messages oldest first; `id` is the first message's Message-ID."""

    id: str
    messages: tuple[Message, ...]

    @property
    def last(self) -> Message:
        return self.messages[-1]

    @property
    def subject(self) -> str:
        return self.messages[0].subject


def dedupe(messages: Iterable[Message]) -> list[Message]:
    """One copy per Message-ID (the same mail in Sent and All Mail counts once)."""
    best: dict[str, Message] = {}
    for m in messages:
        kept = best.get(m.message_id)
        if kept is None or _FOLDER_RANK[m.folder] < _FOLDER_RANK[kept.folder]:
            best[m.message_id] = m
    return list(best.values())


class _Union:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self.parent
        root = parent.setdefault(x, x)
        while root != parent[root]:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def build(messages: Sequence[Message]) -> list[Thread]:
    """Group messages into threads; each thread sorted by date."""
    unique = sorted(dedupe(messages), key=lambda m: (m.date, m.message_id))
    union = _Union()
    find, parent = union.find, union.parent
    for m in unique:
        root = find(m.message_id)
        for ref in (*m.references, m.in_reply_to):  # union(ref, m), the root kept at hand
            if ref:
                top = find(ref)
                if top != root:
                    parent[root] = top
                    root = top
    # Fallback: a reply-looking subject with no threading headers joins the latest
    # earlier message with the same subject and a shared participant. Most mailboxes
    # have no such message, and then there is nothing to look up.
    if any(not m.in_reply_to and not m.references and is_reply_subject(m.subject) for m in unique):
        _join_by_subject(unique, union)
    groups: dict[str, list[Message]] = {}
    for m in unique:
        groups.setdefault(union.find(m.message_id), []).append(m)
    return [Thread(g[0].message_id, tuple(g)) for g in groups.values()]


def _join_by_subject(unique: Sequence[Message], union: _Union) -> None:
    """Join bare replies (no threading headers) to the mail they answer, by subject."""
    recent: dict[str, list[Message]] = {}
    keys: dict[str, str] = {}  # subject → normalised (replies share their subjects)
    for m in unique:
        key = keys.get(m.subject)
        if key is None:
            key = keys[m.subject] = normalise_subject(m.subject)
        if not m.in_reply_to and not m.references and key and is_reply_subject(m.subject):
            people = {m.sender.email, *(a.email for a in m.recipients)}
            for earlier in reversed(recent.get(key, [])):
                if m.date - earlier.date > FALLBACK_WINDOW:
                    break
                if people & {earlier.sender.email, *(a.email for a in earlier.recipients)}:
                    union.union(earlier.message_id, m.message_id)
                    break
        if key:
            recent.setdefault(key, []).append(m)
