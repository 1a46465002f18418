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
from dataclasses import dataclass
from datetime import datetime

from ..contacts import Identity
from ..detect import ignore_reason
from ..model import UTC, Address, FolderRole, Message, Signals
from ..rules import Rulebook
from ..state import State, signals_from_json


@dataclass(frozen=True, slots=True)
class Earlier:
    """One message from before the period, reduced to what keep-in-touch needs."""

    at: datetime
    sender: str
    sender_name: str
    to: tuple[Address, ...]  # direct recipients, for the user's own mail only
    automated: bool


def signals_since(state: State, since: datetime) -> dict[str, Signals]:
    """The signals of messages dated `since` or later."""
    rows = state.db.execute(
        "SELECT s.message_id, s.version, s.data FROM signals s WHERE s.message_id IN "
        "(SELECT message_id FROM messages WHERE date >= ?)",
        (int(since.timestamp()),),
    )
    return {mid: signals_from_json(data, version) for mid, version, data in rows}


def earlier(state: State, before: datetime, who: Identity, rules: Rulebook) -> list[Earlier]:
    """Every message dated before `before`, oldest first, as `Earlier` rows."""
    rows = state.db.execute(
        "SELECT date, sender, sender_name, recipients, subject, folder, headers "
        "FROM messages WHERE date < ? ORDER BY date",
        (int(before.timestamp()),),
    ).fetchall()
    mine: dict[str, bool] = {}
    latest: dict[str, Sequence[object]] = {}
    for row in rows:
        sender = str(row[1])
        user = mine.get(sender)
        if user is None:
            user = mine[sender] = who.is_user(sender)
        if not user:
            latest[sender] = row
    machine = {sender: _machine(row, rules) for sender, row in latest.items()}
    found = []
    for date, sender, name, recipients, _, _, _ in rows:
        at = datetime.fromtimestamp(date, UTC)
        if mine[sender]:
            to = tuple(Address(e, n) for e, n, role in json.loads(recipients) if role == "to")
            found.append(Earlier(at, sender, name, to, False))
        else:
            found.append(Earlier(at, sender, name, (), machine[sender]))
    return found


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
