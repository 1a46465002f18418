"""The relationship report's figures, computed from plain data (no I/O).

`compute(inputs, now, period)` turns messages, their cached signals, meetings,
the suggestion ledger and its history into a `Report`: how fast the user
answers mail that asked something, what is still owed either way, whether
promises were kept, who is in touch and who has lapsed, and how nurture's own
nudges fared. Everything is per tier and overall, with a weekly trend.

Definitions (the README and schema.json repeat them for the reader):

- an *ask* is inbound mail addressed To the user, not automated or ignored by
  rule, whose signals hold at least one ask; its *reply* is the user's next
  message in the same thread. Reply times are measured over answered asks;
  the within-window share counts asks whose tier window has ended (or which
  were answered) — an ask still inside its window is not judged yet.
- a *reply debt* is an ask from the period with no reply (and no reply nudge
  the user marked done or dismissed).
- a *waiting question* is the user's own message that asks something and got
  no later message from anyone else in its thread.
- a *promise* is a commitment with a due date in the user's own mail. It is
  kept by the user's next message to that contact in the promise's thread
  (or, when that thread has none, the next message to that contact at all):
  on time when sent by the due date, late after it, missed when nothing came
  and the due date passed, open when nothing came yet and it is not due.
- keep in touch: a contact with mail both ways (or a meeting) is *tracked*
  when their cadence is known (a fixed rule, or learned from history when the
  rule says "learned"); *within* cadence, *due* up to twice the cadence, and
  *lapsed* beyond. A contact *went quiet* this period when their last touch
  falls in the period and they are now due or lapsed; a relationship is *new*
  when its first touch falls in the period.

Privacy: the report carries names, addresses, dates and subjects only. It
never reads `Ask.sentence`, `Commitment.sentence` or any message text.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from .. import threads as threading
from ..contacts import Identity, Interaction, learned_cadence, normalise, two_way
from ..detect import ASK_MIN, ignore_reason
from ..model import (
    UTC,
    Address,
    CalendarEvent,
    Kind,
    LedgerEntry,
    LedgerState,
    Message,
    NudgeKey,
    Signals,
)
from ..rules import ContactRule, Rulebook, Tier
from .records import (
    PRIVACY,
    Bin,
    Cause,
    ContactHealth,
    Debt,
    Figures,
    KeepInTouch,
    KindRecord,
    NudgeRecord,
    Promise,
    Report,
    Waiting,
    Week,
    format_hours,
    format_share,
)
from .source import Earlier

LAPSED_FACTOR = 2.0  # beyond this many cadences without contact, a contact has lapsed
HOUR = 3600.0
DAY = 86400.0
# Upper bounds (hours) of the reply-time histogram's bins; the last bin is open.
HISTOGRAM_BOUNDS: tuple[tuple[str, float], ...] = (
    ("< 1h", 1.0),
    ("1–4h", 4.0),
    ("4–8h", 8.0),
    ("8–24h", 24.0),
    ("1–2d", 48.0),
    ("2–3d", 72.0),
    ("3–7d", 168.0),
    ("> 7d", math.inf),
)
ACTIONS = ("placed", "updated", "snoozed", "dismissed", "done", "resolved")
NEVER = datetime.max.replace(tzinfo=UTC)
TICK = timedelta(microseconds=1)  # the smallest step between two datetimes

History = Sequence[tuple[datetime, str, str, str, str]]


@dataclass(frozen=True, slots=True)
class Inputs:
    """Everything the report reads, as plain data (state and config already loaded)."""

    messages: Sequence[Message]
    signals: Mapping[str, Signals]
    meetings: Sequence[CalendarEvent]
    ledger: Mapping[str, LedgerEntry]
    history: History
    rules: Rulebook
    identity: Identity
    earlier: Earlier = field(default_factory=Earlier)  # before the period, if messages start there


# ---- internal records ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Ask:
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
class _Question:
    message: Message
    contact: str
    tier: Tier
    answer_at: datetime | None


@dataclass(frozen=True, slots=True)
class _Promise:
    message: Message
    contact: str
    tier: Tier
    due: datetime
    kept_at: datetime | None

    def status(self, now: datetime) -> str:
        if self.kept_at is not None:
            return "on-time" if self.kept_at <= self.due else "late"
        return "missed" if self.due < now else "open"


@dataclass(frozen=True, slots=True)
class _Contact:
    address: str
    tier: Tier
    rule_cadence: timedelta | str
    learned: timedelta | None
    cadence: timedelta | None
    moments: tuple[datetime, ...]  # sorted

    def last_before(self, when: datetime) -> datetime | None:
        index = bisect.bisect_right(self.moments, when)
        return self.moments[index - 1] if index else None

    def status_at(self, when: datetime) -> str:
        last = self.last_before(when)
        if self.cadence is None or last is None:
            return "untracked"
        gap = when - last
        if gap <= self.cadence:
            return "within"
        return "due" if gap <= self.cadence * LAPSED_FACTOR else "lapsed"


# ---- helpers ---------------------------------------------------------------------


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile: the smallest value with `share` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return float(ordered[rank - 1])


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _signals(signals: Mapping[str, Signals], message: Message) -> Signals | None:
    return signals.get(message.message_id) or signals.get(message.id)


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / DAY


def _cadence_text(value: timedelta | str) -> str:
    if isinstance(value, timedelta):
        return f"{_days(value):g} days"
    return value


def weeks(since: datetime, now: datetime, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """Monday-to-Monday weeks in `zone` covering [since, now), clipped to it."""
    local = since.astimezone(zone)
    monday: date = local.date() - timedelta(days=local.weekday())
    spans = []
    start = since
    while start < now:
        monday += timedelta(days=7)
        end = min(datetime.combine(monday, datetime.min.time(), zone).astimezone(UTC), now)
        spans.append((start, end))
        start = end
    return spans


class _Names:
    """Display names seen in headers (latest non-empty wins), overridden by rule names."""

    def __init__(self, messages: Iterable[Message], earlier: Earlier, rules: Rulebook) -> None:
        self.rules = rules
        self.found: dict[str, str] = {}  # address → the name shown (asked many times)
        self.seen: dict[str, str] = dict(earlier.names)
        for m in messages:
            for a in (m.sender, *m.to, *m.cc):
                if a.name:
                    self.seen[_normalise(a.email)] = a.name

    def __call__(self, address: str) -> str:
        found = self.found.get(address)
        if found is None:
            _, rule = self.rules.match_contact(address)
            if rule is not None and rule.name:
                found = rule.name
            else:
                found = self.seen.get(_normalise(address), "")
            self.found[address] = found
        return found


# ---- the computation -------------------------------------------------------------


def compute(inputs: Inputs, now: datetime, period: timedelta, tier: str | None = None) -> Report:
    """The report for [now - period, now), optionally for one tier only."""
    since = now - period
    rules, identity = inputs.rules, _Who(inputs.identity)
    messages = [m for m in inputs.messages if m.date <= now]
    names = _Names(messages, inputs.earlier, rules)
    tier_of = _TierCache(rules)
    skip = _skipped(messages, inputs.signals, rules, identity)
    # Only threads active in the period matter (asks, questions, promises made in it);
    # a reply still joins its thread when older messages are left out, because
    # threads are joined on the Message-IDs that References name.
    conversations = threading.build([m for m in messages if m.date >= since])
    handled = _handled(inputs.ledger)

    asks: list[_Ask] = []
    questions: list[_Question] = []
    promises: list[_Promise] = []
    for thread in conversations:
        _scan(thread.messages, inputs.signals, identity, skip, tier_of, handled, asks, questions)
        _promises_in(thread.messages, inputs.signals, identity, tier_of, promises)
    _keep_promises(promises, messages, identity)

    def wanted(t: Tier) -> bool:
        return tier is None or t.name == tier

    asks = [a for a in asks if wanted(a.tier)]
    questions = [q for q in questions if wanted(q.tier)]
    promises = [p for p in promises if wanted(p.tier)]
    contacts = [
        c
        for c in _contacts(messages, inputs.earlier, inputs.meetings, identity, skip, tier_of, now)
        if wanted(c.tier)
    ]

    period_asks = [a for a in asks if since <= a.message.date < now]
    period_questions = [q for q in questions if since <= q.message.date < now]
    period_promises = [p for p in promises if since <= p.message.date < now]

    tiers_seen = [t for t in rules.tiers.values() if wanted(t)]
    figures = [
        _figures(
            t.name,
            t,
            [a for a in period_asks if a.tier.name == t.name],
            [q for q in period_questions if q.tier.name == t.name],
            [p for p in period_promises if p.tier.name == t.name],
            [c for c in contacts if c.tier.name == t.name],
            now,
        )
        for t in tiers_seen
    ]
    overall = _figures(
        tier or "all",
        rules.tiers.get(tier) if tier else None,
        period_asks,
        period_questions,
        period_promises,
        contacts,
        now,
    )
    debts_by_contact = Counter(a.contact for a in period_asks if a.open_at(now))
    keep = _keep_in_touch(contacts, since, now, names, debts_by_contact)
    nudges = _nudges(inputs.ledger, inputs.history, since, now, tier_of, wanted)
    spans = weeks(since, now, rules.work.zone)
    history = [h for h in inputs.history if wanted(tier_of(_normalise(h[3])))]
    trend_of = _Trend(period, asks, questions, promises, contacts, history, now)
    trend = tuple(trend_of.week(a, b) for a, b in spans)
    histogram = _histogram([h for a in period_asks if (h := a.reply_hours) is not None])
    debts = tuple(
        sorted(
            (
                Debt(
                    a.contact,
                    names(a.contact),
                    a.tier.name,
                    a.message.subject,
                    a.message.date,
                    round(_days(now - a.message.date), 2),
                    now - a.message.date > a.tier.reply_within,
                )
                for a in period_asks
                if a.open_at(now)
            ),
            key=lambda d: d.asked_at,
        )
    )
    waiting = tuple(
        Waiting(
            q.contact,
            names(q.contact),
            q.tier.name,
            q.message.subject,
            q.message.date,
            round(_days(now - q.message.date), 2),
            now - q.message.date > q.tier.follow_up_after,
        )
        for q in sorted(period_questions, key=lambda q: q.message.date)
        if q.answer_at is None
    )
    promise_rows = tuple(
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
        for p in sorted(period_promises, key=lambda p: p.message.date)
    )
    report = Report(
        generated_at=now,
        since=since,
        until=now,
        tier_filter=tier,
        privacy=PRIVACY,
        summary="",
        overall=overall,
        tiers=tuple(figures),
        reply_histogram=histogram,
        debts=debts,
        waiting=waiting,
        promises=promise_rows,
        keep_in_touch=keep,
        nudges=nudges,
        weeks=trend,
        messages=sum(1 for m in messages if m.date >= since),
        notes=_notes(messages, inputs.signals, skip, identity, since),
    )
    return _with_summary(report)


class _Who(Identity):
    """The user's identity with `is_user` memoised per address (called ~6× per message)."""

    def __init__(self, identity: Identity) -> None:
        super().__init__(identity.addresses, identity.names)
        object.__setattr__(self, "_known", {})

    def is_user(self, address: str | Address) -> bool:
        email = address.email if isinstance(address, Address) else address.lower()
        known: dict[str, bool] = self._known  # type: ignore[attr-defined]
        found = known.get(email)
        if found is None:
            found = known[email] = Identity.is_user(self, email)
        return found


