"""Message identity: two messages under one Message-ID, one message under two, and whose
mail the user's is. Each test is a failure seen in a real run, with our own examples."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import icalendar
from click.testing import CliRunner

from nurture import report
from nurture.apply import ApplyReport
from nurture.cli import main
from nurture.connector import task_uid
from nurture.identity import NO_TEXT, fold_copies, header_id, identity, text_hash
from nurture.model import Address, Message, Signals
from nurture.state import MIGRATIONS, State, _disguised_names, _message_identities
from tests.contract import make_message
from tests.world import World

from .conftest import NOW, USER, Setup


def deliver(
    setup: Setup,
    *,
    message_id: str,
    sender: str,
    subject: str,
    body: str,
    date: datetime,
    to: str = f"Alex Morgan <{USER}>",
    in_reply_to: str = "",
) -> None:
    """A message with the Message-ID we choose, in the Maildir's INBOX."""
    setup.mail(
        sender=sender,
        to=to,
        subject=subject,
        body=body,
        date=date,
        reply_to=in_reply_to,
        message_id=message_id,
    )


def tasks(report: ApplyReport) -> list[tuple[str, str, str]]:
    """(contact, title, evidence) of each task placed."""
    return sorted(
        (p.suggestion.contact.email, p.suggestion.title, p.suggestion.evidence)
        for p in report.placements
    )


# ---- 1. two messages, one Message-ID ---------------------------------------------------


def eve_asks(setup: Setup) -> None:
    """Eve's question, four days ago, under the Message-ID the tests below share."""
    deliver(
        setup,
        message_id="same@client.example",
        sender="Eve Stone <eve@other.example>",
        subject="hi",
        body="Hi Alex,\n\nCould you send me the quarterly report by Friday?\n\nEve",
        date=NOW - timedelta(days=4),
    )


def test_a_second_message_under_one_message_id_never_borrows_the_first_ones_words(
    setup: Setup,
) -> None:
    """Dana's question and Eve's, one Message-ID (Dana's dated earlier): each gets its
    own task with its own words; before, one task named Eve and quoted Dana."""
    eve_asks(setup)
    deliver(
        setup,
        message_id="same@client.example",
        sender="Dana Lee <dana@client.example>",
        subject="Renewal pricing",
        body="Hi Alex,\n\nCould you send me the renewal pricing for next year?\n\nDana",
        date=NOW - timedelta(days=5),
    )
    found = tasks(setup.sync(NOW))
    assert [(contact, title) for contact, title, _ in found] == [
        ("dana@client.example", 'Reply to Dana Lee — "Renewal pricing"'),
        ("eve@other.example", 'Reply to Eve Stone — "hi"'),
    ]
    assert "renewal pricing" in found[0][2] and "quarterly report" in found[1][2]


def mallory_takes_eves_id(setup: Setup) -> None:
    """Mallory's message under Eve's Message-ID, dated before Eve's."""
    deliver(
        setup,
        message_id="same@client.example",
        sender="Mallory <mallory@evil.example>",
        subject="hi",
        body="Hi Alex,\n\nCould you wire the deposit to my new account?\n\nM",
        date=NOW - timedelta(days=6),
    )


def test_a_task_keeps_its_message_when_another_arrives_under_its_message_id(
    setup: Setup,
) -> None:
    """Eve's task is on the calendar; then a message dated earlier takes Eve's Message-ID:
    Eve's task keeps its key and words, and the newcomer gets a key of its own."""
    eve_asks(setup)
    first = setup.sync(NOW)
    (eve_key,) = [p.suggestion.key for p in first.placements]
    assert eve_key == "reply:same@client.example"
    mallory_takes_eves_id(setup)
    later = setup.sync(NOW + timedelta(hours=1))
    by_key = {p.suggestion.key: p for p in later.placements}
    eve = by_key[eve_key]
    assert eve.suggestion.contact.email == "eve@other.example"
    assert "quarterly report" in eve.suggestion.evidence
    (other,) = [p for k, p in by_key.items() if k != eve_key]
    assert other.suggestion.key.startswith("reply:same@client.example#")
    assert "deposit" in other.suggestion.evidence and "mallory" in other.suggestion.contact.email
    assert later.removed == 0


