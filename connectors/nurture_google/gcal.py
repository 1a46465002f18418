"""Google Calendar as a nurture calendar store.

Reading: a local **mirror** of one calendar's events (recurrences expanded with
``singleEvents=true``) over a window, kept current with ``syncToken``; a stale
token (410) means a full resync. One ``events.list`` call per refresh answers
both `events` (everything but our tasks) and `tasks` (only our tasks), so a
no-change sync costs one call. Calendars the user names in ``read_calendars``
are read as busy blocks with ``freebusy.query``.

Writing: a task's event id is base32hex of sha256(key), so the same nudge is
always the same event; ``extendedProperties.private`` carries the key and the
content hash. Google never lets an event id be reused: a 409 on insert means the task
exists (then it is ours, and the insert was a repeat) or the user deleted it
(then it is dismissed: `TaskGone`). Updates are conditional on the etag
(412 → `TaskConflict`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from googleapiclient.errors import HttpError

from nurture.connector import CalendarStore, task_hash, task_uid
from nurture.errors import TaskConflict, TaskGone
from nurture.ical import UNREADABLE, Reports
from nurture.model import Address, CalendarEvent, CalendarTask, TaskRecord, TaskStatus

from .calls import Caller, Missing

log = logging.getLogger(__name__)

KEY_PROPERTY = "nurtureKey"
HASH_PROPERTY = "nurtureDigest"  # the stored name keeps "Digest", for compatibility
MIRROR_VERSION = 1
PAGE_SIZE = 2500
KEPT = (
    "id",
    "iCalUID",
    "etag",
    "status",
    "summary",
    "start",
    "end",
    "transparency",
    "organizer",
    "attendees",
    "extendedProperties",
    "recurringEventId",
)
LIST_FIELDS = f"items({','.join(KEPT)}),nextPageToken,nextSyncToken,timeZone"
REMINDER_MINUTES = 10


def event_id(key: str) -> str:
    """The Google event id of the task for `key`: base32hex ``[a-v0-9]``, 52 chars."""
    digest = hashlib.sha256(key.encode()).digest()
    return base64.b32hexencode(digest).decode().lower().rstrip("=")


def rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _when(value: dict[str, str], zone: ZoneInfo) -> tuple[datetime, bool]:
    """An event's start/end → (aware UTC datetime, all-day?)."""
    if "dateTime" in value:
        return datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00")).astimezone(
            UTC
        ), False
    day = date.fromisoformat(value["date"])
    return datetime.combine(day, dtime(), tzinfo=zone).astimezone(UTC), True


def _is_task(event: dict[str, Any]) -> bool:
    """Ours: our key in the private properties AND the event id derived from that key.

    A copy of a task (the user's "Duplicate", or the properties set on another
    event) has another id, so it is the user's event, read as busy time.
    """
    key = (event.get("extendedProperties") or {}).get("private", {}).get(KEY_PROPERTY)
    return bool(key) and event.get("id") == event_id(str(key))


def to_event(event: dict[str, Any], zone: ZoneInfo) -> CalendarEvent:
    """A Google event → `CalendarEvent`; declined or free events are not busy."""
    start, all_day = _when(event["start"], zone)
    end, _ = _when(event["end"], zone)
    attendees = tuple(
        Address(a["email"], a.get("displayName", ""))
        for a in event.get("attendees", [])
        if a.get("email") and not a.get("resource")
    )
    declined = any(
        a.get("self") and a.get("responseStatus") == "declined" for a in event.get("attendees", [])
    )
    organizer = event.get("organizer", {})
    return CalendarEvent(
        uid=event.get("iCalUID", event["id"]),
        start=start,
        end=end,
        summary=event.get("summary", ""),
        all_day=all_day,
        busy=event.get("transparency") != "transparent" and not declined,
        organizer=Address(organizer["email"], organizer.get("displayName", ""))
        if organizer.get("email")
        else None,
        attendees=attendees,
        cancelled=event.get("status") == "cancelled",
    )


