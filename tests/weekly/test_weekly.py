"""The weekly report event on a local Maildir and vdir: one event, idempotent, the user wins.

NOW is Monday 23 November 2026, 08:00 in London (GMT), so "fri 16:00" is
Friday 27 November 16:00Z, ISO week 48.
"""

from __future__ import annotations

import json
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from nurture.plan import Op
from tests.core.conftest import Setup
from tests.world import NOW

FRIDAY = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
ASK_TEXT = "Could you send me the renewal pricing"


def weekly(setup: Setup, value: str) -> None:
    """Set `[report] weekly` in the user's own rule file."""
    (setup.root / "rules" / "report.toml").write_text(f'[report]\nweekly = "{value}"\n')


@pytest.fixture
def on(tmp_path: Path) -> Setup:
    setup = Setup(tmp_path)
    weekly(setup, "fri 16:00")
    return setup


def ours(setup: Setup) -> dict[str, tuple[Path, dict[str, str]]]:
    """Every event carrying nurture's marker: key → (file, its properties as text)."""
    found = {}
    for path in sorted(setup.calendar.glob("*.ics")):
        for event in Calendar.from_ical(path.read_bytes()).walk("VEVENT"):
            key = event.get("X-NURTURE-KEY")
            if key is None:
                continue
            props = {
                "summary": str(event.get("SUMMARY")),
                "description": str(event.get("DESCRIPTION")),
                "url": str(event.get("URL", "")),
                "start": event.decoded("DTSTART").astimezone(UTC).isoformat(),
                "end": event.decoded("DTEND").astimezone(UTC).isoformat(),
            }
            found[str(key)] = (path, props)
    return found


def reports(setup: Setup) -> dict[str, tuple[Path, dict[str, str]]]:
    return {k: v for k, v in ours(setup).items() if k.startswith("report:")}


def folder(setup: Setup) -> Path:
    return setup.root / "state" / "reports"


def summary_on_disk(setup: Setup) -> str:
    return str(json.loads((folder(setup) / "latest.json").read_text())["summary"])


def move(path: Path, start: str, end: str) -> None:
    """Act as the user dragging the event to another time (UTC stamps)."""
    text = path.read_text()
    text = re.sub(r"DTSTART:\S+", f"DTSTART:{start}", text)
    text = re.sub(r"DTEND:\S+", f"DTEND:{end}", text)
    path.write_text(text)


def test_off_by_default_no_event_and_no_report_file(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    setup.ask(days_ago=4)
    report = setup.sync()
    assert report.created == 1
    assert reports(setup) == {}
    assert not folder(setup).exists()
    assert not any(k.startswith("report:") for k in setup.ledger())


def test_on_one_event_at_the_chosen_time_with_the_summary_and_a_link(on: Setup) -> None:
    on.ask(days_ago=4)
    report = on.sync()
    assert report.created == 2  # the reply nudge and the week's report

    (key,) = reports(on)
    path, event = reports(on)[key]
    assert key == "report:2026-W48"
    assert (event["start"], event["end"]) == (
        FRIDAY.isoformat(),
        (FRIDAY + timedelta(minutes=30)).isoformat(),
    )
    latest = folder(on).resolve() / "latest.html"
    assert event["url"] == latest.as_uri()
    summary = summary_on_disk(on)
    assert "1 owed" in summary
    assert event["description"].splitlines()[0] == summary
    assert f"Open: {latest.as_uri()}" in event["description"]
    assert "X-NURTURE-KEY:report:2026-W48" in path.read_text()

    html = latest.read_text()
    assert "<svg" in html and "Dana Lee" in html
    copy = folder(on) / "2026-11-27.html"
    assert copy.read_text() == html
    for written in (latest, copy, folder(on) / "latest.json"):
        assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder(on).stat().st_mode) == 0o700
    # names, addresses and subjects only: never the text of a message
    assert ASK_TEXT not in html and ASK_TEXT not in event["description"]

    assert on.ledger()[key] == "active"
    app = on.app()
    try:
        assert app.state.ledger()[key].kind == "report"
        assert not any(k.startswith("report:") for _, k, *_ in app.state.history())
    finally:
        app.close()


