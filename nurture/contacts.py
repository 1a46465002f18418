"""Contacts: address normalisation, the user's identities, interactions and cadence."""

from __future__ import annotations

import fnmatch
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import pairwise

from .model import Address, CalendarEvent, Message

MIN_CADENCE = timedelta(days=7)
MAX_CADENCE = timedelta(days=180)
CONVERSATION = timedelta(days=3)


@lru_cache(maxsize=1 << 16)
def normalise(address: str) -> str:
    """Lower case, without a +tag: "Alex+News@X.org" → "alex@x.org".

    Cached: the same few thousand addresses are normalised over and over (every
    message's sender and recipients, in detection and in the report).
    """
    local, _, domain = address.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    return f"{local}@{domain}" if local else address.strip().lower()


_WILDCARDS = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class Identity:
    """The user's own addresses (globs allowed, e.g. "alex+*@example.org"), and the
    shared inboxes they read for a team (a support@ alias, a users' mailing list).

    The addresses are prepared once: `is_user` runs for every sender and
    recipient of every message, so it looks an address up instead of
    normalising the user's addresses again on each call.
    """

    addresses: tuple[str, ...]
    names: tuple[str, ...] = ()
    shared: tuple[str, ...] = ()
    _exact: frozenset[str] = field(init=False, repr=False, compare=False)
    _plain: frozenset[str] = field(init=False, repr=False, compare=False)
    _globs: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _shared: frozenset[str] = field(init=False, repr=False, compare=False)
    # Every address judged so far: a mailbox has a few thousand, asked about again and again.
    _judged: dict[str, bool] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_exact", frozenset(self.addresses))
        object.__setattr__(self, "_plain", frozenset(normalise(a) for a in self.addresses))
        globs = tuple(a for a in self.addresses if _WILDCARDS & set(a))
        object.__setattr__(self, "_globs", globs)
        object.__setattr__(self, "_shared", frozenset(normalise(a) for a in self.shared))

    def is_user(self, address: str | Address) -> bool:
        email = address.email if isinstance(address, Address) else address.lower()
        judged = self._judged.get(email)
        if judged is None:
            judged = self._judged[email] = (
                email in self._exact
                or normalise(email) in self._plain
                or any(fnmatch.fnmatchcase(email, a) for a in self._globs)
            )
        return judged

    @property
    def domains(self) -> set[str]:
        return {a.rpartition("@")[2] for a in self.addresses if "*" not in a.rpartition("@")[2]}

    def outbound(self, message: Message) -> bool:
        return self.is_user(message.sender)

    def others(self, addresses: Iterable[Address]) -> list[Address]:
        return [a for a in addresses if not self.is_user(a) and not self.is_shared(a)]

    def is_shared(self, address: str | Address) -> bool:
        """Whether `address` is one of the user's shared inboxes."""
        if not self._shared:
            return False
        email = address.email if isinstance(address, Address) else address.lower()
        return normalise(email) in self._shared

    def named(self, message: Message) -> bool:
        """The user's own address is on the message (To or Cc)."""
        return any(self.is_user(a) for a in message.recipients)

    def shared_inbox(self, message: Message) -> str:
        """The shared inbox that brought `message`, or "": one on its To/Cc, or the
        mailing list it came through (List-Post, or List-Id read as list@domain)."""
        if not self.shared:
            return ""
        for a in message.recipients:
            if self.is_shared(a):
                return a.email
        post = message.headers.get("list-post", "").lower()
        list_id = message.headers.get("list-id", "").lower()
        ident = list_id.rpartition("<")[2].partition(">")[0].strip() or list_id.strip()
        for plain in sorted(self._shared):
            local, _, domain = plain.partition("@")
            if f"mailto:{plain}" in post or (ident and ident == f"{local}.{domain}"):
                return plain
        return ""


_NAME_PARTS = re.compile(r"[._\-+]")


def first_names(person: Address) -> tuple[str, ...]:
    """The names a greeting may call `person` by: the display name, its given name
    ("Lee, Dana" gives "Dana"), and the given name an address like dana.lee@ spells."""
    names: list[str] = []
    display = " ".join(person.name.replace('"', " ").split())
    if display and "@" not in display:
        family, comma, given = display.partition(",")
        if comma and given.strip():
            display = f"{given.strip()} {family.strip()}"
        names += [display, display.split()[0]]
    local = person.email.partition("@")[0]
    first = _NAME_PARTS.split(local)[0]
    if len(first) >= 3 and first.isalpha():
        names.append(first)
    return tuple(dict.fromkeys(n for n in names if len(n) >= 2))


@dataclass(frozen=True, slots=True)
class Interaction:
    """One two-way-relevant touch with a contact: mail either way, or a meeting."""

    at: datetime
    kind: str  # "in", "out" or "meeting"


def interactions(
    messages: Sequence[Message],
    meetings: Sequence[CalendarEvent],
    identity: Identity,
    skip: set[str],
    now: datetime,
) -> dict[str, list[Interaction]]:
    """Per contact (normalised address), every interaction before `now`, oldest first.

    `skip` holds Message-IDs that do not count (automated or ignored mail).
    Outbound mail counts for each direct recipient (To), not for Cc.
    """
    found: dict[str, list[Interaction]] = {}
    for m in messages:
        if m.message_id in skip or m.date > now:
            continue
        if identity.outbound(m):
            for a in identity.others(m.to):
                found.setdefault(normalise(a.email), []).append(Interaction(m.date, "out"))
        else:
            found.setdefault(normalise(m.sender.email), []).append(Interaction(m.date, "in"))
    for e in meetings:
        if e.end > now or e.cancelled:
            continue
        for a in identity.others(e.attendees):
            found.setdefault(normalise(a.email), []).append(Interaction(e.start, "meeting"))
    for items in found.values():
        items.sort(key=lambda i: i.at)
    return found


def two_way(items: Sequence[Interaction]) -> bool:
    """A relationship, not a broadcast: both directions, or a meeting."""
    kinds = {i.kind for i in items}
    return "meeting" in kinds or {"in", "out"} <= kinds


def learned_cadence(moments: Iterable[datetime]) -> timedelta | None:
    """The usual gap between conversations with a contact (median), or None.

    Touches within `CONVERSATION` of each other are one conversation (a
    question on Monday and its answer on Tuesday are one touch, not two).
    None until there are four conversations spanning a month, because a
    rhythm needs a few repetitions before it means anything.
    """
    days = sorted({m.date() for m in moments})
    starts: list[date] = []
    for day in days:
        if not starts or day - starts[-1] > CONVERSATION:
            starts.append(day)
    if len(starts) < 4 or (starts[-1] - starts[0]) < timedelta(days=30):
        return None
    gaps = [(b - a).days for a, b in pairwise(starts)]
    median = timedelta(days=statistics.median(gaps))
    return min(max(median, MIN_CADENCE), MAX_CADENCE)
