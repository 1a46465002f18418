"""A throwaway Radicale CalDAV server for tests, with one htpasswd user.

Usage::

    with running_radicale() as server:       # or the `radicale` pytest fixture
        url = server.make_calendar("work", components=("VEVENT", "VTODO"))
        server.put(url + "x.ics", ics_bytes)  # act as the user's calendar app

Radicale runs as a child process (``python -m radicale``) on a free loopback
port with its storage in a temporary folder; sync-token (RFC 6578) included.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import requests

from . import free_port, skip_or_fail, wait_for_port

USER = "alice"
PASSWORD = "radicale-app-password"

_MKCALENDAR = """<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop>
    <D:displayname>{name}</D:displayname>
    <C:supported-calendar-component-set>{components}</C:supported-calendar-component-set>
  </D:prop></D:set>
</C:mkcalendar>"""


def available() -> bool:
    try:
        import radicale  # noqa: F401
    except ImportError:
        return False
    return True


class RadicaleServer:
    """One Radicale instance; start/stop/restart keep the same port and storage."""

    def __init__(self, user: str = USER, password: str = PASSWORD) -> None:
        self.user = user
        self.password = password
        self.port = free_port()
        self._tmp = Path(tempfile.mkdtemp(prefix="nurture-radicale-"))
        (self._tmp / "users").write_text(f"{user}:{password}\n")
        self._process: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.port}/"
        self.session = requests.Session()
        self.session.auth = (user, password)

    def start(self) -> None:
        log = (self._tmp / "radicale.log").open("ab")
        self._process = subprocess.Popen(
            [
                sys.executable, "-m", "radicale",
                "--server-hosts", f"127.0.0.1:{self.port}",
                "--storage-filesystem-folder", str(self._tmp / "collections"),
                "--auth-type", "htpasswd",
                "--auth-htpasswd-filename", str(self._tmp / "users"),
                "--auth-htpasswd-encryption", "plain",
                "--auth-delay", "0",
                "--logging-level", "warning",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )  # fmt: skip
        log.close()
        try:
            wait_for_port(self.port)
        except TimeoutError as exc:
            self.stop()
            raise RuntimeError(f"radicale did not start: {self.log()}") from exc

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        self.session.close()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> RadicaleServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    def log(self) -> str:
        path = self._tmp / "radicale.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    # -- acting as the user's calendar app --------------------------------

    def make_calendar(self, name: str, components: Sequence[str] = ("VEVENT", "VTODO")) -> str:
        """Create a calendar collection; returns its URL (ending in /)."""
        url = f"{self.url}{self.user}/{name}/"
        comps = "".join(f'<C:comp name="{c}"/>' for c in components)
        response = self.session.request(
            "MKCALENDAR", url, data=_MKCALENDAR.format(name=name, components=comps),
            headers={"Content-Type": "application/xml"},
        )  # fmt: skip
        response.raise_for_status()
        return url

    def put(self, url: str, ics: bytes, etag: str | None = None) -> str:
        """PUT an object (unconditionally unless `etag`); returns the new ETag."""
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        if etag:
            headers["If-Match"] = etag
        response = self.session.put(url, data=ics, headers=headers)
        response.raise_for_status()
        return response.headers.get("ETag", "")

    def get(self, url: str) -> bytes:
        response = self.session.get(url)
        response.raise_for_status()
        return response.content

    def delete(self, url: str) -> None:
        self.session.delete(url).raise_for_status()

    def options(self, **extra: object) -> dict[str, object]:
        """The account options a nurture CalDAV connector needs for this server."""
        return {"url": self.url, "user": self.user, **extra}


@contextlib.contextmanager
def running_radicale() -> Iterator[RadicaleServer]:
    server = RadicaleServer()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def radicale() -> Iterator[RadicaleServer]:
    """A fresh Radicale per test; skips (fails on CI) when Radicale is not installed."""
    if not available():
        skip_or_fail("Radicale is not installed; pip install 'nurture[test]'")
    with running_radicale() as server:
        yield server


class RadicaleHarness:
    """The contract suite's CalendarHarness on a real Radicale: acts as the user's calendar app."""

    def __init__(self, server: RadicaleServer, cache_dir: Path, calendar: str = "work",
                 components: Sequence[str] = ("VEVENT", "VTODO")) -> None:  # fmt: skip
        self.server = server
        self.cache_dir = cache_dir
        self.calendar_name = calendar
        self.calendar_url = server.make_calendar(calendar, components)

    def connector(self, password: str | None = None, **options: object):  # type: ignore[no-untyped-def]
        from nurture_caldav import CalDavConnector

        from nurture.connector import Context

        secret = self.server.password if password is None else password
        context = Context(
            account="test",
            options=self.server.options(**{"calendar": self.calendar_name, **options}),
            cache_dir=self.cache_dir,
            secret=lambda name: secret if name == "password" else None,
        )
        return CalDavConnector(context)

    # -- the objects on the calendar ---------------------------------------

    def objects(self) -> dict[str, tuple[str, bytes]]:
        """Every object on the calendar: UID → (URL, raw iCalendar bytes)."""
        import icalendar

        response = self.server.session.request(
            "PROPFIND", self.calendar_url, headers={"Depth": "1"},
            data='<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/>'
                 "</d:prop></d:propfind>",
        )  # fmt: skip
        response.raise_for_status()
        from lxml import etree

        tree = etree.fromstring(response.content)
        found: dict[str, tuple[str, bytes]] = {}
        for href in tree.iterfind(".//{DAV:}href"):
            path = href.text or ""
            if path.endswith("/") or path == urlsplit(self.calendar_url).path.rstrip("/"):
                continue
            url = f"{self.server.url.rstrip('/')}{path}"
            raw = self.server.get(url)
            cal = icalendar.Calendar.from_ical(raw)
            for comp in cal.walk():
                if comp.name in ("VEVENT", "VTODO"):
                    found[str(comp["uid"])] = (url, raw)
                    break
        return found

    def add_foreign_event(
        self,
        uid: str,
        summary: str,
        start: datetime,
        end: datetime,
        attendees: tuple[str, ...] = (),
        rrule: str | None = None,
        marker: str | None = None,
    ) -> None:
        import icalendar

        event = icalendar.Event()
        event.add("uid", uid)
        event.add("dtstamp", datetime.now(UTC))
        event.add("summary", summary)
        event.add("dtstart", start)
        event.add("dtend", end)
        if marker:  # an invitation whose sender put nurture's marker on it
            event.add("organizer", "mailto:mallory@elsewhere.example")
            event.add("X-NURTURE-KEY", marker)
        elif attendees:
            event.add("organizer", "mailto:alex@brightpath.example")
        for address in attendees:
            event.add("attendee", f"mailto:{address}")
        if rrule:
            event.add("rrule", icalendar.vRecur.from_ical(rrule))
        self._put(uid, event)

    def _put(self, uid: str, component: Any) -> None:
        import icalendar

        cal = icalendar.Calendar()
        cal.add("prodid", "-//a calendar app//EN")
        cal.add("version", "2.0")
        cal.add_component(component)
        self.server.put(f"{self.calendar_url}{quote(uid, safe='')}.ics", cal.to_ical())

    def foreign_digest(self) -> dict[str, str]:
        import icalendar

        from nurture.ical import is_task

        return {
            uid: hashlib.sha256(raw).hexdigest()
            for uid, (_url, raw) in self.objects().items()
            if not any(is_task(c) for c in icalendar.Calendar.from_ical(raw).walk())
        }

    def user_duplicate(self, uid: str) -> str:
        """Copy the event as a calendar app's "Duplicate" does: a new UID, every other property."""
        import icalendar

        _url, raw = self.objects()[uid]
        (original,) = [c for c in icalendar.Calendar.from_ical(raw).walk() if c.get("uid") == uid]
        new_uid = f"copy-of-{uid}"
        original["uid"] = icalendar.vText(new_uid)
        self._put(new_uid, original)
        return new_uid

    def exists(self, uid: str) -> bool:
        return uid in self.objects()

    def add_broken_task(self, key: str) -> None:
        """A to-do of nurture's whose start date the user cleared in a task app."""
        import icalendar

        from nurture.connector import task_uid

        event = icalendar.Todo()
        event.add("uid", task_uid(key))
        event.add("due", datetime(2026, 11, 30, 17, 0, tzinfo=UTC))
        event.add("dtstamp", datetime.now(UTC))
        event.add("summary", "Reply to Dana — edited")
        event.add("X-NURTURE-KEY", key)
        self._put(task_uid(key), event)

    def user_delete(self, uid: str) -> None:
        url, _raw = self.objects()[uid]
        self.server.delete(url)

    def _edit(self, uid: str, change: Callable[[Any], None]) -> None:
        import icalendar

        url, raw = self.objects()[uid]
        cal = icalendar.Calendar.from_ical(raw)
        for comp in cal.walk():
            if comp.name in ("VEVENT", "VTODO"):
                change(comp)
        self.server.put(url, cal.to_ical())

    def user_move(self, uid: str, start: datetime, end: datetime) -> None:
        def move(comp: Any) -> None:
            for name in ("dtstart", "dtend", "due", "duration"):
                comp.pop(name, None)
            comp.add("dtstart", start)
            comp.add("due" if comp.name == "VTODO" else "dtend", end)

        self._edit(uid, move)

    def user_complete(self, uid: str) -> None:
        def complete(comp: Any) -> None:
            comp.pop("status", None)
            comp.pop("completed", None)
            comp.add("status", "COMPLETED")
            comp.add("completed", datetime.now(UTC))

        self._edit(uid, complete)