def to_record(event: dict[str, Any]) -> TaskRecord:
    """One of our events → `TaskRecord` (ref = event id and etag)."""
    private = event["extendedProperties"]["private"]
    start, _ = _when(event["start"], ZoneInfo("UTC"))
    end, _ = _when(event["end"], ZoneInfo("UTC"))
    return TaskRecord(
        key=private[KEY_PROPERTY],
        uid=task_uid(private[KEY_PROPERTY]),
        start=start,
        end=end,
        status=TaskStatus.CANCELLED if event.get("status") == "cancelled" else TaskStatus.OPEN,
        ref=f"{event['id']} {event.get('etag', '')}",
        content_hash=private.get(HASH_PROPERTY, ""),
        title=event.get("summary", ""),
    )


def task_body(task: CalendarTask) -> dict[str, Any]:
    """The event nurture writes for `task`: private, free while there is slack, a popup."""
    description = task.description
    if task.url and task.url not in description:
        description = f"{description}\n\n{task.url}".strip()
    body: dict[str, Any] = {
        "id": event_id(task.key),
        "summary": task.title,
        "description": description,
        "start": {"dateTime": rfc3339(task.start), "timeZone": "UTC"},
        "end": {"dateTime": rfc3339(task.end), "timeZone": "UTC"},
        "transparency": "transparent" if task.free else "opaque",
        "visibility": "private",
        "reminders": {
            "useDefault": False,
            "overrides": [{"method": "popup", "minutes": REMINDER_MINUTES}],
        },
        "extendedProperties": {"private": {KEY_PROPERTY: task.key, HASH_PROPERTY: task_hash(task)}},
    }
    if task.url.startswith(("https://", "http://")):
        body["source"] = {"title": "nurture", "url": task.url}
    return body


@dataclass(slots=True)
class Window:
    """How far back and ahead the mirror reaches."""

    back: timedelta = timedelta(days=365)
    ahead: timedelta = timedelta(days=180)


class Mirror:
    """A local copy of one calendar's events in a window, kept by sync token.

    Persisted (0600, atomically) in the connector's cache folder so a restart
    syncs incrementally too. Holds event times, titles and attendees, the same
    metadata nurture keeps in its state; no mail content.
    """

    def __init__(
        self,
        service: Any,
        caller: Caller,
        calendar_id: str,
        path: Path,
        window: Window,
        clock: Callable[[], datetime],
    ) -> None:
        self._service = service
        self._caller = caller
        self.calendar_id = calendar_id
        self._path = path
        self._window = window
        self._clock = clock
        self.events: dict[str, dict[str, Any]] = {}
        self.token: str | None = None
        self.bounds: tuple[datetime, datetime] | None = None
        self.zone = ZoneInfo("UTC")
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self._path.read_text())
        except (OSError, ValueError):
            return
        if data.get("v") != MIRROR_VERSION or data.get("calendar") != self.calendar_id:
            return
        self.events = data["events"]
        self.token = data["token"]
        self.bounds = (
            datetime.fromisoformat(data["bounds"][0]),
            datetime.fromisoformat(data["bounds"][1]),
        )
        self._set_zone(data.get("zone", "UTC"))

    def _save(self) -> None:
        assert self.bounds is not None
        data = {
            "v": MIRROR_VERSION,
            "calendar": self.calendar_id,
            "token": self.token,
            "bounds": [b.isoformat() for b in self.bounds],
            "zone": str(self.zone),
            "events": self.events,
        }
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(data, out)
        os.replace(tmp, self._path)

    def _set_zone(self, name: str) -> None:
        try:
            self.zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            self.zone = ZoneInfo("UTC")

    def refresh(self) -> None:
        """Bring the mirror up to date: incremental if possible, else a full sync."""
        now = self._clock()
        if self.token and self.bounds and self.bounds[1] > now + self._window.ahead / 2:
            try:
                self._pages(syncToken=self.token)
                self._save()
                return
            except Missing:
                log.info("calendar %s: sync token expired, full resync", self.calendar_id)
        self.events = {}
        self.bounds = (now - self._window.back, now + self._window.ahead)
        self._pages(timeMin=rfc3339(self.bounds[0]), timeMax=rfc3339(self.bounds[1]))
        self._save()

    def _pages(self, **query: Any) -> None:
        page: str | None = None
        while True:
            answer = self._caller.execute(
                self._service.events().list(
                    calendarId=self.calendar_id,
                    singleEvents=True,
                    maxResults=PAGE_SIZE,
                    pageToken=page,
                    fields=LIST_FIELDS,
                    **query,
                )
            )
            if "timeZone" in answer:
                self._set_zone(answer["timeZone"])
            for event in answer.get("items", []):
                self.put(event)
            page = answer.get("nextPageToken")
            if not page:
                self.token = answer.get("nextSyncToken")
                return

    def put(self, event: dict[str, Any]) -> None:
        """Record `event` as the calendar has it now (cancelled ones leave)."""
        if event.get("status") == "cancelled":
            self.events.pop(event["id"], None)
        else:
            self.events[event["id"]] = {k: event[k] for k in KEPT if k in event}

    def drop(self, event_id_: str) -> None:
        self.events.pop(event_id_, None)

    def covers(self, start: datetime, end: datetime) -> bool:
        return self.bounds is not None and self.bounds[0] <= start and end <= self.bounds[1]


