"""Bad input: every problem gets a clear message, everything else is processed, the run goes on."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import icalendar
import pytest

from .conftest import NOW, USER, Setup
from .test_pipeline import sync


def test_corrupt_and_odd_messages_do_not_stop_the_sync(setup: Setup) -> None:
    (setup.maildir / "new" / "1.garbage.test").write_bytes(b"\x00\xff\xfe" * 200)
    (setup.maildir / "new" / "2.charset.test").write_bytes(
        b"From: =?x-unknown-charset?B?w7zDpA==?= <odd@client.example>\r\nTo: "
        + USER.encode()
        + b"\r\nSubject: =?koi8-zz?Q?bad?=\r\nDate: not a date\r\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\n\xe9\xe8 could you help?\r\n"
    )
    mid = setup.ask(days_ago=4)
    report = sync(setup)
    assert [p.suggestion.key for p in report.placements] == [f"reply:{mid}"]


def test_an_mbox_with_8bit_from_lines_is_read(tmp_path: Path) -> None:
    from nurture_local.mbox import split_mbox

    data = (
        b"From caf\xe9@example.org Mon Nov  2 09:30:00 2026\n"
        b"From: a@example.org\nSubject: one\nMessage-ID: <1@x>\n\nbody\n\n"
        b"From \xff\xfe@example.org Mon Nov  2 09:31:00 2026\n"
        b"From: b@example.org\nSubject: two\nMessage-ID: <2@x>\n\nFrom here on, text\n"
    )
    messages = split_mbox(data)
    assert len(messages) == 2
    assert b"From here on, text" in messages[1]


def test_a_broken_vevent_is_reported_and_the_rest_is_read(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    (setup.calendar / "broken.ics").write_text("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:garbage\n")
    setup.ask(days_ago=4)
    with caplog.at_level(logging.WARNING):
        report = sync(setup)
    assert report.created == 1
    assert any(
        "broken.ics" in r.getMessage() and "fix or remove" in r.getMessage() for r in caplog.records
    )


def test_a_rule_typo_is_named_and_the_last_good_rules_stay(setup: Setup) -> None:
    app = setup.app()
    try:
        good = app.rules
        (setup.root / "rules" / "tiers.toml").write_text("[tiers.key]\nwieght = 3\n")
        assert app.rules_changed()
        problems = app.reload_rules()
        assert problems and "tiers.toml:2" in str(problems[0]) and "wieght" in str(problems[0])
        assert app.rules is good
    finally:
        app.close()


def test_a_crafted_subject_cannot_break_the_calendar_file(setup: Setup) -> None:
    import base64

    evil = "Pricing\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:pwned " + "x" * 10_000
    encoded = base64.b64encode(evil.encode()).decode()
    (setup.maildir / "new" / "3.evil.test").write_bytes(
        f"From: Dana Lee <dana@client.example>\r\nTo: {USER}\r\n"
        f"Subject: =?utf-8?b?{encoded}?=\r\nMessage-ID: <evil@x>\r\n"
        f"Date: {(NOW - timedelta(days=4)).strftime('%a, %d %b %Y %H:%M:%S +0000')}\r\n\r\n"
        "Could you send me the pricing for next year?\r\n".encode()
    )
    report = sync(setup)
    assert report.created == 1
    (path,) = setup.calendar.glob("*.ics")
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    events = list(cal.walk("VEVENT"))
    assert len(events) == 1
    assert len(str(events[0]["summary"])) <= 200
    assert all(len(line) <= 75 for line in path.read_bytes().split(b"\r\n"))


@pytest.mark.skipif(
    shutil.which("khal") is None and not (Path(sys.executable).parent / "khal").exists(),
    reason="khal missing",
)
def test_khal_lists_the_tasks_nurture_wrote(setup: Setup, tmp_path: Path) -> None:
    setup.ask(days_ago=4, subject="Renewal pricing")
    report = sync(setup)
    (placement,) = report.placements
    conf = tmp_path / "khal.conf"
    conf.write_text(
        f"[calendars]\n[[nurture]]\npath = {setup.calendar}\n"
        "[locale]\ntimeformat = %H:%M\ndateformat = %Y-%m-%d\nlongdateformat = %Y-%m-%d\n"
        "datetimeformat = %Y-%m-%d %H:%M\nlongdatetimeformat = %Y-%m-%d %H:%M\n"
        "local_timezone = Europe/London\ndefault_timezone = Europe/London\n"
    )
    khal = Path(sys.executable).parent / "khal"
    day = placement.start.astimezone(setup.app().rules.work.zone).strftime("%Y-%m-%d")
    out = subprocess.run(
        [str(khal), "-c", str(conf), "list", "--format", "{start-time} {title}", day, "1d"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert "Reply to Dana Lee" in out.stdout
    assert placement.start.astimezone(setup.app().rules.work.zone).strftime("%H:%M") in out.stdout