_normalise = lru_cache(maxsize=None)(normalise)


def _notes(
    messages: Sequence[Message],
    signals: Mapping[str, Signals],
    skip: set[str],
    who: Identity,
    since: datetime,
) -> tuple[str, ...]:
    """Caveats the reader should know, such as mail the NLP has not read."""
    unread = sum(
        1
        for m in messages
        if m.date >= since
        and m.message_id not in skip
        and _signals(signals, m) is None
        and (who.is_user(m.sender) or any(who.is_user(a) for a in m.recipients))
    )
    if not unread:
        return ()
    return (
        f"{unread} of this period's messages to or from you have not been analysed, so "
        "what they ask or promise is not counted (`nurture report` without --no-analyse "
        "reads them first).",
    )


class _TierCache:
    """`Rulebook.match_contact` memoised per address (fnmatch is not free at 100k)."""

    def __init__(self, rules: Rulebook) -> None:
        self.rules = rules
        self.cache: dict[str, tuple[Tier, ContactRule | None]] = {}

    def match(self, address: str) -> tuple[Tier, ContactRule | None]:
        found = self.cache.get(address)
        if found is None:
            found = self.cache[address] = self.rules.match_contact(address)
        return found

    def __call__(self, address: str) -> Tier:
        return self.match(address)[0]

    def rule_cadence(self, address: str) -> timedelta | str:
        tier, rule = self.match(address)
        if rule is not None and rule.cadence is not None:
            return rule.cadence
        return tier.cadence


