"""Thread rebuild, and who owes whom a reply.

Threads come from Message-ID / In-Reply-To / References (union-find, so a
missing middle message does not split a thread). Mail without those headers
(Enron-era Outlook, some mobile clients) falls back to the normalised
subject plus a shared participant within a time window, which is how a person
would link a bare "RE: contract" to the mail it answers.

Within a thread, a message answers the messages above it on its own branch
(`ancestry`), not every earlier message of the thread: a reply to one patch of
a series, or to one branch of a discussion, leaves the siblings unanswered.
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


# A long discussion answers at most this many messages above each message: enough for
# any real branch, and it keeps the ancestry of a thousand-message thread small.
MAX_ANCESTORS = 200


def ancestry(thread: Thread) -> dict[str, frozenset[str]]:
    """Message-ID → the Message-IDs of the thread's messages it answers, directly or
    through its parents (In-Reply-To chains are followed up, so a reply to a later
    message of a branch answers the branch above it).

    A message without threading headers that joined the thread by its reply-looking
    subject answers the earlier messages whose sender it went to (within
    `FALLBACK_WINDOW`), as a person reads a bare "RE: contract" with a quoted
    "-----Original Message-----" block.
    """
    members = {m.message_id: m.date for m in thread.messages}
    above: dict[str, frozenset[str]] = {}
    for m in thread.messages:  # oldest first: a parent's ancestry is known before its replies
        parents = [p for p in (*m.references, m.in_reply_to) if p and p in members]
        found: set[str] = set()
        if parents:
            for p in parents:
                if p != m.message_id:
                    found.add(p)
                    found |= above.get(p, frozenset())
        elif not m.in_reply_to and not m.references and is_reply_subject(m.subject):
            to = {a.email for a in m.recipients}
            found = {
                e.message_id
                for e in thread.messages
                if e.date < m.date and e.sender.email in to and m.date - e.date <= FALLBACK_WINDOW
            }
        found.discard(m.message_id)
        if len(found) > MAX_ANCESTORS:  # keep the nearest: the newest above it
            found = set(sorted(found, key=members.__getitem__)[-MAX_ANCESTORS:])
        above[m.message_id] = frozenset(found)
    return above


def replies(
    thread: Thread, above: dict[str, frozenset[str]] | None = None
) -> dict[str, list[Message]]:
    """Message-ID → the later messages of the thread that answer it (see `ancestry`),
    oldest first. Who counts as having answered is the caller's to say."""
    above = ancestry(thread) if above is None else above
    dates = {m.message_id: m.date for m in thread.messages}
    found: dict[str, list[Message]] = {}
    for m in thread.messages:  # oldest first, so each list comes out in order
        for target in above.get(m.message_id, ()):
            if dates.get(target, m.date) < m.date:
                found.setdefault(target, []).append(m)
    return found
