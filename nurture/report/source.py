"""Reading the report's inputs from state fast enough for a 100k-message history.

The period's mail is read in full (`State.messages(since)`), with the signals
of just those messages. Mail from before the period only tells keep-in-touch
who wrote to whom and when, so it is read as `Earlier` rows: no Message
objects, no signals, recipients parsed for the user's own mail only. Whether
such mail was machine-sent is judged once per sender (on their latest earlier
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

from ..contacts import Identity, normalise
from ..detect import ignore_reason
from ..model import UTC, Address, FolderRole, Message
from ..rules import Rulebook
from ..state import State


@dataclass(frozen=True, slots=True)
class Earlier:
    """Mail from before the period, reduced to what keep-in-touch needs.

    `touches`: contact address → [(when, "in" | "out")], oldest first — mail
    from the contact (unless machine-sent) and the user's mail To them.
    `names`: display names seen in those messages.
    """

    touches: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


def earlier(state: State, before: datetime, who: Identity, rules: Rulebook) -> Earlier:
    """Who wrote to whom, and when, in every message dated before `before`."""
    rows = state.touches_before(before)
    senders = {sender for _, sender, _, _ in rows}
    users = {sender for sender in senders if who.is_user(sender)}
    last = {sender: date for date, sender, _, _ in rows if sender not in users}
    machine = _machines(state, last, rules)
    plain = {sender: normalise(sender) for sender in senders}
    touches: dict[str, list[tuple[datetime, str]]] = {}
    names: dict[str, str] = {}
    stamp = datetime.fromtimestamp
    direct: dict[str, list[tuple[str, str]]] = {}  # recipients JSON → (address, name) To others
    for date, sender, name, recipients in rows:
        if sender in users:
            at = stamp(date, UTC)
            people = direct.get(recipients)
            if people is None:
                people = direct[recipients] = [
                    (normalise(email), person)
                    for email, person, role in json.loads(recipients)
                    if role == "to" and not who.is_user(email)
                ]
            for address, person in people:
                touches.setdefault(address, []).append((at, "out"))
                if person:
                    names[address] = person
        elif not machine[sender]:
            address = plain[sender]
            touches.setdefault(address, []).append((stamp(date, UTC), "in"))
            if name:
                names[address] = name
    return Earlier(touches, names)


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