def _skipped(
    messages: Sequence[Message], signals: Mapping[str, Signals], rules: Rulebook, who: Identity
) -> set[str]:
    """Message-IDs that never count: automated mail, or mail the rules ignore (as detect says).

    A message with signals had its headers judged when it was analysed, so only
    the rules' ignores are checked again for it (cached per sender and subject).
    """
    skip = set()
    ignored: dict[tuple[str, str], bool] = {}
    for m in messages:
        if who.is_user(m.sender):
            continue
        s = _signals(signals, m)
        if s is None:
            if ignore_reason(m, None, rules):
                skip.add(m.message_id)
            continue
        if s.automated is not None and rules.ignore.automated:
            skip.add(m.message_id)
            continue
        key = (m.sender.email, m.subject if rules.ignore.subjects else "")
        verdict = ignored.get(key)
        if verdict is None:
            verdict = ignored[key] = bool(rules.ignored(m.sender, m.subject))
        if verdict:
            skip.add(m.message_id)
    return skip


def _handled(ledger: Mapping[str, LedgerEntry]) -> dict[str, datetime]:
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
    tier_of: _TierCache,
    handled: Mapping[str, datetime],
    asks: list[_Ask],
    questions: list[_Question],
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
    mine: list[_Ask] = []
    for i, m in enumerate(thread):
        if m.message_id in skip:
            continue
        s = _signals(signals, m)
        if s is None or not s.asks or s.ask_score < ASK_MIN:
            continue
        if outbound[i]:
            others = who.others(m.to)
            if not others or seen_waiting:
                continue
            contact = _normalise(others[0].email)
            answer = next_other[i]
            if answer is None:
                seen_waiting = True  # later questions in this thread wait on the same answer
            questions.append(_Question(m, contact, tier_of(contact), answer))
        elif any(who.is_user(a) for a in m.to) or (
            s.greets_user and any(who.is_user(a) for a in m.cc)
        ):
            contact = _normalise(m.sender.email)
            ask = _Ask(m, contact, tier_of(contact), next_user[i], handled.get(m.message_id))
            if mine and mine[-1].reply_at == ask.reply_at:
                mine[-1] = replace(mine[-1], superseded_at=m.date)
            mine.append(ask)
    asks.extend(mine)


