"""The whole pipeline on a local Maildir and vdir: nudges appear, resolve, and respect edits."""

from __future__ import annotations

from datetime import datetime, timedelta

from nurture.apply import ApplyReport
from nurture.model import Kind

from .conftest import NOW, USER, Setup


def keys(setup: Setup) -> dict[str, str]:
    return setup.ledger()


def sync(setup: Setup, now: datetime = NOW) -> ApplyReport:
    return setup.sync(now)


def test_an_unanswered_question_becomes_a_reply_task_and_goes_when_answered(setup: Setup) -> None:
    mid = setup.ask(days_ago=4)
    report = sync(setup)
    assert report.created == 1
    (placement,) = report.placements
    assert placement.suggestion.kind is Kind.REPLY
    assert placement.suggestion.key == f"reply:{mid}"
    assert "renewal pricing" in placement.suggestion.evidence.lower()
    start = placement.start.astimezone(setup.app().rules.work.zone)
    assert start.weekday() < 5 and 9 <= start.hour < 17
    files = list(setup.calendar.glob("*.ics"))
    assert len(files) == 1 and b"X-NURTURE-KEY:reply:" in files[0].read_bytes()

    again = sync(setup)
    assert (again.created, again.updated, again.removed, again.unchanged) == (0, 0, 0, 1)

    setup.reply(mid, days_ago=0.01)
    after = sync(setup)
    assert after.removed == 1
    assert list(setup.calendar.glob("*.ics")) == []
    assert keys(setup)[f"reply:{mid}"] == "resolved"


def test_no_task_before_the_reply_window_ends(setup: Setup) -> None:
    setup.ask(days_ago=0.5)
    assert sync(setup).created == 0


def test_a_deleted_task_is_dismissed_for_good(setup: Setup) -> None:
    mid = setup.ask(days_ago=4)
    sync(setup)
    (path,) = setup.calendar.glob("*.ics")
    path.unlink()
    report = sync(setup)
    assert report.created == 0 and report.dismissed == 1
    assert keys(setup)[f"reply:{mid}"] == "dismissed"
    assert sync(setup, NOW + timedelta(days=1)).created == 0
    assert list(setup.calendar.glob("*.ics")) == []


def test_a_deleted_task_is_not_shown_again_and_frees_its_slot(setup: Setup) -> None:
    first = setup.ask(days_ago=5, subject="Renewal pricing")
    report = sync(setup)
    (placed,) = report.placements
    slot = (placed.start, placed.end)
    (path,) = setup.calendar.glob("*.ics")
    path.unlink()  # the user deletes it in the calendar
    second = setup.ask("Sam Ortiz <sam@client.example>", days_ago=4, subject="Contract draft")
    report = sync(setup)
    assert [p.suggestion.key for p in report.placements] == [f"reply:{second}"]
    assert (report.placements[0].start, report.placements[0].end) == slot
    assert keys(setup)[f"reply:{first}"] == "dismissed"


def test_a_moved_task_keeps_the_users_time(setup: Setup) -> None:
    setup.ask(days_ago=4)
    sync(setup)
    (path,) = setup.calendar.glob("*.ics")
    text = path.read_text()
    import re

    old = re.search(r"DTSTART:(\S+)", text).group(1)  # type: ignore[union-attr]
    text = text.replace(f"DTSTART:{old}", "DTSTART:20261127T150000Z").replace(
        re.search(r"DTEND:\S+", text).group(0),
        "DTEND:20261127T152000Z",  # type: ignore[union-attr]
    )
    path.write_text(text)
    report = sync(setup)
    assert report.created == 0 and report.removed == 0
    assert "DTSTART:20261127T150000Z" in path.read_text()
    assert sync(setup, NOW + timedelta(days=1)).created == 0
    assert "DTSTART:20261127T150000Z" in path.read_text()


def test_newsletters_bounces_and_cc_only_mail_make_no_task(setup: Setup) -> None:
    setup.mail(
        sender="Growth Weekly <news@growth.example>",
        to=USER,
        subject="Ready to level up?",
        body="Are you ready to grow? Click here!",
        date=NOW - timedelta(days=5),
        headers={
            "List-Id": "<weekly.growth.example>",
            "List-Unsubscribe": "<mailto:u@g>",
            "Precedence": "bulk",
        },
    )
    setup.mail(
        sender="Mail Delivery System <MAILER-DAEMON@mx.example>",
        to=USER,
        subject="Undelivered Mail Returned to Sender",
        body="Could not deliver your message. Can you check the address?",
        date=NOW - timedelta(days=5),
    )
    setup.mail(
        sender="Sam Ortiz <sam@client.example>",
        to="Priya <priya@client.example>",
        cc=USER,
        subject="Budget",
        body="Priya, could you send me the budget today?",
        date=NOW - timedelta(days=5),
    )
    setup.mail(
        sender="Jo Park <jo@client.example>",
        to=USER,
        subject="Automatic reply: hi",
        body="I am out of the office. Can I help? Back Monday.",
        date=NOW - timedelta(days=5),
        headers={"Auto-Submitted": "auto-replied"},
    )
    report = sync(setup)
    assert report.placements == []


def test_the_users_unanswered_question_becomes_a_follow_up(setup: Setup) -> None:
    mid = setup.mail(
        sender=f"Alex Morgan <{USER}>",
        to="Sam Ortiz <sam@client.example>",
        subject="Launch date",
        body="Hi Sam,\n\nWhen do you plan to launch the app?",
        date=NOW - timedelta(days=9),
        sent=True,
    )
    report = sync(setup)
    assert [p.suggestion.key for p in report.placements] == [f"follow-up:{mid}"]
    assert report.placements[0].suggestion.contact.email == "sam@client.example"


def test_a_promise_is_nudged_before_its_date_and_not_once_kept(setup: Setup) -> None:
    # Friday 20 Nov: "by Tuesday" resolves to Tue 24 Nov; the nudge lands on Monday 23.
    mid = setup.mail(
        sender=f"Alex Morgan <{USER}>",
        to="Gareth Owen <gareth@fernhill.example>",
        subject="Re: Revised quote",
        body="Hi Gareth,\n\nI'll send the revised quote by Tuesday.\n\nAlex",
        date=NOW - timedelta(days=3),
        sent=True,
    )
    report = sync(setup)
    assert [p.suggestion.key for p in report.placements] == [f"promise:{mid}"]
    setup.mail(
        sender=f"Alex Morgan <{USER}>",
        to="gareth@fernhill.example",
        subject="Revised quote",
        body="Attached.",
        date=NOW - timedelta(hours=1),
        sent=True,
    )
    assert sync(setup).removed == 1
