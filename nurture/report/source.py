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
    limit = int(before.timestamp())
    rows = state.db.execute(
        "SELECT date, sender, sender_name, recipients FROM messages WHERE date < ? ORDER BY date",
        (limit,),
    ).fetchall()
    user: dict[str, bool] = {}

    def is_user(address: str) -> bool:
        found = user.get(address)
        if found is None:
            found = user[address] = who.is_user(address)
        return found

    last = {sender: date for date, sender, _, _ in rows if not is_user(sender)}
    machine = {}
    for sender, date in last.items():  # one indexed lookup per sender
        row = state.db.execute(
            "SELECT date, sender, sender_name, subject, folder, headers FROM messages "
            "WHERE date = ? AND sender = ?",
            (date, sender),
        ).fetchone()
        machine[sender] = _machine(row, rules)
    plain: dict[str, str] = {}
    touches: dict[str, list[tuple[datetime, str]]] = {}
    names: dict[str, str] = {}
    stamp = datetime.fromtimestamp
    for date, sender, name, recipients in rows:
        if is_user(sender):
            at = stamp(date, UTC)
            for email, person, role in json.loads(recipients):
                if role != "to" or is_user(email):
                    continue
                address = plain.get(email) or plain.setdefault(email, normalise(email))
                touches.setdefault(address, []).append((at, "out"))
                if person:
                    names[address] = person
        elif not machine[sender]:
            address = plain.get(sender) or plain.setdefault(sender, normalise(sender))
            touches.setdefault(address, []).append((stamp(date, UTC), "in"))
            if name:
                names[address] = name
    return Earlier(touches, names)


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