def _promises_in(
    thread: Sequence[Message],
    signals: Mapping[str, Signals],
    who: Identity,
    tier_of: _TierCache,
    promises: list[_Promise],
) -> None:
    """The user's promises in one thread (oldest first), kept when a later message of
    the user's in the same thread went to that contact."""
    for m in thread:
        if not who.is_user(m.sender):
            continue
        s = _signals(signals, m)
        if s is None:
            continue
        dues = [c.due for c in s.commitments if c.due is not None]
        if not dues:
            continue
        others = who.others(m.to) or who.others(m.cc)
        if not others:
            continue
        contact = _normalise(others[0].email)
        kept = next(
            (n.date for n in thread if n.date > m.date and _to_contact(n, contact, who)), None
        )
        promises.append(_Promise(m, contact, tier_of(contact), min(dues), kept))


def _to_contact(m: Message, contact: str, who: Identity) -> bool:
    """The user's mail with `contact` (a normalised address) among its recipients."""
    return who.is_user(m.sender) and any(_normalise(a.email) == contact for a in m.recipients)


def _keep_promises(promises: list[_Promise], messages: Sequence[Message], who: Identity) -> None:
    """Fill in `kept_at` where the promise's thread did not keep it (`_promises_in` looked
    there first): the user's next message to the contact at all."""
    wanted = {p.contact for p in promises if p.kept_at is None}
    if not wanted:
        return
    sent: dict[str, list[datetime]] = {}
    for m in messages:
        if who.is_user(m.sender):
            for a in m.recipients:
                address = _normalise(a.email)
                if address in wanted:
                    sent.setdefault(address, []).append(m.date)
    for dates in sent.values():
        dates.sort()
    for index, p in enumerate(promises):
        if p.kept_at is None:
            dates = sent.get(p.contact, [])
            at = bisect.bisect_right(dates, p.message.date)
            kept = dates[at] if at < len(dates) else None
            promises[index] = _Promise(p.message, p.contact, p.tier, p.due, kept)


