"""End to end on real servers: the demo mailbox in Dovecot, nurture's tasks on Radicale.

The demo (six months of Alex Morgan's mail and calendar) is appended into a
throwaway Dovecot and its calendar put on a throwaway Radicale; nurture syncs
through the IMAP and CalDAV connectors and places tasks. Then the outside
world acts: a reply lands in Sent (its task goes), the user deletes a task
with a plain CalDAV client (it is not recreated), the user moves one (it keeps
its new time). The same demo through the local connector must place the same
nudges: the connectors add nothing and lose nothing.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import icalendar
import pytest

from nurture.app import App
from nurture.apply import ApplyReport
from nurture.connector import task_uid
from nurture.demo import generate
from nurture.model import Kind
from tests.servers.dovecot import DovecotServer
from tests.servers.radicale import RadicaleHarness, RadicaleServer

pytestmark = pytest.mark.server

ANCHOR = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
USER_LINE = "Alex Morgan <alex@brightpath.example>"


def _secret_command(root: Path, name: str, value: str) -> str:
    path = root / name
    path.write_text(f"#!/bin/sh\nprintf '%s' '{value}'\n")
    path.chmod(stat.S_IRWXU)
    return str(path)


def _append_maildir(server: DovecotServer, maildir: Path) -> int:
    client = server.client()
    count = 0
    try:
        for folder, path in (("INBOX", maildir), ("Sent", maildir / ".Sent")):
            for sub in ("cur", "new"):
                for file in sorted((path / sub).iterdir()):
                    when = datetime.fromtimestamp(file.stat().st_mtime, UTC)
                    flags = (b"\\Seen",) if sub == "cur" else ()
                    client.append(folder, file.read_bytes(), flags=flags, msg_time=when)
                    count += 1
    finally:
        client.logout()
    return count


class World:
    """The demo on real servers, and nurture configured to read and write them."""

    def __init__(self, root: Path, dovecot: DovecotServer, radicale: RadicaleServer) -> None:
        self.paths = generate(root / "demo", ANCHOR)
        self.dovecot = dovecot
        self.appended = _append_maildir(dovecot, self.paths.maildir)
        self.calendar = RadicaleHarness(radicale, root, calendar="work")
        for ics in sorted(self.paths.calendar.glob("*.ics")):
            radicale.put(f"{self.calendar.calendar_url}{ics.name}", ics.read_bytes())
        self.config = root / "servers.toml"
        imap_pw = _secret_command(root, "imap-password", dovecot.password)
        dav_pw = _secret_command(root, "dav-password", radicale.password)
        self.config.write_text(
            "[user]\n"
            'name = "Alex Morgan"\n'
            'addresses = ["alex@brightpath.example", "alex.morgan@mail.example"]\n'
            "[paths]\n"
            f'rules = "{self.paths.rules}"\n'
            'state = "state-servers"\n'
            "[accounts.mail]\n"
            'connector = "imap"\n'
            f'host = "{dovecot.host}"\nport = {dovecot.port}\nuser = "{dovecot.user}"\n'
            f'password_command = "{imap_pw}"\n'
            "[accounts.calendar]\n"
            'connector = "caldav"\n'
            f'url = "{radicale.url}"\nuser = "{radicale.user}"\ncalendar = "work"\n'
            f'password_command = "{dav_pw}"\n'
        )

    def sync(self, now: datetime = ANCHOR, config: Path | None = None) -> ApplyReport:
        app = App.load(config or self.config)
        try:
            done = app.sync_all(now)
        finally:
            app.close()
        assert done.calendar is not None and not done.problems, done.problems
        return done.calendar

    def tasks(self) -> dict[str, icalendar.Component]:
        """nurture's objects on Radicale: UID → component."""
        found = {}
        for uid, (_url, raw) in self.calendar.objects().items():
            if b"X-NURTURE-KEY" in raw:
                cal = icalendar.Calendar.from_ical(raw)
                found[uid] = next(c for c in cal.walk() if c.name in ("VEVENT", "VTODO"))
        return found


@pytest.fixture
def world(tmp_path: Path, dovecot: DovecotServer, radicale: RadicaleServer) -> Iterator[World]:
    yield World(tmp_path, dovecot, radicale)


def test_demo_through_dovecot_and_radicale(world: World, tmp_path: Path) -> None:
    assert world.appended > 50
    report = world.sync()
    placed = {p.suggestion.key: p for p in report.placements}
    assert report.created == len(placed) >= 3
    assert set(world.tasks()) == {task_uid(k) for k in placed}

    # The same demo through the local connector places the same nudges.
    local_config = world.paths.config
    if "[paths]" not in local_config.read_text(encoding="utf-8"):  # older demos had none
        with local_config.open("a", encoding="utf-8") as f:
            f.write('\n[paths]\nstate = "state-local"\n')
    local = world.sync(config=local_config)
    assert {p.suggestion.key for p in local.placements} == set(placed)

    # A second sync with nothing new changes nothing.
    again = world.sync()
    assert (again.created, again.removed, again.updated) == (0, 0, 0)

    replies = sorted(k for k, p in placed.items() if p.suggestion.kind is Kind.REPLY)
    others = sorted(k for k in placed if k not in replies[:1])
    assert replies and len(others) >= 2, placed.keys()
    answered, deleted, moved = replies[0], others[0], others[1]

    # 1. The user replies: the message lands in Sent, the task goes.
    asked = placed[answered].suggestion
    reply = EmailMessage()
    reply["From"] = USER_LINE
    reply["To"] = asked.contact.email
    reply["Subject"] = f"Re: {asked.subject}"
    reply["Message-ID"] = "<e2e-reply@brightpath.example>"
    reply["In-Reply-To"] = f"<{asked.message_id}>"
    reply["References"] = f"<{asked.message_id}>"
    reply["Date"] = format_datetime(ANCHOR + timedelta(minutes=30))
    reply.set_content("Here it is — sorry for the wait.\n\nAlex")
    world.dovecot.append(bytes(reply), "Sent")

    # 2. The user deletes a task in their calendar app (plain CalDAV DELETE).
    world.calendar.user_delete(task_uid(deleted))

    # 3. The user moves a task to Thursday afternoon.
    new_start = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    world.calendar.user_move(task_uid(moved), new_start, new_start + timedelta(minutes=20))

    later = ANCHOR + timedelta(hours=1)
    after = world.sync(later)
    tasks = world.tasks()
    assert task_uid(answered) not in tasks, "the answered question still has a task"
    assert after.removed >= 1
    assert task_uid(deleted) not in tasks, "a task the user deleted came back"
    assert after.dismissed >= 1
    assert tasks[task_uid(moved)].decoded("dtstart") == new_start

    # And the next day: still not recreated, still where the user put it.
    next_day = world.sync(ANCHOR + timedelta(days=1))
    tasks = world.tasks()
    assert task_uid(deleted) not in tasks
    assert tasks[task_uid(moved)].decoded("dtstart") == new_start
    assert all(p.suggestion.key != deleted for p in next_day.placements)
