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
from collections.abc import Mapping, Sequence
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


def period_messages(state: State, since: datetime, signals: Mapping[str, Signals]) -> list[Message]:
    """The messages dated `since` or later, oldest first, as `State.messages(since)` gives
    them — except that header fields are kept only for messages without signals (the
    only ones whose headers the report still judges) and provider links are left out.
    Identical recipient lists (most of them) are parsed once and shared."""
    rows = state.db.execute(
        "SELECT account, id, message_id, date, sender, sender_name, recipients, subject, "
        "in_reply_to, refs, folder, headers FROM messages WHERE date >= ? ORDER BY date",
        (int(since.timestamp()),),
    )
    people: dict[str, tuple[tuple[Address, ...], tuple[Address, ...]]] = {}
    senders: dict[tuple[str, str], Address] = {}
    roles = {role.value: role for role in FolderRole}
    found = []
    stamp = datetime.fromtimestamp
    for row in rows:
        account, id_, mid, date, sender, name, recipients, subject, irt, refs, folder, headers = row
        to_cc = people.get(recipients)
        if to_cc is None:
            parsed = json.loads(recipients)
            to_cc = people[recipients] = (
                tuple(Address(e, n) for e, n, r in parsed if r == "to"),
                tuple(Address(e, n) for e, n, r in parsed if r == "cc"),
            )
        who = senders.get((sender, name))
        if who is None:
            who = senders[(sender, name)] = Address(sender, name)
        found.append(
            Message(
                id=f"{account}\x1f{id_}",
                message_id=mid,
                date=stamp(date, UTC),
                sender=who,
                to=to_cc[0],
                cc=to_cc[1],
                subject=subject,
                in_reply_to=irt,
                references=tuple(json.loads(refs)) if refs != "[]" else (),
                folder=roles[folder],
                headers={} if mid in signals else json.loads(headers),
            )
        )
    return found


def signals_since(state: State, since: datetime) -> dict[str, Signals]:
    """The signals of messages dated `since` or later."""
    rows = state.db.execute(
        "SELECT s.message_id, s.version, s.data FROM signals s WHERE s.message_id IN "
        "(SELECT message_id FROM messages WHERE date >= ?)",
        (int(since.timestamp()),),
    )
    parsed: dict[tuple[str, str], Signals] = {}  # many messages share the same signals
    found = {}
    for mid, version, data in rows:
        key = (data, version)
        signals = parsed.get(key)
        if signals is None:
            signals = parsed[key] = signals_from_json(data, version)
        found[mid] = signals
    return found


def earlier(state: State, before: datetime, who: Identity, rules: Rulebook) -> Earlier:
    """Who wrote to whom, and when, in every message dated before `before`."""
    limit = int(before.timestamp())
    rows = state.db.execute(
        "SELECT date, sender, sender_name, recipients FROM messages WHERE date < ? ORDER BY date",
        (limit,),
    ).fetchall()
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
    dates = sorted(set(last.values()))
    for start in range(0, len(dates), 500):  # the date index finds them; IN keeps it one query
        chunk = dates[start : start + 500]
        rows = state.db.execute(
            "SELECT date, sender, sender_name, subject, folder, headers FROM messages "
            f"WHERE date IN ({','.join('?' * len(chunk))})",
            chunk,
        )
        for row in rows:
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