def touches(
    messages: Sequence[Message],
    meetings: Sequence[CalendarEvent],
    who: Identity,
    skip: set[str],
    now: datetime,
) -> dict[str, list[tuple[datetime, str]]]:
    """Per contact, every (when, "in" | "out" | "meeting") before `now`, oldest first.

    The same rules as `contacts.interactions` (a test holds them equal), with the
    address work cached: mail from the contact; the user's mail To them (not Cc);
    meetings with them; never skipped (automated or ignored) mail.
    """
    found: dict[str, list[tuple[datetime, str]]] = {}
    for m in messages:
        if m.message_id in skip or m.date > now:
            continue
        if who.is_user(m.sender):
            for a in m.to:
                if not who.is_user(a):
                    found.setdefault(_normalise(a.email), []).append((m.date, "out"))
        else:
            found.setdefault(_normalise(m.sender.email), []).append((m.date, "in"))
    for e in meetings:
        if e.end > now or e.cancelled:
            continue
        for a in e.attendees:
            if not who.is_user(a):
                found.setdefault(_normalise(a.email), []).append((e.start, "meeting"))
    for items in found.values():
        items.sort(key=itemgetter(0))  # stable: ties keep the order they came in
    return found


def _contacts(
    messages: Sequence[Message],
    earlier: Earlier,
    meetings: Sequence[CalendarEvent],
    who: Identity,
    skip: set[str],
    tier_of: _TierCache,
    now: datetime,
) -> list[_Contact]:
    """Every two-way contact with their touches (mail both ways and meetings), oldest first."""
    recent = touches(messages, meetings, who, skip, now)
    found = []
    for address in recent.keys() | earlier.touches.keys():
        before = earlier.touches.get(address)
        items = recent.get(address, [])
        kinds = {kind for _, kind in items}
        moments = tuple(at for at, _ in items)
        if before is not None:  # all of it before the period, so before `now`
            if moments and moments[-1] > now:
                items = [t for t in items if t[0] <= now]
                kinds = {kind for _, kind in items}
                moments = tuple(at for at, _ in items)
            kinds |= before.kinds
            if moments and moments[0] < before.moments[-1]:  # a meeting from before the period
                moments = tuple(sorted(before.moments + moments))
            else:
                moments = before.moments + moments
        if not moments or not two_way([Interaction(now, kind) for kind in kinds]):
            continue  # a broadcast, not a relationship (as contacts.two_way says)
        tier = tier_of(address)
        rule = tier_of.rule_cadence(address)
        learned = learned_cadence(moments)
        if isinstance(rule, timedelta):
            cadence: timedelta | None = rule
        elif rule == "learned":
            cadence = learned
        else:
            cadence = None
        found.append(_Contact(address, tier, rule, learned, cadence, moments))
    found.sort(key=lambda c: c.address)
    return found