def test_a_rerun_changes_nothing_on_the_calendar_or_on_disk(on: Setup) -> None:
    on.ask(days_ago=4)
    on.sync()
    files = {p: p.read_bytes() for p in on.calendar.glob("*.ics")}
    written = {p: p.stat().st_mtime_ns for p in folder(on).iterdir()}
    for later in (NOW, NOW + timedelta(hours=3)):
        again = on.sync(later)
        assert (again.created, again.updated, again.removed, again.dismissed) == (0, 0, 0, 0)
        assert again.unchanged == 2
    assert {p: p.read_bytes() for p in on.calendar.glob("*.ics")} == files
    assert {p: p.stat().st_mtime_ns for p in folder(on).iterdir()} == written


def test_a_changed_summary_updates_the_same_event(on: Setup) -> None:
    on.sync()
    ((path, before),) = reports(on).values()
    assert "0 owed" in before["description"]
    on.ask(days_ago=3)
    report = on.sync(NOW + timedelta(days=1))  # a new day: the report is made again
    assert report.updated == 1 and report.created == 1  # our event updated; a reply nudge
    ((same_path, after),) = reports(on).values()
    assert same_path == path
    assert after["description"].splitlines()[0] == summary_on_disk(on)
    assert "1 owed" in after["description"]
    assert (after["start"], after["url"]) == (before["start"], before["url"])


def test_deleting_it_skips_that_week_only(on: Setup) -> None:
    on.sync()
    ((path, _),) = reports(on).values()
    path.unlink()
    report = on.sync()
    assert (report.created, report.dismissed) == (0, 1)
    assert on.ledger()["report:2026-W48"] == "dismissed"
    assert on.sync(NOW + timedelta(days=2)).created == 0
    assert on.sync(FRIDAY + timedelta(minutes=5)).created == 0
    assert reports(on) == {}

    next_week = on.sync(SATURDAY)
    assert next_week.created == 1
    assert list(reports(on)) == ["report:2026-W49"]
    assert on.ledger()["report:2026-W48"] == "dismissed"
    assert (folder(on) / "2026-12-04.html").is_file()


def test_a_past_weeks_event_stays_as_a_record_and_next_weeks_comes(on: Setup) -> None:
    on.sync()
    ((path, _),) = reports(on).values()
    kept = path.read_bytes()
    report = on.sync(SATURDAY)
    assert (report.created, report.removed, report.dismissed) == (1, 0, 0)
    assert sorted(reports(on)) == ["report:2026-W48", "report:2026-W49"]
    assert path.read_bytes() == kept
    ledger = on.ledger()
    assert (ledger["report:2026-W48"], ledger["report:2026-W49"]) == ("done", "active")
    again = on.sync(SATURDAY + timedelta(hours=1))
    assert (again.created, again.updated, again.removed) == (0, 0, 0)


def test_a_moved_event_keeps_the_users_time_past_the_chosen_slot(on: Setup) -> None:
    on.sync()
    ((path, _),) = reports(on).values()
    move(path, "20261128T100000Z", "20261128T103000Z")  # to Saturday morning
    friday_evening = FRIDAY + timedelta(hours=1)
    report = on.sync(friday_evening)
    assert report.removed == 0 and report.created == 1  # next week's; this week's stays
    found = reports(on)
    assert found["report:2026-W48"][1]["start"] == "2026-11-28T10:00:00+00:00"
    assert "report:2026-W49" in found
    on.sync(datetime(2026, 11, 28, 11, 0, tzinfo=UTC))  # after the moved review
    assert on.ledger()["report:2026-W48"] == "done"
    assert reports(on)["report:2026-W48"][1]["start"] == "2026-11-28T10:00:00+00:00"


