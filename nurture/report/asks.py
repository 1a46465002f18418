"""What was asked and promised: asks to the user and their replies, the user's own
questions and their answers, and the user's promises and whether they were kept.

Definitions (the README and schema.json repeat them for the reader):

- an *ask* is inbound mail addressed To the user, not automated or ignored by
  rule, whose signals hold at least one ask; its *reply* is the user's next
  message in the same thread. A *reply debt* is an ask with no reply (and no
  reply nudge the user marked done or dismissed).
- a *waiting question* is the user's own message that asks something and got
  no later message from anyone else in its thread.
- a *promise* is a commitment with a due date in the user's own mail. It is
  kept by the user's next message to that contact in the promise's thread
  (or, when that thread has none, the next message to that contact at all):
  on time when sent by the due date, late after it, missed when nothing came
  and the due date passed, open when nothing came yet and it is not due.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeVar

from .. import threads
from ..contacts import Identity, normalise
from ..detect import ASK_MIN
from ..model import Kind, LedgerEntry, Message, NudgeKey, Signals
from ..rules import Tier
from .people import Names, TierOf
from .records import Debt, Promise, Waiting
from .stats import HOUR, NEVER, TICK, days


@dataclass(frozen=True, slots=True)
class Asked:
    message: Message
    contact: str
    tier: Tier
    reply_at: datetime | None
    handled_at: datetime | None  # a reply nudge the user marked done or dismissed
    superseded_at: datetime | None = None  # a newer ask in the thread that one reply answers
    # The last instant this ask is a debt, so that `open_at(when)` is `when <= open_until`:
    # a reply or a handled nudge at `when` ends the debt from `when` on; a newer ask at
    # `when` ends it just before (datetimes count in microseconds).
    open_until: datetime = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        until = min(t for t in (self.reply_at, self.handled_at, NEVER) if t is not None)
        if self.superseded_at is not None:
            until = min(until, self.superseded_at - TICK)
        object.__setattr__(self, "open_until", until)

    def open_at(self, when: datetime) -> bool:
        """A debt at `when`: unanswered, not handled, and the thread's newest ask."""
        return when <= self.open_until

    @property
    def reply_hours(self) -> float | None:
        if self.reply_at is None:
            return None
        return (self.reply_at - self.message.date).total_seconds() / HOUR

    def judged(self, now: datetime) -> bool:
        """Answered, or its reply window has ended: fair to judge."""
        return self.reply_at is not None or now - self.message.date >= self.tier.reply_within

    def within(self) -> bool:
        return self.reply_at is not None and (
            self.reply_at - self.message.date <= self.tier.reply_within
        )


@dataclass(frozen=True, slots=True)
class Question:
    message: Message
    contact: str
    tier: Tier
    answer_at: datetime | None


@dataclass(frozen=True, slots=True)
class Promised:
    message: Message
    contact: str
    tier: Tier
    due: datetime
    kept_at: datetime | None

    def status(self, now: datetime) -> str:
        if self.kept_at is not None:
            return "on-time" if self.kept_at <= self.due else "late"
        return "missed" if self.due < now else "open"


def handled(ledger: Mapping[str, LedgerEntry]) -> dict[str, datetime]:
    """Message-ID → when the user marked its reply nudge done or dismissed."""
    found = {}
    for entry in ledger.values():
        if entry.kind is Kind.REPLY and entry.state.final:
            mid = str(entry.detail.get("message_id") or NudgeKey.parse(entry.key).ref)
            found[mid.strip("<>")] = entry.updated
    return found


def _scan(
    thread: Sequence[Message],
    signals: Mapping[str, Signals],
    who: Identity,
    skip: set[str],
    tier_of: TierOf,
    handled: Mapping[str, datetime],
    asks: list[Asked],
    questions: list[Question],
) -> None:
    """Asks to the user and the user's own questions in one thread (oldest first)."""
    next_user: list[datetime | None] = [None] * len(thread)
    next_other: list[datetime | None] = [None] * len(thread)
    user_at: datetime | None = None
    other_at: datetime | None = None
    outbound = [who.is_user(m.sender) for m in thread]
    for i in range(len(thread) - 1, -1, -1):
        next_user[i], next_other[i] = user_at, other_at
        if outbound[i]:
            user_at = thread[i].date
        elif thread[i].message_id not in skip:
            other_at = thread[i].date
    seen_waiting = False
    mine: list[Asked] = []
    for i, m in enumerate(thread):
        if m.message_id in skip:
            continue
        s = signals.get(m.message_id)
        if s is None or not s.asks or s.ask_score < ASK_MIN:
            continue
        if outbound[i]:
            others = who.others(m.to)
            if not others or seen_waiting:
                continue
            contact = normalise(others[0].email)
            answer = next_other[i]
            if answer is None:
                seen_waiting = True  # later questions in this thread wait on the same answer
            questions.append(Question(m, contact, tier_of(contact), answer))
        elif any(who.is_user(a) for a in m.to) or (
            s.greets_user and any(who.is_user(a) for a in m.cc)
        ):
            contact = normalise(m.sender.email)
            ask = Asked(m, contact, tier_of(contact), next_user[i], handled.get(m.message_id))
            if mine and mine[-1].reply_at == ask.reply_at:
                mine[-1] = replace(mine[-1], superseded_at=m.date)
            mine.append(ask)
    asks.extend(mine)