def _figures(
    name: str,
    tier: Tier | None,
    asks: Sequence[_Ask],
    questions: Sequence[_Question],
    promises: Sequence[_Promise],
    contacts: Sequence[_Contact],
    now: datetime,
) -> Figures:
    hours = [h for a in asks if (h := a.reply_hours) is not None]
    judged = [a for a in asks if a.judged(now)]
    within = sum(1 for a in judged if a.within())
    debts = [a for a in asks if a.open_at(now)]
    statuses = Counter(p.status(now) for p in promises)
    states = Counter(c.status_at(now) for c in contacts)
    oldest = max((now - a.message.date for a in debts), default=None)
    return Figures(
        tier=name,
        reply_within_hours=tier.reply_within.total_seconds() / HOUR if tier else None,
        asked=len(asks),
        answered=len(hours),
        median_reply_hours=_round(median(hours)),
        p90_reply_hours=_round(percentile(hours, 0.9)),
        judged=len(judged),
        within_window=within,
        within_share=_round(_ratio(within, len(judged)), 4),
        open_debts=len(debts),
        oldest_debt_days=_round(_days(oldest)) if oldest is not None else None,
        questions_waiting=sum(1 for q in questions if q.answer_at is None),
        promises_on_time=statuses["on-time"],
        promises_late=statuses["late"],
        promises_missed=statuses["missed"],
        promises_open=statuses["open"],
        contacts_within=states["within"],
        contacts_due=states["due"],
        contacts_lapsed=states["lapsed"],
    )


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _keep_in_touch(
    contacts: Sequence[_Contact],
    since: datetime,
    now: datetime,
    names: _Names,
    debts: Mapping[str, int],
) -> KeepInTouch:
    rows = []
    for c in contacts:
        last = c.moments[-1]
        status = c.status_at(now)
        gap = now - last
        rows.append(
            ContactHealth(
                address=c.address,
                name=names(c.address),
                tier=c.tier.name,
                weight=c.tier.weight,
                rule_cadence=_cadence_text(c.rule_cadence),
                rule_cadence_days=_days(c.rule_cadence)
                if isinstance(c.rule_cadence, timedelta)
                else None,
                learned_cadence_days=_round(_days(c.learned)) if c.learned else None,
                cadence_days=_round(_days(c.cadence)) if c.cadence else None,
                first_touch=c.moments[0],
                last_touch=last,
                days_since=round(_days(gap), 2),
                staleness=round(gap / c.cadence, 2) if c.cadence else None,
                status=status,
                touches=len(c.moments),
                new=c.moments[0] >= since,
                gone_quiet=last >= since and status in ("due", "lapsed"),
                open_debts=debts.get(c.address, 0),
            )
        )
    rows.sort(key=lambda r: (-r.weight, -(r.staleness or 0.0), r.address))
    states = Counter(r.status for r in rows)
    return KeepInTouch(
        tracked=len(rows) - states["untracked"],
        within=states["within"],
        due=states["due"],
        lapsed=states["lapsed"],
        untracked=states["untracked"],
        gone_quiet=tuple(sorted(r.address for r in rows if r.gone_quiet)),
        new=tuple(sorted(r.address for r in rows if r.new)),
        contacts=tuple(rows),
    )


# Calendar events of nurture's that are not nudges: the weekly report event.
_NOT_NUDGES = frozenset({Kind.REPORT.value})


def _nudges(
    ledger: Mapping[str, LedgerEntry],
    history: History,
    since: datetime,
    now: datetime,
    tier_of: _TierCache,
    wanted: Any,
) -> NudgeRecord:
    rows = [
        (at, key, kind, action)
        for at, key, kind, contact, action in history
        if since <= at <= now and kind not in _NOT_NUDGES and wanted(tier_of(_normalise(contact)))
    ]
    counts: Counter[tuple[str, str]] = Counter((kind, action) for _, _, kind, action in rows)
    totals: Counter[str] = Counter(action for _, _, _, action in rows)
    placed_keys: dict[str, set[str]] = {}
    for _, key, kind, action in rows:
        if action == "placed":
            placed_keys.setdefault(kind, set()).add(key)
    dismissed_keys = {
        key for at, key, _, _, action in history if action == "dismissed" and since <= at <= now
    }
    dismissed_entries = [
        e
        for e in ledger.values()
        if e.state is LedgerState.DISMISSED
        and e.kind not in _NOT_NUDGES
        and since <= e.updated <= now
        and wanted(tier_of(_normalise(e.contact)))
    ]

    def top(entries: Iterable[LedgerEntry], field_name: str) -> Cause | None:
        counted = Counter(str(e.detail[field_name]) for e in entries if e.detail.get(field_name))
        if not counted:
            return None
        name, count = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        return Cause(name, count)

    kinds = sorted({kind for _, _, kind, _ in rows} | {e.kind for e in dismissed_entries})
    records = []
    for kind in kinds:
        placed = placed_keys.get(kind, set())
        of_kind = [e for e in dismissed_entries if e.kind == kind]
        rule, signal = top(of_kind, "rule"), top(of_kind, "signal")
        records.append(
            KindRecord(
                kind=kind,
                **{a: counts[(kind, a)] for a in ACTIONS},
                dismiss_rate=_round(_ratio(len(placed & dismissed_keys), len(placed)), 4),
                top_dismiss_rule=rule.name if rule else None,
                top_dismiss_signal=signal.name if signal else None,
            )
        )
    every_placed = set().union(*placed_keys.values()) if placed_keys else set()
    return NudgeRecord(
        **{a: totals[a] for a in ACTIONS},
        dismiss_rate=_round(_ratio(len(every_placed & dismissed_keys), len(every_placed)), 4),
        kinds=tuple(records),
        top_dismiss_rule=top(dismissed_entries, "rule"),
        top_dismiss_signal=top(dismissed_entries, "signal"),
    )


