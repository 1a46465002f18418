"""Mail that repeats itself: a sender's template, a burst of near-identical reports,
the same patch resent as v7 and v9.

Two fingerprints are kept per message the NLP read, never its words: a 64-bit
SimHash of the writer's newest text (`fingerprint`; near-identical texts differ in a
few bits) and a short hash of each asking sentence (`sentence_key`). Detection then
counts, per sender, what repeats across their messages (`Repeats`):

- a sentence a sender writes in several messages of different conversations is their
  template ("kindly drop us a note", "if reports should go elsewhere, please let me
  know"), not an ask of the user;
- a sender whose near-identical text was addressed (To) to several different people is a
  template sender: a robot or a mass mailing with a human look. Who was copied does
  not count: a contributor's alike fixes, each to the user and copied to whoever wrote
  that page, were addressed to the user every time;
- near-identical messages from one sender (by text, or by subject once version marks
  are dropped) are one matter: one nudge, for the newest.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from .model import Message, Signals
from .threads import normalise_subject

# Texts whose fingerprints differ in at most this many of 64 bits are near-identical.
# Reports filled in from one template (a few words differ in 100) land within 6 bits;
# two unrelated mails of one sender differ in 20 or more.
NEAR_BITS = 6
# A text needs this many words for its fingerprint to mean anything.
MIN_WORDS = 12
# A sentence in this many of a sender's messages, over at least two conversations, is
# their template; a text near-identical to this many of theirs to different people
# makes them a template sender.
TEMPLATE_MESSAGES = 3

_WORD = re.compile(r"[^\W\d_]+|\d+")
_TAGS = re.compile(r"\[[^\]]*\]\s*")
_VERSION = re.compile(r"\bv\d+\b|\b\d+/\d+\b", re.IGNORECASE)


def _words(text: str) -> list[str]:
    return ["0" if w.isdigit() else w for w in _WORD.findall(text.lower())]


@functools.lru_cache(maxsize=1 << 15)
def _hash64(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "big")


def fingerprint(text: str) -> str:
    """The SimHash of `text`'s words and word pairs, 16 hex digits ("" for short text).

    Numbers count as one word, so a report filled in with other figures keeps the
    template's fingerprint.
    """
    words = _words(text)
    if len(words) < MIN_WORDS:
        return ""
    tokens = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
    counts = [0] * 64
    for token in tokens:
        h = _hash64(token)
        for bit in range(64):
            counts[bit] += 1 if h >> bit & 1 else -1
    value = sum(1 << bit for bit in range(64) if counts[bit] > 0)
    return f"{value:016x}"


def distance(a: str, b: str) -> int:
    """How many of 64 bits two fingerprints differ in (64 when either is missing)."""
    if not a or not b:
        return 64
    return (int(a, 16) ^ int(b, 16)).bit_count()


def sentence_key(sentence: str) -> str:
    """A short hash of a sentence's words (case, numbers and punctuation aside)."""
    words = _words(sentence)
    if not words:
        return ""
    return hashlib.blake2b(" ".join(words).encode(), digest_size=6).hexdigest()


def resend_key(subject: str) -> str:
    """The subject without reply prefixes, [tags] and version marks ("v7", "2/5"):
    "[PATCH v9 2/3] foo: fix bar" and "[PATCH v7 2/3] foo: fix bar" share it."""
    plain = normalise_subject(_TAGS.sub("", normalise_subject(subject)))
    return " ".join(_VERSION.sub("", plain).split())


@dataclass(slots=True)
class Repeats:
    """What each sender repeats, over the messages whose signals carry fingerprints."""

    thread_of: Callable[[str], str]
    _sentences: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    _texts: dict[str, list[tuple[str, str, frozenset[str]]]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        messages: Iterable[Message],
        signals: Mapping[str, Signals],
        thread_of: Callable[[str], str],
        sender_of: Callable[[Message], str],
    ) -> Repeats:
        found = cls(thread_of)
        for m in messages:
            sig = signals.get(m.message_id)
            if sig is None:
                continue
            sender = sender_of(m)
            for key in sig.sentence_keys:
                if key:
                    found._sentences.setdefault((sender, key), {})[m.message_id] = thread_of(
                        m.message_id
                    )
            if sig.fingerprint:
                people = frozenset(a.email for a in m.to)
                found._texts.setdefault(sender, []).append((m.message_id, sig.fingerprint, people))
        return found

    def template_sentence(self, sender: str, key: str) -> bool:
        """Whether `sender` wrote this sentence in several messages of several threads."""
        seen = self._sentences.get((sender, key), {})
        return len(seen) >= TEMPLATE_MESSAGES and len(set(seen.values())) >= 2

    def template_sender(self, sender: str, shape: str, user: Callable[[str], bool]) -> bool:
        """Whether `sender` addressed text near-identical to `shape` to several other people."""
        if not shape:
            return False
        audiences: set[frozenset[str]] = set()
        for _, other, people in self._texts.get(sender, ()):
            if distance(shape, other) <= NEAR_BITS:
                audiences.add(frozenset(p for p in people if not user(p)))
        return len(audiences) >= TEMPLATE_MESSAGES

    def near(self, sender: str, shape: str) -> set[str]:
        """The Message-IDs of `sender`'s messages near-identical to `shape`."""
        if not shape:
            return set()
        return {
            mid
            for mid, other, _ in self._texts.get(sender, ())
            if distance(shape, other) <= NEAR_BITS
        }
