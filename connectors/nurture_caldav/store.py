"""The CalDAV calendar store: busy time from the chosen calendars, tasks on one of them.

Tasks live at ``<calendar>/<quoted UID>.ics``; an object is nurture's when it
carries the X-NURTURE-KEY property and the UID made from it
(`nurture.ical.is_task`), and nurture never writes anything else. Every write is
conditional: a create sends ``If-None-Match: *`` (so a second create of the
same UID reads the existing task back instead of overwriting), an update or
delete sends ``If-Match: <etag read>`` (a 412 means the user edited it since:
`TaskConflict`, and the user's version stays).

Reading tasks is incremental: the store keeps href → ETag (and the parsed
record) in memory, asks for changes with a sync-token where the server offers
sync-collection (RFC 6578) and with one ETag listing (PROPFIND) otherwise, and
fetches only the objects whose ETag changed, with calendar-multiget.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from urllib.parse import quote, urljoin, urlsplit

import icalendar

from nurture.connector import CalendarStore, task_hash
from nurture.errors import ConnectorError, Problem, TaskConflict, TaskGone, UserError
from nurture.ical import (
    UNREADABLE,
    Reports,
    calendar_for,
    expand_events,
    is_task,
    record_from_component,
    task_calendar,
)
from nurture.model import CalendarEvent, CalendarTask, TaskRecord, TaskStatus

from .dav import Collection, Dav, Item

log = logging.getLogger(__name__)

ICS = {"Content-Type": "text/calendar; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class Choice:
    """Which calendars to read and which to write, as the user named them."""

    write: str = ""
    read: tuple[str, ...] = ()


def encode_ref(href: str, etag: str) -> str:
    return json.dumps([href, etag])


def decode_ref(ref: str) -> tuple[str, str]:
    try:
        href, etag = json.loads(ref)
        return str(href), str(etag)
    except (ValueError, TypeError) as exc:
        raise ConnectorError(f"not a CalDAV task reference: {ref!r}") from exc


def _matches(collection: Collection, wanted: str) -> bool:
    wanted = wanted.strip().rstrip("/").lower()
    path = urlsplit(collection.url).path.rstrip("/").lower()
    return wanted in (
        collection.name.lower(),
        path,
        path.rpartition("/")[2],
        collection.url.rstrip("/").lower(),
    )


class CalDavStore(CalendarStore):
    """One CalDAV account's calendars; see the module docstring."""

    def __init__(self, dav_factory: Callable[[], Dav], choice: Choice, zone: tzinfo) -> None:
        self._dav_factory = dav_factory
        self._dav_client: Dav | None = None
        self._choice = choice
        self._zone = zone
        self._target: Collection | None = None
        self._reads: list[Collection] = []
        # Incremental reading of our tasks: href → (etag, record or None), and the sync token.
        self._known: dict[str, tuple[str, TaskRecord | None]] = {}
        self._token: str | None = None
        self._report = Reports()

    def close(self) -> None:
        dav, self._dav_client = self._dav_client, None
        if dav is not None:
            dav.client.close()

    # -- discovery --------------------------------------------------------

    @property
    def _dav(self) -> Dav:
        if self._dav_client is None:
            self._dav_client = self._dav_factory()
        return self._dav_client

    def _discover(self) -> Collection:
        if self._target is not None:
            return self._target
        found = self._dav.calendars()
        names = ", ".join(repr(c.name) for c in found) or "none"
        if not found:
            raise UserError(
                "the CalDAV account has no calendars",
                [Problem("calendar", "no calendar found", "create one in your calendar app")],
            )
        if self._choice.write:
            target = next((c for c in found if _matches(c, self._choice.write)), None)
            if target is None:
                raise UserError(
                    f"no CalDAV calendar named {self._choice.write!r}",
                    [Problem("calendar", f"calendars on the server: {names}", "fix `calendar`")],
                )
        else:
            target = next((c for c in found if "VEVENT" in c.components), found[0])
        reads = [
            c
            for c in found
            if not self._choice.read or any(_matches(c, w) for w in self._choice.read)
        ]
        missing = [w for w in self._choice.read if not any(_matches(c, w) for c in found)]
        if missing:
            raise UserError(
                f"no CalDAV calendar named {', '.join(map(repr, missing))}",
                [Problem("calendars", f"calendars on the server: {names}", "fix `calendars`")],
            )
        if target not in reads:
            reads.append(target)
        self._target, self._reads = target, reads
        log.debug("CalDAV: tasks go to %s; busy time from %d calendars", target.url, len(reads))
        return target

    @property
    def supports_todo(self) -> bool:  # type: ignore[override]
        return "VTODO" in self._discover().components

    # -- reading ------------------------------------------------------------

    def events(self, start: datetime, end: datetime) -> Iterator[CalendarEvent]:
        self._discover()
        for collection in self._reads:
            where = f"CalDAV calendar {collection.name!r}"
            with self._dav.naming(where):
                items = self._dav.query(collection.url, start, end)
            for item in items:
                data = item.data.encode("utf-8", "surrogateescape")
                calendar = calendar_for(data, f"{where} {item.href}", start, end, self._report)
                if calendar is not None:
                    yield from expand_events(calendar, start, end, self._zone, where, self._report)

    def tasks(self) -> list[TaskRecord]:
        target = self._discover()
        with self._dav.naming(f"CalDAV calendar {target.name!r}"):
            listing = self._listing(target)
            stale = [
                h for h, etag in listing.items() if self._known.get(h, ("",))[0] != etag or not etag
            ]
            known = {h: v for h, v in self._known.items() if h in listing and h not in stale}
            for item in self._dav.multiget(target.url, stale):
                known[item.href] = (item.etag, self._record(item))
        self._known = known
        return sorted((r for _etag, r in known.values() if r is not None), key=lambda r: r.key)

    def _listing(self, target: Collection) -> dict[str, str]:
        """href → ETag of every object on the target calendar, as cheaply as the server allows."""
        if target.sync:
            result = self._dav.sync(target.url, self._token or "")
            if result is None:  # the server forgot our token: start over
                self._token, self._known = None, {}
                result = self._dav.sync(target.url, "")
            if result is not None:
                items, token = result
                listing = (
                    {} if self._token is None else {h: e for h, (e, _r) in self._known.items()}
                )
                for item in items:
                    if item.gone:
                        listing.pop(item.href, None)
                    else:
                        listing[item.href] = item.etag
                self._token = token or None
                return listing
        return self._dav.etags(target.url)

    def _record(self, item: Item) -> TaskRecord | None:
        """Our task in `item`, or None: not ours, or unreadable (reported and skipped)."""
        try:
            calendar = icalendar.Calendar.from_ical(item.data)
        except ValueError:
            return None
        for component in calendar.walk():
            if component.name in ("VEVENT", "VTODO") and is_task(component):
                try:
                    return record_from_component(
                        component, encode_ref(item.href, item.etag), self._zone
                    )
                except UNREADABLE as exc:
                    self._report(f"CalDAV {item.href}", str(component.get("uid", "")),
                           f"nurture task unreadable ({exc!r}); skipped")  # fmt: skip
        return None

    # -- writing ------------------------------------------------------------

    def _url(self, href: str) -> str:
        return self._dav.absolute(self._discover().url, href)

    def _href(self, uid: str) -> str:
        return urlsplit(urljoin(self._discover().url, quote(uid, safe="") + ".ics")).path

    def _body(self, task: CalendarTask) -> tuple[CalendarTask, bytes]:
        if task.todo and not self.supports_todo:
            task = replace(task, todo=False)
        return task, task_calendar(task, task_hash(task), datetime.now(UTC))

    def _written(self, task: CalendarTask, href: str, response: object) -> TaskRecord:
        etag = getattr(response, "headers", {}).get("ETag", "")
        if not etag:  # some servers send none on PUT; ask once
            fetched = self._dav.get(self._discover().url, href)
            etag = fetched.etag if fetched else ""
        record = TaskRecord(
            key=task.key, uid=task.uid, start=task.start, end=task.end, status=TaskStatus.OPEN,
            ref=encode_ref(href, etag), content_hash=task_hash(task), title=task.title,
        )  # fmt: skip
        return record

    def _create(self, task: CalendarTask) -> TaskRecord:
        task, body = self._body(task)
        href = self._href(task.uid)
        response = self._dav.request(self._url(href), "PUT", body, {**ICS, "If-None-Match": "*"})
        if response.status in (200, 201, 204):
            return self._written(task, href, response)
        if response.status == 412:  # already there: idempotent, read back what is there
            existing = self._dav.get(self._discover().url, href)
            if existing is not None:
                record = self._record(existing)
                if record is not None:
                    return record
            raise TaskConflict(f"another object holds the place of task {task.uid}")
        self._dav.check(response, f"creating task {task.uid}")
        raise AssertionError("unreachable")

    def _update(self, task: CalendarTask, record: TaskRecord) -> TaskRecord:
        task, body = self._body(task)
        href, etag = decode_ref(record.ref)
        headers = {**ICS, "If-Match": etag} if etag else {**ICS, "If-None-Match": "*"}
        response = self._dav.request(self._url(href), "PUT", body, headers)
        if response.status in (200, 201, 204):
            return self._written(task, href, response)
        if response.status == 412:
            if self._dav.get(self._discover().url, href) is None:
                raise TaskGone(f"task {task.uid} was deleted in the calendar")
            raise TaskConflict(f"task {task.uid} was changed in the calendar since it was read")
        if response.status in (404, 410):
            raise TaskGone(f"task {task.uid} was deleted in the calendar")
        self._dav.check(response, f"updating task {task.uid}")
        raise AssertionError("unreachable")

    def _delete(self, record: TaskRecord) -> None:
        href, etag = decode_ref(record.ref)
        headers = {"If-Match": etag} if etag else {}
        response = self._dav.request(self._url(href), "DELETE", "", headers)
        if response.status in (200, 204, 404, 410):
            self._known.pop(href, None)
            return
        if response.status == 412:
            if self._dav.get(self._discover().url, href) is None:
                return
            raise TaskConflict(f"task {record.uid} was changed in the calendar since it was read")
        self._dav.check(response, f"deleting task {record.uid}")