USERS_OWN = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//someone else//EN
BEGIN:VEVENT
UID:weekly-review@user.example
SUMMARY:My own weekly review
DTSTART:20261204T160000Z
DTEND:20261204T163000Z
DTSTAMP:20261101T000000Z
END:VEVENT
END:VCALENDAR
"""


def test_turning_it_off_removes_only_the_upcoming_event(on: Setup) -> None:
    on.sync()
    on.sync(SATURDAY)  # week 48's is now a past record; week 49's is upcoming
    users = on.calendar / "users-own.ics"
    users.write_text(USERS_OWN)
    past = reports(on)["report:2026-W48"][0].read_bytes()

    weekly(on, "off")
    report = on.sync(SATURDAY + timedelta(hours=1))
    assert (report.removed, report.created, report.updated) == (1, 0, 0)
    assert list(reports(on)) == ["report:2026-W48"]
    assert reports(on)["report:2026-W48"][0].read_bytes() == past
    assert users.read_text() == USERS_OWN
    assert (folder(on) / "latest.html").is_file()  # the files are the user's to delete
    assert on.ledger()["report:2026-W49"] == "resolved"

    weekly(on, "fri 16:00")
    back = on.sync(SATURDAY + timedelta(hours=2))
    assert back.created == 1 and sorted(reports(on)) == ["report:2026-W48", "report:2026-W49"]
    assert users.read_text() == USERS_OWN


def test_a_fixed_time_outside_the_budget_that_nudges_go_around(tmp_path: Path) -> None:
    setup = Setup(tmp_path, '[tasks]\ndaily_budget = 1\n[report]\nweekly = "mon 09:00"\n')
    setup.ask(days_ago=4)
    report = setup.sync()
    assert report.created == 2
    (placement,) = report.placements
    # the reply nudge still lands on Monday (the budget of 1 is not used up), after the review
    assert placement.start == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert reports(setup)["report:2026-W48"][1]["start"] == "2026-11-23T09:00:00+00:00"


def test_the_chosen_time_holds_outside_working_hours(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    weekly(setup, "sunday 19:15")
    setup.sync()
    ((_, event),) = reports(setup).values()
    assert event["start"] == "2026-11-29T19:15:00+00:00"


def test_a_dry_run_shows_the_event_and_writes_nothing(on: Setup) -> None:
    app = on.app()
    try:
        report = app.reconcile(NOW, dry_run=True)
    finally:
        app.close()
    creates = [a for a in report.actions if a.op is Op.CREATE]
    assert [a.key for a in creates] == ["report:2026-W48"]
    assert creates[0].task is not None and creates[0].task.url.endswith("latest.html")
    assert not folder(on).exists()
    assert list(on.calendar.glob("*.ics")) == []
    assert on.ledger() == {}


def test_a_report_that_cannot_be_written_holds_the_event_not_the_nudges(on: Setup) -> None:
    on.ask(days_ago=4)
    (on.root / "state").mkdir(exist_ok=True)
    folder(on).write_text("not a folder")  # the report cannot be written here
    report = on.sync()
    assert report.created == 1 and report.placements  # the reply nudge goes on regardless
    assert reports(on) == {}
    folder(on).unlink()
    later = on.sync(NOW + timedelta(minutes=15))
    assert later.created == 1 and list(reports(on)) == ["report:2026-W48"]


def test_nurture_sync_once_says_where_the_report_is(on: Setup) -> None:
    from click.testing import CliRunner

    from nurture.cli import main

    args = ["--config", str(on.root / "config.toml"), "sync", "--once", "--now", NOW.isoformat()]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    latest = (folder(on).resolve() / "latest.html").as_uri()
    assert f"weekly report: {latest}" in result.output.replace("\n", "")
    assert "created 1" in result.output
    assert list(reports(on)) == ["report:2026-W48"]