class GoogleCalendar(CalendarStore):
    """Busy time and meetings from Google Calendar; nurture's tasks written to it.

    `tasks_mirror` is the calendar tasks go to; `events_mirror` the calendar
    read for meetings (the same mirror when tasks go to the primary calendar;
    None with a dedicated calendar and its narrow scope, when the primary
    calendar is read as free/busy only). `busy_ids` are read with freebusy.
    """

    supports_todo = False

    def __init__(
        self,
        service: Any,
        caller: Caller,
        tasks_mirror: Mirror,
        events_mirror: Mirror | None,
        busy_ids: Sequence[str],
        fresh_for: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._service = service
        self._caller = caller
        self._tasks = tasks_mirror
        self._events = events_mirror
        self._busy_ids = tuple(busy_ids)
        self._fresh_for = fresh_for
        self._monotonic = monotonic
        self._refreshed: dict[str, float] = {}
        self._report = Reports()

    def _fresh(self, mirror: Mirror) -> Mirror:
        """Refresh `mirror` unless it was refreshed moments ago (one call per sync)."""
        last = self._refreshed.get(mirror.calendar_id)
        now = self._monotonic()
        if last is None or now - last >= self._fresh_for:
            mirror.refresh()
            self._refreshed[mirror.calendar_id] = self._monotonic()
        return mirror

    # -- reading ----------------------------------------------------------

    def events(self, start: datetime, end: datetime) -> Iterator[CalendarEvent]:
        if self._events is not None:
            mirror = self._fresh(self._events)
            if mirror.covers(start, end):
                items: Sequence[dict[str, Any]] = list(mirror.events.values())
            else:
                items = self._list_window(mirror.calendar_id, start, end)
            for item in items:
                if _is_task(item) or "start" not in item:
                    continue
                try:
                    event = to_event(item, mirror.zone)
                except UNREADABLE as exc:
                    self._report(f"Google calendar {mirror.calendar_id}", str(item.get("id", "")),
                           f"unreadable ({exc!r}); skipped")  # fmt: skip
                    continue
                if event.start < end and event.end > start and not event.cancelled:
                    yield event
        if self._busy_ids:
            yield from self._freebusy(start, end)

    def _list_window(
        self, calendar_id: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page: str | None = None
        while True:
            answer = self._caller.execute(
                self._service.events().list(
                    calendarId=calendar_id,
                    singleEvents=True,
                    maxResults=PAGE_SIZE,
                    timeMin=rfc3339(start),
                    timeMax=rfc3339(end),
                    pageToken=page,
                    fields=LIST_FIELDS,
                )
            )
            items.extend(answer.get("items", []))
            page = answer.get("nextPageToken")
            if not page:
                return items

    def _freebusy(self, start: datetime, end: datetime) -> Iterator[CalendarEvent]:
        answer = self._caller.execute(
            self._service.freebusy().query(
                body={
                    "timeMin": rfc3339(start),
                    "timeMax": rfc3339(end),
                    "items": [{"id": i} for i in self._busy_ids],
                }
            )
        )
        for calendar_id, found in answer.get("calendars", {}).items():
            for error in found.get("errors", []):
                log.warning("free/busy of %s unavailable: %s", calendar_id, error.get("reason"))
            for block in found.get("busy", []):
                begin, _ = _when({"dateTime": block["start"]}, ZoneInfo("UTC"))
                finish, _ = _when({"dateTime": block["end"]}, ZoneInfo("UTC"))
                yield CalendarEvent(
                    uid=f"busy:{calendar_id}:{rfc3339(begin)}",
                    start=begin,
                    end=finish,
                    summary="busy",
                )

    def tasks(self) -> list[TaskRecord]:
        mirror = self._fresh(self._tasks)
        records = []
        for event in mirror.events.values():
            if not _is_task(event):
                continue
            try:
                records.append(to_record(event))
            except UNREADABLE as exc:
                self._report(f"Google calendar {mirror.calendar_id}", str(event.get("id", "")),
                       f"nurture task unreadable ({exc!r}); skipped")  # fmt: skip
        return records

    # -- writing ----------------------------------------------------------

    @property
    def _calendar_id(self) -> str:
        return self._tasks.calendar_id

    def _create(self, task: CalendarTask) -> TaskRecord:
        body = task_body(task)
        request = self._service.events().insert(calendarId=self._calendar_id, body=body)
        try:
            created = self._caller.execute(request)
        except HttpError as error:
            if error.resp.status != 409:
                raise
            return self._existing(body["id"])
        self._tasks.put(created)
        return to_record(created)

    def _existing(self, id_: str) -> TaskRecord:
        """After a 409: the event is ours already, or the user deleted it (dismissed)."""
        try:
            event = self._caller.execute(
                self._service.events().get(calendarId=self._calendar_id, eventId=id_)
            )
        except Missing:
            raise TaskGone(f"task event {id_} was deleted") from None
        if event.get("status") == "cancelled" or not _is_task(event):
            self._tasks.drop(id_)
            raise TaskGone(f"task event {id_} was deleted")
        self._tasks.put(event)
        return to_record(event)

    def _update(self, task: CalendarTask, record: TaskRecord) -> TaskRecord:
        id_, _, etag = record.ref.partition(" ")
        body = task_body(task)
        del body["id"]
        request = self._service.events().patch(calendarId=self._calendar_id, eventId=id_, body=body)
        if etag:
            request.headers["If-Match"] = etag
        try:
            updated = self._caller.execute(request)
        except Missing:
            raise TaskGone(f"task event {id_} was deleted") from None
        except HttpError as error:
            if error.resp.status == 412:
                raise TaskConflict(f"task event {id_} changed since it was read") from error
            raise
        if updated.get("status") == "cancelled":
            raise TaskGone(f"task event {id_} was deleted")
        self._tasks.put(updated)
        return to_record(updated)

    def _delete(self, record: TaskRecord) -> None:
        id_ = record.ref.partition(" ")[0]
        with contextlib.suppress(Missing):  # already gone: what we wanted
            self._caller.execute(
                self._service.events().delete(calendarId=self._calendar_id, eventId=id_)
            )
        self._tasks.drop(id_)
