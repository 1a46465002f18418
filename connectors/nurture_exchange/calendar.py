"""Exchange Server calendar over EWS: busy time by CalendarView, tagged tasks.

Busy time: FindItem with a CalendarView, so the server expands recurrences.
FindItem cannot return attendees; a GetItem fetches them for meetings only,
and only for items whose change key is new since the last read (the cache
folder keeps attendees by item id and change key), so a read with no changes
costs one request.

Tasks: CalendarItems created with ``SendMeetingInvitations="SendToNone"``,
tagged with nurture's MAPI named property ``NurtureKey`` (the property set
shared with the Graph connector), the content hash ``NurtureDigest``, the
category ``nurture`` and free/busy Free; found again by a FindItem restricted
on that property. EWS has no idempotency token, so a create first looks the key
up. Updates carry the change key with ``ConflictResolution="NeverOverwrite"``:
a user edit since our read is a conflict, not overwritten.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from exchangelib import Account, EWSDateTime, Q
from exchangelib import Body as TextBody
from exchangelib.errors import (
    ErrorChangeKeyRequiredForWriteOperations,
    ErrorInvalidChangeKey,
    ErrorIrresolvableConflict,
    ErrorItemNotFound,
)
from exchangelib.fields import FieldPath
from exchangelib.folders import Calendar
from exchangelib.items import ID_ONLY, CalendarItem
from exchangelib.properties import CalendarView, Mailbox
from exchangelib.restriction import Restriction
from exchangelib.services import FindItem

from nurture.connector import CalendarStore, task_hash, task_uid
from nurture.errors import TaskConflict, TaskGone
from nurture.ical import MAX_DESCRIPTION, MAX_SUMMARY, UNREADABLE, Reports, clean_text
from nurture.model import UTC, Address, CalendarEvent, CalendarTask, TaskRecord

from .ews import Session, to_utc
from .mapi import CATEGORY

log = logging.getLogger(__name__)

VIEW_FIELDS = (
    "uid",
    "subject",
    "start",
    "end",
    "is_all_day",
    "legacy_free_busy_status",
    "is_cancelled",
    "is_meeting",
    "categories",
    "nurture_key",
)
DETAIL_FIELDS = ("organizer", "required_attendees", "optional_attendees")
TASK_FIELDS = ("nurture_key", "nurture_hash", "start", "end", "subject", "uid")
PAGE_SIZE = 200
FREE = ("Free", "WorkingElsewhere")
CONFLICTS = (ErrorIrresolvableConflict, ErrorInvalidChangeKey)


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return to_utc(value)
    # An all-day item's EWSDate: midnight UTC (the core places tasks around it).
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _who(mailbox: Mailbox | None) -> list[str]:
    if mailbox is None or not mailbox.email_address:
        return ["", ""]
    return [str(mailbox.email_address), str(mailbox.name or "")]


def _address(pair: list[str]) -> Address | None:
    return Address(pair[0], pair[1]) if pair and "@" in pair[0] else None


def _ours(item: CalendarItem) -> bool:
    """A task of nurture's: our key AND the UID derived from it (set when we created it).

    A meeting request or a copied item carrying the key has its own UID: it is
    the user's, read as busy time and never touched.
    """
    return bool(item.nurture_key) and str(item.uid or "") == task_uid(str(item.nurture_key))


class ExchangeCalendarStore(CalendarStore):
    """The default calendar of one Exchange mailbox."""

    def __init__(self, session: Session, cache_dir: Path) -> None:
        self._session = session
        self._guard = session.guard
        self._path = cache_dir / "attendees.json"
        self._report = Reports()

    @property
    def _account(self) -> Account:
        return self._session.account

    @property
    def _calendar(self) -> Calendar:
        return self._session.folders.calendar

    # -- busy time --------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self._path.read_text())
        except (OSError, ValueError):
            return {}
        return data

    def _save(self, data: dict[str, Any]) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)
        os.replace(tmp, self._path)

    def events(self, start: datetime, end: datetime) -> Iterator[CalendarEvent]:
        view = CalendarView(
            start=EWSDateTime.from_datetime(start.astimezone(UTC)),
            end=EWSDateTime.from_datetime(end.astimezone(UTC)),
        )
        items = self._find_items(Q(), VIEW_FIELDS, view)
        items = [i for i in items if not _ours(i)]
        known = self._load()
        details = {
            i.id: known[i.id]
            for i in items
            if i.id in known and known[i.id].get("ck") == i.changekey
        }
        missing = [(i.id, i.changekey) for i in items if i.is_meeting and i.id not in details]
        if missing:
            fetched = self._guard(
                lambda: list(
                    self._account.fetch(
                        ids=missing,
                        folder=self._calendar,
                        only_fields=DETAIL_FIELDS,
                        chunk_size=PAGE_SIZE,
                    )
                )
            )
            for item in fetched:
                if isinstance(item, CalendarItem):
                    people = list(item.required_attendees or ()) + list(
                        item.optional_attendees or ()
                    )
                    details[item.id] = {
                        "ck": item.changekey,
                        "organizer": _who(item.organizer),
                        "attendees": [_who(a.mailbox) for a in people],
                    }
        if missing or set(known) != set(details):
            self._save(details)
        for item in items:
            info = details.get(item.id, {})
            try:
                start, end = _utc(item.start), _utc(item.end)
            except UNREADABLE as exc:
                self._report("Exchange calendar", str(item.uid or item.id),
                       f"unreadable ({exc!r}); skipped")  # fmt: skip
                continue
            yield CalendarEvent(
                uid=str(item.uid or item.id),
                start=start,
                end=end,
                summary=str(item.subject or ""),
                all_day=bool(item.is_all_day),
                busy=str(item.legacy_free_busy_status or "Busy") not in FREE,
                organizer=_address(info.get("organizer", [])),
                attendees=tuple(
                    a for a in (_address(p) for p in info.get("attendees", ())) if a is not None
                ),
                cancelled=bool(item.is_cancelled),
            )

    # -- tasks ------------------------------------------------------------

    @staticmethod
    def _record(item: CalendarItem) -> TaskRecord:
        key = str(item.nurture_key)
        return TaskRecord(
            key=key,
            uid=task_uid(key),
            start=_utc(item.start),
            end=_utc(item.end),
            ref=json.dumps({"id": item.id, "changekey": item.changekey}),
            content_hash=str(item.nurture_hash or ""),
            title=str(item.subject or ""),
        )

    def _find_items(
        self, q: Q, fields: tuple[str, ...], view: CalendarView | None = None
    ) -> list[CalendarItem]:
        """One FindItem (per page) returning exactly `fields`.

        exchangelib's QuerySet treats extended properties as fields FindItem
        cannot return and adds a GetItem round trip; FindItem does return
        them, so this calls the service directly.
        """
        wanted = {
            FieldPath(field=self._calendar.get_item_field_by_fieldname(name)) for name in fields
        }
        folders = [self._calendar]
        restriction = (
            None if q.is_empty() else Restriction(q, folders=folders, applies_to=Restriction.ITEMS)
        )
        found = self._guard(
            lambda: list(
                FindItem(account=self._account, page_size=PAGE_SIZE).call(
                    folders=folders,
                    additional_fields=wanted,
                    restriction=restriction,
                    order_fields=None,
                    shape=ID_ONLY,
                    query_string=None,
                    depth="Shallow",
                    calendar_view=view,
                    max_items=None,
                    offset=0,
                )
            )
        )
        return [i for i in found if isinstance(i, CalendarItem)]

    def tasks(self) -> list[TaskRecord]:
        items = self._find_items(Q(nurture_key__exists=True), TASK_FIELDS)
        records = []
        for item in items:
            if not _ours(item):
                continue
            try:
                records.append(self._record(item))
            except UNREADABLE as exc:
                self._report("Exchange calendar", str(item.uid),
                       f"nurture task unreadable ({exc!r}); skipped")  # fmt: skip
        return sorted(records, key=lambda r: (r.start, r.key))

    def _find(self, key: str) -> TaskRecord | None:
        items = [i for i in self._find_items(Q(nurture_key=key), TASK_FIELDS) if _ours(i)]
        return self._record(items[0]) if items else None

    @staticmethod
    def _fields(task: CalendarTask, content_hash: str) -> dict[str, Any]:
        text = clean_text(task.description, MAX_DESCRIPTION)
        if task.url:
            text = f"{text}\n\n{task.url}"
        return {
            "subject": clean_text(task.title, MAX_SUMMARY).replace("\n", " "),
            "body": TextBody(text),
            "start": EWSDateTime.from_datetime(task.start.astimezone(UTC)),
            "end": EWSDateTime.from_datetime(task.end.astimezone(UTC)),
            "legacy_free_busy_status": "Free" if task.free else "Busy",
            "nurture_hash": content_hash,
        }

    def _create(self, task: CalendarTask) -> TaskRecord:
        # The look-up and the CreateItem are retried together, never the CreateItem
        # alone: after a lost response the retry finds the item the first call made.
        return self._guard(partial(self._create_once, task))

    def _create_once(self, task: CalendarTask) -> TaskRecord:
        existing = self._find(task.key)
        if existing is not None:
            return existing
        content_hash = task_hash(task)
        item = CalendarItem(
            account=self._account,
            folder=self._calendar,
            uid=task.uid,
            categories=[CATEGORY],
            sensitivity="Private",
            reminder_is_set=True,
            reminder_minutes_before_start=0,
            nurture_key=task.key,
            **self._fields(task, content_hash),
        )
        item.save(send_meeting_invitations="SendToNone")
        return TaskRecord(
            key=task.key,
            uid=task.uid,
            start=task.start,
            end=task.end,
            ref=json.dumps({"id": item.id, "changekey": item.changekey}),
            content_hash=content_hash,
            title=str(item.subject),
        )

    def _update(self, task: CalendarTask, record: TaskRecord) -> TaskRecord:
        ref = json.loads(record.ref)
        content_hash = task_hash(task)
        fields = self._fields(task, content_hash)
        item = CalendarItem(
            account=self._account,
            folder=self._calendar,
            id=ref["id"],
            changekey=ref["changekey"],
            **fields,
        )
        try:
            self._guard(
                lambda: item.save(
                    update_fields=list(fields),
                    conflict_resolution="NeverOverwrite",
                    send_meeting_invitations="SendToNone",
                )
            )
        except (*CONFLICTS, ErrorChangeKeyRequiredForWriteOperations) as exc:
            raise TaskConflict(f"task {task.key} changed since it was read") from exc
        except ErrorItemNotFound as exc:
            raise TaskGone(f"task {task.key} was deleted") from exc
        return TaskRecord(
            key=task.key,
            uid=task.uid,
            start=task.start,
            end=task.end,
            ref=json.dumps({"id": item.id, "changekey": item.changekey}),
            content_hash=content_hash,
            title=str(item.subject),
        )

    def _delete(self, record: TaskRecord) -> None:
        ref = json.loads(record.ref)
        item = CalendarItem(
            account=self._account, folder=self._calendar, id=ref["id"], changekey=ref["changekey"]
        )
        try:
            self._guard(lambda: item.delete(send_meeting_cancellations="SendToNone"))
        except ErrorItemNotFound:
            log.debug("task %s was already gone", record.key)