def _promises_in(
    thread: Sequence[Message],
    signals: Mapping[str, Signals],
    who: Identity,
    tier_of: TierOf,
    promises: list[Promised],
) -> None:
    """The user's promises in one thread (oldest first), kept when a later message of
    the user's in the same thread went to that contact."""
    for m in thread:
        if not who.is_user(m.sender):
            continue
        s = signals.get(m.message_id)
        if s is None:
            continue
        dues = [c.due for c in s.commitments if c.due is not None]
        if not dues:
            continue
        others = who.others(m.to) or who.others(m.cc)
        if not others:
            continue
        contact = normalise(others[0].email)
        kept = next(
            (n.date for n in thread if n.date > m.date and _to_contact(n, contact, who)), None
        )
        promises.append(Promised(m, contact, tier_of(contact), min(dues), kept))


def _to_contact(m: Message, contact: str, who: Identity) -> bool:
    """The user's mail with `contact` (a normalised address) among its recipients."""
    return who.is_user(m.sender) and any(normalise(a.email) == contact for a in m.recipients)


def _keep_promises(promises: list[Promised], messages: Sequence[Message], who: Identity) -> None:
    """Fill in `kept_at` where the promise's thread did not keep it (`_promises_in` looked
    there first): the user's next message to the contact at all."""
    wanted = {p.contact for p in promises if p.kept_at is None}
    if not wanted:
        return
    sent: dict[str, list[datetime]] = {}
    for m in messages:
        if who.is_user(m.sender):
            for a in m.recipients:
                address = normalise(a.email)
                if address in wanted:
                    sent.setdefault(address, []).append(m.date)
    for dates in sent.values():
        dates.sort()
    for index, p in enumerate(promises):
        if p.kept_at is None:
            dates = sent.get(p.contact, [])
            at = bisect.bisect_right(dates, p.message.date)
            kept = dates[at] if at < len(dates) else None
            promises[index] = Promised(p.message, p.contact, p.tier, p.due, kept)


@dataclass(frozen=True, slots=True)
class Asks:
    """Everything asked and promised in the threads active since a day."""

    asks: tuple[Asked, ...]
    questions: tuple[Question, ...]
    promises: tuple[Promised, ...]

    def only(self, wanted: Callable[[Tier], bool]) -> Asks:
        """Those of the contacts whose tier is `wanted`."""
        return Asks(
            tuple(a for a in self.asks if wanted(a.tier)),
            tuple(q for q in self.questions if wanted(q.tier)),
            tuple(p for p in self.promises if wanted(p.tier)),
        )

    def made(self, since: datetime, until: datetime) -> Asks:
        """Those made in [since, until)."""
        return Asks(
            tuple(a for a in self.asks if since <= a.message.date < until),
            tuple(q for q in self.questions if since <= q.message.date < until),
            tuple(p for p in self.promises if since <= p.message.date < until),
        )

    def of_tier(self, name: str) -> Asks:
        return self.only(lambda t: t.name == name)

    def open_debts(self, now: datetime) -> list[Asked]:
        return [a for a in self.asks if a.open_at(now)]

    def debts(self, now: datetime, names: Names) -> tuple[Debt, ...]:
        """The replies the user owes at `now`, oldest first."""
        rows = (_aged(Debt, a, a.tier.reply_within, now, names) for a in self.open_debts(now))
        return tuple(sorted(rows, key=lambda d: d.asked_at))

    def waiting(self, now: datetime, names: Names) -> tuple[Waiting, ...]:
        """The user's questions nobody answered, oldest first."""
        return tuple(
            _aged(Waiting, q, q.tier.follow_up_after, now, names)
            for q in sorted(self.questions, key=lambda q: q.message.date)
            if q.answer_at is None
        )

    def kept(self, now: datetime, names: Names) -> tuple[Promise, ...]:
        """Every promise and how it stands at `now`, oldest first."""
        return tuple(
            Promise(
                p.contact,
                names(p.contact),
                p.tier.name,
                p.message.subject,
                p.message.date,
                p.due,
                p.kept_at,
                p.status(now),
            )
            for p in sorted(self.promises, key=lambda p: p.message.date)
        )


Row = TypeVar("Row", Debt, Waiting)


def _aged(
    row: type[Row], item: Asked | Question, window: timedelta, now: datetime, names: Names
) -> Row:
    """The row for an ask or question still open at `now`: overdue past `window`."""
    age = now - item.message.date
    return row(
        item.contact,
        names(item.contact),
        item.tier.name,
        item.message.subject,
        item.message.date,
        round(days(age), 2),
        age > window,
    )


def find(
    messages: Sequence[Message],
    since: datetime,
    signals: Mapping[str, Signals],
    who: Identity,
    skip: set[str],
    tier_of: TierOf,
    ledger: Mapping[str, LedgerEntry],
) -> Asks:
    """The asks, questions and promises in threads active since `since`."""
    # Only threads active in the period matter (asks, questions, promises made in it);
    # a reply still joins its thread when older messages are left out, because
    # threads are joined on the Message-IDs that References name.
    done = handled(ledger)
    asks: list[Asked] = []
    questions: list[Question] = []
    promises: list[Promised] = []
    for thread in threads.build([m for m in messages if m.date >= since]):
        _scan(thread.messages, signals, who, skip, tier_of, done, asks, questions)
        _promises_in(thread.messages, signals, who, tier_of, promises)
    _keep_promises(promises, messages, who)
    return Asks(tuple(asks), tuple(questions), tuple(promises))
