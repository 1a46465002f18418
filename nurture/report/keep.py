"""Keep in touch: who the user is in touch with, by their cadence, and who has lapsed.

A contact with mail both ways (or a meeting) is *tracked* when their cadence is
known (a fixed rule, or learned from history when the rule says "learned");
*within* cadence, *due* up to `LAPSED_AFTER` cadences, and *lapsed* beyond. A
contact *went quiet* this period when their last touch falls in the period and
they are now due or lapsed; a relationship is *new* when its first touch falls
in the period. Touches are `contacts.interactions`, the detectors' own.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..contacts import Identity, Interaction, interactions, learned_cadence, two_way
from ..model import CalendarEvent, Message
from ..rules import Tier
from .people import Names, TierOf
from .records import ContactHealth, KeepInTouch
from .source import Earlier
from .stats import days, rounded

# Beyond this many cadences without contact, a contact has lapsed. (The detectors
# nudge sooner, at `detect.RECONNECT_AFTER` cadences: a nudge should come while
# the contact is still only due.)
LAPSED_AFTER = 2.0


@dataclass(frozen=True, slots=True)
class Contact:
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
        return "due" if gap <= self.cadence * LAPSED_AFTER else "lapsed"


def _cadence_text(value: timedelta | str) -> str:
    if isinstance(value, timedelta):
        return f"{days(value):g} days"
    return value


def contacts(
    messages: Sequence[Message],
    earlier: Earlier,
    meetings: Sequence[CalendarEvent],
    who: Identity,
    skip: set[str],
    tier_of: TierOf,
    now: datetime,
) -> list[Contact]:
    """Every two-way contact with their touches (mail both ways and meetings), oldest first."""
    recent = interactions(messages, meetings, who, skip, now)
    found = []
    for address in recent.keys() | earlier.touches.keys():
        before = earlier.touches.get(address)
        items = recent.get(address, [])
        kinds = {i.kind for i in items}
        moments = tuple(i.at for i in items)
        if before is not None:  # all of it before the period, so before `now`
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
        found.append(Contact(address, tier, rule, learned, cadence, moments))
    found.sort(key=lambda c: c.address)
    return found


def of_tier(contacts: Sequence[Contact], name: str) -> list[Contact]:
    return [c for c in contacts if c.tier.name == name]


def keep_in_touch(
    contacts: Sequence[Contact],
    since: datetime,
    now: datetime,
    names: Names,
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
                rule_cadence_days=days(c.rule_cadence)
                if isinstance(c.rule_cadence, timedelta)
                else None,
                learned_cadence_days=rounded(days(c.learned)) if c.learned else None,
                cadence_days=rounded(days(c.cadence)) if c.cadence else None,
                first_touch=c.moments[0],
                last_touch=last,
                days_since=round(days(gap), 2),
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
