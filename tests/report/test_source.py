"""Reading the report's inputs: the SQL shortcuts agree with reading every message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from nurture.contacts import Identity, normalise
from nurture.detect import ignore_reason
from nurture.model import Address, FolderRole, Message, Signals
from nurture.report.source import earlier
from nurture.rules import Rulebook, Tier
from nurture.state import State

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=30)
ME = Address("me@home.example", "Me")
D = timedelta(days=1)
RULES = Rulebook(tiers={"default": Tier("default")})


def _mail(n: int, sender: Address, to: tuple[Address, ...], at: datetime, **kw: object) -> Message:
    return Message(
        id=str(n),
        message_id=f"m{n}@x",
        date=at,
        sender=sender,
        to=to,
        **kw,  # type: ignore[arg-type]
    )


def _history() -> list[Message]:
    kim, bob, news = (
        Address("Kim@Client.example", "Kim"),
        Address("bob+work@other.example", ""),
        Address("news@list.example", "News"),
    )
    cc = (Address("cc@other.example", "Cc"),)
    return [
        _mail(1, kim, (ME,), NOW - 90 * D),
        _mail(2, ME, (kim, bob), NOW - 80 * D, cc=cc),
        _mail(3, bob, (ME,), NOW - 70 * D),
        _mail(4, Address("kim@client.example", "Kim K."), (ME,), NOW - 60 * D),
        _mail(5, ME, (Address("bob+work@other.example", "Bob"),), NOW - 50 * D),
        _mail(6, news, (ME,), NOW - 45 * D, headers={"list-id": "<news.list.example>"}),
        _mail(7, ME, (Address("kim@client.example"),), NOW - 40 * D, folder=FolderRole.SENT),
        _mail(8, kim, (ME,), NOW - 2 * D),  # in the period: not "earlier"
        _mail(9, ME, (ME,), NOW - 35 * D),  # to oneself: nobody touched
    ]


def _by_hand(messages: list[Message], who: Identity) -> tuple[dict, dict]:
    """What keep-in-touch needs from before `SINCE`, read message by message, oldest first."""
    before = sorted((m for m in messages if m.date < SINCE), key=lambda m: m.date)
    latest = {m.sender.email: m for m in before if not who.is_user(m.sender)}
    touches: dict[str, list[tuple[datetime, str]]] = {}
    names: dict[str, str] = {}
    for m in before:
        if who.is_user(m.sender):
            for a in m.to:
                if not who.is_user(a):
                    touches.setdefault(normalise(a.email), []).append((m.date, "out"))
                    if a.name:
                        names[normalise(a.email)] = a.name
        elif not ignore_reason(latest[m.sender.email], None, RULES):
            touches.setdefault(normalise(m.sender.email), []).append((m.date, "in"))
            if m.sender.name:
                names[normalise(m.sender.email)] = m.sender.name
    return touches, names


def test_earlier_agrees_with_reading_every_message(tmp_path: Path) -> None:
    messages = _history()
    state = State.open(tmp_path / "s")
    try:
        state.commit_batch("mail", messages, [], "c", NOW)
        who = Identity((ME.email,))
        found = earlier(state, SINCE, who, RULES)
    finally:
        state.close()
    touches, names = _by_hand(messages, who)
    assert set(found.touches) == set(touches)
    for address, items in touches.items():
        assert found.touches[address].moments == tuple(t for t, _ in items)
        assert found.touches[address].kinds == {k for _, k in items}
    assert found.names == names
    assert set(found.touches) == {"kim@client.example", "bob@other.example"}
    assert found.names["kim@client.example"] == "Kim K."  # the latest name wins


def test_only_messages_lacking_current_signals_are_read_again(tmp_path: Path) -> None:
    messages = [_mail(n, ME, (Address("a@b.example"),), NOW - n * D) for n in range(1, 9)]
    versions = {1: "app-3", 2: "nlp-2+report", 3: "nlp-1+report", 4: "", 5: "x+REPORT"}
    state = State.open(tmp_path / "s")
    try:
        state.commit_batch("mail", messages, [], "c", NOW)
        state.store_signals(
            (f"m{n}@x", Signals(version=version)) for n, version in versions.items()
        )
        found = state.messages_needing_signals(NOW - 7 * D, NOW, "nlp-2+report", "+report")
    finally:
        state.close()
    # The rule the report kept before, by hand: a message is done when its signals were
    # made under this version, or not by the report at all; 8 is before the period.
    done = {n for n, v in versions.items() if v == "nlp-2+report" or not v.endswith("+report")}
    expected = [f"m{n}@x" for n in range(7, 0, -1) if n not in done]
    assert [m.message_id for m in found] == expected == ["m7@x", "m6@x", "m3@x"]
