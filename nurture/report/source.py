"""Reading the report's inputs from state fast enough for a 100k-message history.

The period's mail is read in full (`State.messages(since)`), with the signals
of just those messages. Mail from before the period only tells keep-in-touch
who wrote to whom and when, so it is read as `Earlier` rows: no Message
objects, no signals, recipients parsed for the user's own mail only. Whether
such mail was machine-sent is judged once per sender (on their latest earlier
message) instead of per message — the detectors' own rules, applied at the
grain that keeps the report under two seconds.

These are read-only queries on the state connection. They belong in
`nurture.state` (as ``State.signals_since`` and ``State.earlier``); they live
here until the state module offers them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..contacts import Identity, normalise
from ..detect import ignore_reason
from ..model import UTC, Address, FolderRole, Message, Signals
from ..rules import Rulebook
from ..state import State, signals_from_json


@dataclass(frozen=True, slots=True)
class Earlier:
    """Mail from before the period, reduced to what keep-in-touch needs.

    `touches`: contact address → [(when, "in" | "out")], oldest first — mail
    from the contact (unless machine-sent) and the user's mail To them.
    `names`: display names seen in those messages.
    """

    touches: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


def signals_since(state: State, since: datetime) -> dict[str, Signals]:
    """The signals of messages dated `since` or later."""
    rows = state.db.execute(
        "SELECT s.message_id, s.version, s.data FROM signals s WHERE s.message_id IN "
        "(SELECT message_id FROM messages WHERE date >= ?)",
        (int(since.timestamp()),),
    )
    return {mid: signals_from_json(data, version) for mid, version, data in rows}


def earlier(state: State, before: datetime, who: Identity, rules: Rulebook) -> Earlier:
    """Who wrote to whom, and when, in every message dated before `before`."""
    rows = state.db.execute(
        "SELECT date, sender, sender_name, recipients, subject, folder, headers "
        "FROM messages WHERE date < ? ORDER BY date",
        (int(before.timestamp()),),
    ).fetchall()
    mine: dict[str, bool] = {}
    latest: dict[str, Sequence[object]] = {}
    for row in rows:
        sender = row[1]
        user = mine.get(sender)
        if user is None:
            user = mine[sender] = who.is_user(sender)
        if not user:
            latest[sender] = row
    machine = {sender: _machine(row, rules) for sender, row in latest.items()}
    touches: dict[str, list[tuple[datetime, str]]] = {}
    names: dict[str, str] = {}
    stamp = datetime.fromtimestamp
    for date, sender, name, recipients, _, _, _ in rows:
        if mine[sender]:
            at = stamp(date, UTC)
            for email, person, role in json.loads(recipients):
                if role == "to" and not who.is_user(email):
                    address = normalise(email)
                    touches.setdefault(address, []).append((at, "out"))
                    if person:
                        names[address] = person
        elif not machine[sender]:
            address = normalise(sender)
            touches.setdefault(address, []).append((stamp(date, UTC), "in"))
            if name:
                names[address] = name
    return Earlier(touches, names)


def _machine(row: Sequence[object], rules: Rulebook) -> bool:
    date, sender, name, _, subject, folder, headers = row
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