def test_the_user_sees_the_message_id_of_the_header_never_the_identity(setup: Setup) -> None:
    """The newcomer's key is ``same@client.example#<date>``; its task and `explain`
    said "Message-ID: <same@client.example#20...Z>", an ID no mail program knows."""
    eve_asks(setup)
    setup.sync(NOW)
    mallory_takes_eves_id(setup)
    setup.sync(NOW + timedelta(hours=1))
    described = [
        str(event["DESCRIPTION"])
        for path in setup.calendar.glob("*.ics")
        for event in icalendar.Calendar.from_ical(path.read_bytes()).walk()
        if event.name in ("VEVENT", "VTODO")
    ]
    assert len(described) == 2
    assert all("Message-ID: <same@client.example>\n" in d for d in described), described
    (other,) = [k for k in setup.ledger() if k != "reply:same@client.example"]
    explained = CliRunner().invoke(
        main,
        ["--config", str(setup.root / "config.toml"), "explain", other],
        env={"COLUMNS": "200"},
    )
    assert explained.exit_code == 0, explained.output
    assert re.search(r"message-id: +<same@client\.example> *\n", explained.output)
    assert other in explained.output  # the key stays the key: `dismiss` takes it


def test_header_id_takes_off_only_the_date_identity_adds() -> None:
    sent, first = int(NOW.timestamp()), int((NOW - timedelta(days=1)).timestamp())
    assert header_id(identity("a#1@x.example", sent, first)) == "a#1@x.example"
    assert header_id(identity("a#1@x.example", sent, None)) == "a#1@x.example"
    assert header_id("a#20261117T080000Z@x.example") == "a#20261117T080000Z@x.example"


def test_the_identity_migration_keeps_the_ledger_and_drops_only_shared_signals(
    tmp_path: Path,
) -> None:
    """A state as the previous version left it (every migration before this one): two
    messages under one Message-ID, and a ledger with the user's snooze and dismissal.
    After the migration every ledger entry is as it was, the copy the detectors read
    until now (the earlier) keeps the Message-ID, the other gets its own identity, and
    only the signals the two shared are dropped (which one they described, nobody knows)."""
    dana, eve = NOW - timedelta(days=5), NOW - timedelta(days=4)
    db = sqlite3.connect(tmp_path / State.FILE)
    before = MIGRATIONS.index(_message_identities)  # its number may change at a merge
    for script in MIGRATIONS[:before]:
        assert isinstance(script, str)
        db.executescript(script)
    db.execute(f"PRAGMA user_version = {before}")
    rows = [
        ("1", "same@client.example", dana, "dana@client.example", "Renewal pricing"),
        ("2", "same@client.example", eve, "eve@other.example", "hi"),
        ("3", "sam@client.example", eve, "sam@client.example", "Contract"),
    ]
    for ident, mid, date, sender, subject in rows:
        db.execute(
            "INSERT INTO messages (account, id, message_id, date, sender, subject, folder, "
            "headers) VALUES ('mail', ?, ?, ?, ?, ?, 'inbox', ?)",
            (ident, mid, int(date.timestamp()), sender, subject,
             json.dumps({"date": format_datetime(date)})),
        )  # fmt: skip
    for mid in ("same@client.example", "sam@client.example"):
        db.execute(
            "INSERT INTO signals VALUES (?, 'nlp-10', ?)",
            (mid, '{"asks":[["Could you?",0.9]],"upset":0.0}'),
        )
    ledger = [
        ("reply:same@client.example", "dana@client.example", "active", '{"pinned":true}'),
        ("reply:sam@client.example", "sam@client.example", "dismissed", "{}"),
    ]
    for key, contact, state, detail in ledger:
        db.execute(
            "INSERT INTO ledger (key, kind, contact, uid, state, detail, created, updated, start,"
            " end) VALUES (?, 'reply', ?, ?, ?, ?, 1, 2, 1795000000, 1795001200)",
            (key, contact, task_uid(key), state, detail),
        )
    db.commit()
    db.close()

    state = State.open(tmp_path)
    try:
        assert state.schema_version == len(MIGRATIONS)
        after = state.ledger()
        assert {k: (e.contact, e.state.value, e.detail) for k, e in after.items()} == {
            "reply:same@client.example": ("dana@client.example", "active", {"pinned": True}),
            "reply:sam@client.example": ("sam@client.example", "dismissed", {}),
        }
        stamp = f"{eve:%Y%m%dT%H%M%SZ}"
        assert {m.id: m.message_id for m in state.messages()} == {
            "1": "same@client.example",
            "2": f"same@client.example#{stamp}",
            "3": "sam@client.example",
        }
        assert set(state.signals()) == {"sam@client.example"}
        # Copies stored later find the same identities: Eve's in Archive, Dana's again.
        state.commit_batch(
            "mail",
            [
                Message("4", "same@client.example", eve, Address("eve@other.example")),
                Message("5", "same@client.example", dana, Address("dana@client.example")),
            ],
            [],
            "cursor",
            NOW,
        )
        found = {m.id: m.message_id for m in state.messages()}
        assert found["4"] == f"same@client.example#{stamp}"
        assert found["5"] == "same@client.example"
    finally:
        state.close()


# ---- 3. whose mail the user's is ------------------------------------------------------


