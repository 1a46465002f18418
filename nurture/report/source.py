"""Reading the report's inputs from state fast enough for a 100k-message history.

The period's mail is read in full (`State.messages(since)`), with the signals
of just those messages. Mail from before the period only tells keep-in-touch
who wrote to whom and when, so it is read as `Earlier` touches: no Message
objects, no signals, grouped by sender and recipients inside SQLite (one row
per group, its dates joined), recipients parsed for the user's own mail only.
Whether such mail was machine-sent is judged once per sender (on their latest earlier
message) instead of per message — the detectors' own rules, applied at the
grain that keeps the report under two seconds.

The queries themselves live in `nurture.state`, the only module that touches
the database.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat

from ..contacts import Identity, normalise
from ..detect import ignore_reason
from ..model import UTC, Address, FolderRole, Message
from ..rules import Rulebook
from ..state import State


@dataclass(frozen=True, slots=True)
class Touched:
    """One contact's touches before the period: when (oldest first), and of which kinds
    ("in": mail from the contact, unless machine-sent; "out": the user's mail To them)."""

    moments: tuple[datetime, ...]
    kinds: frozenset[str]


@dataclass(frozen=True, slots=True)
class Earlier:
    """Mail from before the period, reduced to what keep-in-touch needs.

    `touches`: contact address → their `Touched`, every moment before the period.
    `names`: display names seen in those messages.
    """

    touches: dict[str, Touched] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


def earlier(state: State, before: datetime, who: Identity, rules: Rulebook) -> Earlier:
    """Who wrote to whom, and when, in every message dated before `before`.

    SQLite hands over the history grouped by sender, name and recipients (see
    `State.touch_groups`), so the work here is per group, not per message.
    """
    groups = state.touch_groups(before)
    users = {sender for sender, *_ in groups if who.is_user(sender)}
    last: dict[str, int] = {}  # sender → their latest date (not the user's)
    for sender, _, _, latest, _ in groups:
        if sender not in users:
            last[sender] = max(latest, last.get(sender, latest))
    machine = _machines(state, last, rules)
    dates: dict[str, list[tuple[list[int], str]]] = {}  # address → [(unix dates, kind)]
    named: dict[str, tuple[int, int, str]] = {}  # address → (latest date, order, name)
    for order, (sender, name, recipients, latest, joined) in enumerate(groups):
        if sender in users:
            people = [
                (normalise(email), person)
                for email, person, role in json.loads(recipients)
                if role == "to" and not who.is_user(email)
            ]
            if not people:
                continue
            when = [int(d) for d in joined.split(",")]
            for address, person in people:
                dates.setdefault(address, []).append((when, "out"))
                if person:
                    _name(named, address, (latest, order, person))
        elif not machine[sender]:
            address = normalise(sender)
            dates.setdefault(address, []).append(([int(d) for d in joined.split(",")], "in"))
            if name:
                _name(named, address, (latest, order, name))
    touches = {}
    for address, parts in dates.items():
        seconds: list[int] = []
        for when, _ in parts:
            seconds += when
        seconds.sort()
        moments = tuple(map(datetime.fromtimestamp, seconds, repeat(UTC)))  # faster than tz=
        touches[address] = Touched(moments, frozenset(kind for _, kind in parts))
    return Earlier(touches, {address: name for address, (_, _, name) in named.items()})


def _name(named: dict[str, tuple[int, int, str]], address: str, seen: tuple[int, int, str]) -> None:
    """Keep the display name of the latest message (the last one seen wins a tie)."""
    kept = named.get(address)
    if kept is None or seen[:2] > kept[:2]:
        named[address] = seen


def _machines(state: State, last: dict[str, int], rules: Rulebook) -> dict[str, bool]:
    """Sender → machine-sent, judged on each sender's latest message (`last`: its date)."""
    found: dict[str, bool] = {}
    for row in state.header_rows(sorted(set(last.values()))):
        sender = row[1]
        if last.get(sender) == row[0] and sender not in found:
            found[sender] = _machine(row, rules)
    return found


def _machine(row: Sequence[object], rules: Rulebook) -> bool:
    date, sender, name, subject, folder, headers = row
    message = Message(
        id="earlier",
        message_id="earlier",
        date=datetime.fromtimestamp(int(str(date)), UTC),
        sender=Address(str(sender), str(name)),
        subject=str(subject),
        folder=FolderRole(str(folder)),
        headers=json.loads(str(headers)),
    )
    return bool(ignore_reason(message, None, rules))
