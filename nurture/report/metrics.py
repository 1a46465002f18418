"""The relationship report's figures, computed from plain data (no I/O).

`compute(inputs, now, period)` turns messages, their cached signals, meetings,
the suggestion ledger and its history into a `Report`. Each question has its
own module: what was asked and promised (`asks`), who the user keeps in touch
with (`keep`), how nurture's nudges fared (`nudges`) and the weekly trend
(`trend`); this one puts their answers together, per tier and overall. The
definitions are in those modules' docstrings (and, for the reader, in the
README and schema.json). Reply times are measured over answered asks; the
within-window share counts asks whose tier window has ended (or which were
answered): an ask still inside its window is not judged yet.

Privacy: the report carries names, addresses, dates and subjects only. It
never reads `Ask.sentence`, `Commitment.sentence` or any message text.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from ..contacts import Identity, normalise
from ..detect import ignore_reason
from ..model import CalendarEvent, LedgerEntry, Message, Signals
from ..rules import Rulebook, Tier
from . import asks, keep, nudges
from .asks import Asked, Asks
from .keep import Contact
from .nudges import History
from .people import Names, TierOf
from .records import PRIVACY, Bin, Figures, Report, format_hours, format_share
from .source import Earlier
from .stats import HOUR, days, median, percentile, ratio, rounded
from .trend import Trend

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


def compute(inputs: Inputs, now: datetime, period: timedelta, tier: str | None = None) -> Report:
    """The report for [now - period, now), optionally for one tier only."""
    since = now - period
    rules, who = inputs.rules, inputs.identity
    messages = [m for m in inputs.messages if m.date <= now]
    tier_of, names = TierOf(rules), Names(messages, inputs.earlier, rules)

    def wanted(t: Tier) -> bool:
        return tier is None or t.name == tier

    skip = skipped(messages, inputs.signals, rules, who)
    found = asks.find(messages, since, inputs.signals, who, skip, tier_of, inputs.ledger)
    found = found.only(wanted)
    made = found.made(since, now)
    people = keep.contacts(messages, inputs.earlier, inputs.meetings, who, skip, tier_of, now)
    people = [c for c in people if wanted(c.tier)]
    history = [h for h in inputs.history if wanted(tier_of(normalise(h[3])))]
    owed = Counter(a.contact for a in made.open_debts(now))
    report = Report(
        generated_at=now,
        since=since,
        until=now,
        tier_filter=tier,
        privacy=PRIVACY,
        summary="",
        overall=figures(tier or "all", rules.tiers.get(tier) if tier else None, made, people, now),
        tiers=tuple(
            figures(
                t.name, t, made.of_tier(t.name), [c for c in people if c.tier.name == t.name], now
            )
            for t in rules.tiers.values()
            if wanted(t)
        ),
        reply_histogram=histogram(made.asks),
        debts=made.debts(now, names),
        waiting=made.waiting(now, names),
        promises=made.kept(now, names),
        keep_in_touch=keep.keep_in_touch(people, since, now, names, owed),
        nudges=nudges.record(inputs.ledger, inputs.history, since, now, tier_of, wanted),
        weeks=Trend(period, found, people, history, now).weeks(since, rules.work.zone),
        messages=sum(1 for m in messages if m.date >= since),
        notes=notes(messages, inputs.signals, skip, who, since),
    )
    return replace(report, summary=summary(report))


def figures(
    name: str, tier: Tier | None, made: Asks, contacts: Sequence[Contact], now: datetime
) -> Figures:
    """The headline figures over what was asked and promised, and these contacts."""
    hours = [h for a in made.asks if (h := a.reply_hours) is not None]
    judged = [a for a in made.asks if a.judged(now)]
    within = sum(1 for a in judged if a.within())
    debts = made.open_debts(now)
    statuses = Counter(p.status(now) for p in made.promises)
    states = Counter(c.status_at(now) for c in contacts)
    oldest = max((now - a.message.date for a in debts), default=None)
    return Figures(
        tier=name,
        reply_within_hours=tier.reply_within.total_seconds() / HOUR if tier else None,
        asked=len(made.asks),
        answered=len(hours),
        median_reply_hours=rounded(median(hours)),
        p90_reply_hours=rounded(percentile(hours, 0.9)),
        judged=len(judged),
        within_window=within,
        within_share=rounded(ratio(within, len(judged)), 4),
        open_debts=len(debts),
        oldest_debt_days=rounded(days(oldest)) if oldest is not None else None,
        questions_waiting=sum(1 for q in made.questions if q.answer_at is None),
        promises_on_time=statuses["on-time"],
        promises_late=statuses["late"],
        promises_missed=statuses["missed"],
        promises_open=statuses["open"],
        contacts_within=states["within"],
        contacts_due=states["due"],
        contacts_lapsed=states["lapsed"],
    )


def skipped(
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
        s = signals.get(m.message_id)
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


def notes(
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
        and signals.get(m.message_id) is None
        and (who.is_user(m.sender) or any(who.is_user(a) for a in m.recipients))
    )
    if not unread:
        return ()
    return (
        f"{unread} of this period's messages to or from you have not been analysed, so "
        "what they ask or promise is not counted (`nurture report` without --no-analyse "
        "reads them first).",
    )


def histogram(asks: Sequence[Asked]) -> tuple[Bin, ...]:
    """How long the answered asks waited for their reply, in `HISTOGRAM_BOUNDS` bins."""
    hours = [h for a in asks if (h := a.reply_hours) is not None]
    counts = [0] * len(HISTOGRAM_BOUNDS)
    uppers = [upper for _, upper in HISTOGRAM_BOUNDS]
    for h in hours:
        counts[bisect.bisect_left(uppers, h)] += 1
    return tuple(
        Bin(label, None if math.isinf(upper) else upper, n)
        for (label, upper), n in zip(HISTOGRAM_BOUNDS, counts, strict=True)
    )


def summary(report: Report) -> str:
    """The report's one line: figures only, never a name or a subject."""
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
    return " · ".join(parts)