class _Trend:
    """The weekly trend's inputs, sorted once so that each week is a few bisections.

    Open items are counted at the week's end over a period-long window; asks,
    questions and promises are judged as of `now`.
    """

    def __init__(
        self,
        period: timedelta,
        asks: Sequence[_Ask],
        questions: Sequence[_Question],
        promises: Sequence[_Promise],
        contacts: Sequence[_Contact],
        history: History,
        now: datetime,
    ) -> None:
        """`history`: the nudge history of the contacts the report is about."""
        self.period, self.now, self.contacts = period, now, contacts
        self.asks = sorted(asks, key=lambda a: a.message.date)
        self.ask_dates = [a.message.date for a in self.asks]
        self.ask_open = [a.open_until for a in self.asks]
        ordered = sorted(questions, key=lambda q: q.message.date)
        self.question_dates = [q.message.date for q in ordered]
        self.question_open = [q.answer_at or NEVER for q in ordered]  # waiting while end <= this
        self.promises = sorted(promises, key=lambda p: p.due)
        self.dues = [p.due for p in self.promises]
        self.actions = sorted(
            ((at, action) for at, _, _, _, action in history), key=lambda item: item[0]
        )
        self.action_times = [at for at, _ in self.actions]

    def week(self, start: datetime, end: datetime) -> Week:
        now = self.now
        first = bisect.bisect_left(self.ask_dates, start)
        last = bisect.bisect_left(self.ask_dates, end)
        inside = self.asks[first:last]
        hours = [h for a in inside if (h := a.reply_hours) is not None]
        judged = [a for a in inside if a.judged(now)]
        within = sum(1 for a in judged if a.within())
        window = end - self.period
        opened = bisect.bisect_left(self.ask_dates, window)
        asked_from = bisect.bisect_left(self.question_dates, window)
        asked_to = bisect.bisect_left(self.question_dates, end)
        due = Counter(
            p.status(now)
            for p in self.promises[
                bisect.bisect_left(self.dues, start) : bisect.bisect_left(self.dues, end)
            ]
        )
        states = Counter(c.status_at(end) for c in self.contacts)
        times = self.action_times
        upto = bisect.bisect_right(times, end) if end == now else bisect.bisect_left(times, end)
        begin = bisect.bisect_left(times, start)
        actions = Counter(action for _, action in self.actions[begin:upto])
        return Week(
            start=start,
            end=end,
            asked=len(inside),
            answered=len(hours),
            median_reply_hours=_round(median(hours)),
            within_share=_round(_ratio(within, len(judged)), 4),
            open_debts=sum(1 for until in self.ask_open[opened:last] if end <= until),
            questions_waiting=sum(
                1 for until in self.question_open[asked_from:asked_to] if end <= until
            ),
            promises_on_time=due["on-time"],
            promises_late=due["late"],
            promises_missed=due["missed"],
            contacts_within=states["within"],
            contacts_due=states["due"],
            contacts_lapsed=states["lapsed"],
            nudges_placed=actions["placed"],
            nudges_done=actions["done"],
            nudges_dismissed=actions["dismissed"],
        )


def _histogram(hours: Sequence[float]) -> tuple[Bin, ...]:
    counts = [0] * len(HISTOGRAM_BOUNDS)
    uppers = [upper for _, upper in HISTOGRAM_BOUNDS]
    for h in hours:
        counts[bisect.bisect_left(uppers, h)] += 1
    return tuple(
        Bin(label, None if math.isinf(upper) else upper, n)
        for (label, upper), n in zip(HISTOGRAM_BOUNDS, counts, strict=True)
    )


def _with_summary(report: Report) -> Report:
    o, k, n = report.overall, report.keep_in_touch, report.nudges
    kept = o.promises_on_time + o.promises_late + o.promises_missed
    parts = [
        f"replies: median {format_hours(o.median_reply_hours)}, "
        f"{format_share(o.within_share)} within window",
        f"{o.open_debts} owed",
        f"{o.questions_waiting} waiting on others",
        f"promises {o.promises_on_time}/{kept} on time",
        f"in touch {k.within}, due {k.due}, lapsed {k.lapsed}",
        f"nudges {n.placed} placed, {n.dismissed} dismissed",
    ]
    return replace(report, summary=" · ".join(parts))