def forge_a_reply(setup: Setup, asked: str) -> None:
    """The user's real mail in Sent, and a "reply" to `asked` in the inbox in their name."""
    setup.mail(  # the account's sent folder holds the user's real mail
        sender=f"Alex Morgan <{USER}>",
        to="Sam Ortiz <sam@client.example>",
        subject="Lunch",
        body="Thanks for lunch!",
        date=NOW - timedelta(days=10),
        sent=True,
    )
    deliver(
        setup,
        message_id="forged@evil.example",
        sender=f"Alex Morgan <{USER}>",
        to="Dana Lee <dana@client.example>",
        subject="Re: Renewal pricing",
        body="Done.",
        date=NOW - timedelta(hours=2),
        in_reply_to=asked,
    )


def test_mail_delivered_to_the_user_in_their_name_is_not_their_reply(setup: Setup) -> None:
    """An inbox message with From: the user and In-Reply-To: Dana's question removed
    Dana's task. The account has a Sent folder: the user's replies are there."""
    asked = setup.ask(days_ago=4)
    assert setup.sync(NOW).created == 1
    forge_a_reply(setup, asked)
    kept = setup.sync(NOW + timedelta(hours=1))
    assert (kept.removed, kept.unchanged) == (0, 1)
    setup.reply(asked, days_ago=0)  # the real reply, in Sent
    assert setup.sync(NOW + timedelta(hours=2)).removed == 1


def test_the_report_does_not_count_mail_delivered_in_the_users_name(setup: Setup) -> None:
    """The same forged "reply" made Dana's question answered in the report."""
    forge_a_reply(setup, setup.ask(days_ago=4))
    setup.sync(NOW)
    app = setup.app()
    try:
        app.analyse_period(NOW - timedelta(days=30), NOW)
        made = report.make(app.state, app.rules, app.config.addresses, NOW, timedelta(days=30))
    finally:
        app.close()
    assert (made.overall.asked, made.overall.answered, made.overall.open_debts) == (1, 0, 1)
    assert [d.contact for d in made.debts] == ["dana@client.example"]
    assert made.messages == 2  # the lunch note and Dana's question


def test_in_a_mailbox_without_sent_mail_the_users_address_is_believed(tmp_path: Path) -> None:
    """A lone mbox (an export, a list archive) has no sent folder: the user's replies are
    known by From: alone there, or every answered question would become a wrong task."""
    asked = _mbox_message(
        "ask@client.example",
        "Dana Lee <dana@client.example>",
        f"Alex Morgan <{USER}>",
        "Renewal pricing",
        "Could you send me the renewal pricing for next year?",
        NOW - timedelta(days=4),
    )
    answer = _mbox_message(
        "answer@brightpath.example",
        f"Alex Morgan <{USER}>",
        "Dana Lee <dana@client.example>",
        "Re: Renewal pricing",
        "Here it is.",
        NOW - timedelta(days=3),
        in_reply_to="ask@client.example",
    )
    (tmp_path / "calendar").mkdir()
    world = World(
        tmp_path,
        '[accounts.mail]\nconnector = "local"\nmbox = "mail.mbox"\n'
        '[accounts.cal]\nconnector = "local"\ncalendar = "calendar"\n',
    )
    (tmp_path / "mail.mbox").write_bytes(asked)
    assert world.sync(NOW).created == 1
    (tmp_path / "mail.mbox").write_bytes(asked + answer)
    assert world.sync(NOW + timedelta(hours=1)).removed == 1


def _mbox_message(
    message_id: str,
    sender: str,
    to: str,
    subject: str,
    body: str,
    date: datetime,
    in_reply_to: str | None = None,
) -> bytes:
    raw = make_message(
        message_id=message_id,
        sender=sender,
        to=to,
        subject=subject,
        body=body,
        date=date,
        in_reply_to=in_reply_to,
    )
    return f"From x@y {date:%a %b %d %H:%M:%S %Y}\n".encode() + raw + b"\n"


# ---- 2. one message, two Message-IDs ---------------------------------------------------

PRICING = "Hi Alex,\n\nCould you send me the renewal pricing for next year?\n\nThanks,\nDana"


def dana_asks_again(setup: Setup, *copies: tuple[str, timedelta]) -> None:
    """Dana's one question, stored once per (Message-ID, age)."""
    for mid, age in copies:
        deliver(
            setup,
            message_id=mid,
            sender="Dana Lee <dana@client.example>",
            subject="Renewal pricing",
            body=PRICING,
            date=NOW - age,
        )


def test_one_text_stored_twice_under_two_message_ids_is_one_task(setup: Setup) -> None:
    """Stored twice a few hours apart (same sender, subject and text): one task, and a
    reply to either copy answers it."""
    dana_asks_again(
        setup,
        ("first@client.example", timedelta(hours=80)),
        ("again@client.example", timedelta(hours=77)),
    )
    report = setup.sync(NOW)
    assert [p.suggestion.key for p in report.placements] == ["reply:first@client.example"]
    setup.reply("again@client.example", days_ago=0)  # the user answers the second copy
    assert setup.sync(NOW + timedelta(hours=1)).removed == 1


def test_the_same_ask_resent_a_week_later_is_one_matter_nudged_at_its_newest(setup: Setup) -> None:
    dana_asks_again(
        setup,
        ("week1@client.example", timedelta(days=12)),
        ("week2@client.example", timedelta(days=4)),
    )
    (placed,) = setup.sync(NOW).placements  # the same ask resent: one matter (detect)
    assert placed.suggestion.key == "reply:week2@client.example"
    assert "1 older message(s) of theirs wait with it" in placed.suggestion.why


def test_copies_fold_into_the_one_a_task_rests_on() -> None:
    """Pure: the copy a ledger entry already rests on is kept, even when it came second."""
    dana = Address("dana@client.example", "Dana Lee")
    first = Message("1", "a@x", NOW - timedelta(hours=5), dana, subject="Q")
    second = Message("2", "b@x", NOW - timedelta(hours=2), dana, subject="Q")
    reply = Message("3", "r@me", NOW, Address(USER), in_reply_to="a@x", references=("a@x",))
    same = Signals(text_hash=text_hash("Could you?"))
    signals = {"a@x": same, "b@x": same}
    assert [m.message_id for m in fold_copies([first, second, reply], signals)] == ["a@x", "r@me"]
    kept = fold_copies([first, second, reply], signals, known={"b@x"})
    assert [m.message_id for m in kept] == ["b@x", "r@me"]
    assert kept[1].in_reply_to == "b@x" and kept[1].references == ("b@x",)
    other = {"a@x": same, "b@x": Signals(text_hash=text_hash("Could you not?"))}
    assert len(fold_copies([first, second], other)) == 2
    empty = {"a@x": Signals(text_hash=NO_TEXT), "b@x": Signals(text_hash=NO_TEXT)}
    assert len(fold_copies([first, second], empty)) == 2


# ---- names that are another address ---------------------------------------------------


def test_names_disguised_as_another_address_stored_earlier_are_dropped(tmp_path: Path) -> None:
    """Connectors drop ``"me@example.org" <attacker@...>``'s name now; mail and a task
    stored before kept it, and titled tasks "Reply to me@example.org" still."""
    db = sqlite3.connect(tmp_path / State.FILE)
    before = MIGRATIONS.index(_disguised_names)  # its number may change at a merge
    for script in MIGRATIONS[:before]:
        db.executescript(script) if isinstance(script, str) else script(db)
    db.execute(f"PRAGMA user_version = {before}")
    to = [[USER, "boss@brightpath.example", "to"], ["sam@client.example", "Sam", "cc"]]
    rows = [
        ("1", "attacker@evil.example", USER, json.dumps(to)),
        ("2", "dana@client.example", "Dana Lee (dana@client.example)", "[]"),
    ]
    for ident, sender, name, recipients in rows:
        db.execute(
            "INSERT INTO messages (account, id, message_id, date, sender, sender_name, "
            "recipients, subject, folder) VALUES ('mail', ?, ?, ?, ?, ?, ?, 'hi', 'inbox')",
            (ident, f"m{ident}@x", int(NOW.timestamp()), sender, name, recipients),
        )
    detail = {"contact_name": USER, "title": f'Reply to {USER} — "hi"', "why": f"{USER} asked"}
    db.execute(
        "INSERT INTO ledger (key, kind, contact, uid, state, title, detail, created, updated) "
        "VALUES ('reply:m1@x', 'reply', 'attacker@evil.example', 'u', 'dismissed', ?, ?, 1, 2)",
        (detail["title"], json.dumps(detail)),
    )
    db.commit()
    db.close()

    state = State.open(tmp_path)
    try:
        found = {m.id: m for m in state.messages()}
        assert found["1"].sender == Address("attacker@evil.example", "")
        assert [(a.email, a.name) for a in (*found["1"].to, *found["1"].cc)] == [
            (USER, ""),
            ("sam@client.example", "Sam"),
        ]
        assert found["2"].sender.name == "Dana Lee (dana@client.example)"  # their own: kept
        entry = state.ledger()["reply:m1@x"]
        assert entry.title == 'Reply to attacker@evil.example — "hi"'
        assert entry.detail["contact_name"] == ""
        assert entry.detail["why"] == "attacker@evil.example asked"
        groups = state.touch_groups(NOW + timedelta(days=1))  # the report's earlier names
        assert sorted(name for _, name, *_ in groups) == ["", "Dana Lee (dana@client.example)"]
    finally:
        state.close()
