"""Microsoft 365 calendar over Graph: busy time by delta, tasks as tagged events.

Busy time: ``/me/calendarView/delta`` over a window fixed by its first call
(Graph does not let a delta window move). The connector keeps the window, its
deltaLink and a compact copy of the events in its cache folder; a read inside
the window costs one request when nothing changed. A read outside it starts a
new window (at least five weeks from the start asked, a week past its end).
Occurrences of a series carry their master's iCalUId, looked up once per
series and cached.

Tasks: ordinary events carrying nurture's MAPI named property ``NurtureKey``
(and the content hash ``NurtureDigest``) in the property set shared with the
Exchange connector, the category ``nurture`` and free/busy Free. They are
listed by category and told apart by the key property on an event the user
organises with no attendees (Graph lets no app choose an event's UID); created
with ``transactionId`` so a retried POST after a lost response creates no
second event; updated with ``If-Match``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from nurture.connector import CalendarStore, task_hash, task_uid
from nurture.errors import TaskConflict, TaskGone
from nurture.ical import MAX_DESCRIPTION, MAX_SUMMARY, UNREADABLE, Reports, clean_text
from nurture.model import UTC, Address, CalendarEvent, CalendarTask, TaskRecord

from .client import Gone, GraphClient, NotFound, PreconditionFailed
from .mail import BATCH_LIMIT, immutable_ids
from .mapi import CATEGORY, HASH_PROPERTY, KEY_PROPERTY

log = logging.getLogger(__name__)

WINDOW = timedelta(days=35)
# A window reaches this far past the end asked, so the daily-moving reads of the
# core stay inside one delta window for a week before a new one is read.
SLACK = timedelta(days=7)
PAGE_SIZE = 200
STATE_VERSION = 1
UTC_PREFER = 'outlook.timezone="UTC"'
TASK_SELECT = "subject,start,end,categories,showAs,isOrganizer,attendees"
TASK_EXPAND = (
    f"singleValueExtendedProperties($filter=id eq '{KEY_PROPERTY}' or id eq '{HASH_PROPERTY}')"
)


def parse_time(value: dict[str, Any] | None) -> datetime:
    """A Graph dateTimeTimeZone read with ``Prefer: outlook.timezone="UTC"``."""
    text = str((value or {}).get("dateTime") or "")
    head, _, fraction = text.partition(".")
    parsed = datetime.fromisoformat(head + ("." + fraction[:6] if fraction else ""))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def graph_time(value: datetime) -> dict[str, str]:
    return {"dateTime": value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _compact(item: dict[str, Any]) -> dict[str, Any]:
    """What nurture keeps of an event between runs: no body, no location."""

    def who(value: dict[str, Any] | None) -> list[str]:
        mail = (value or {}).get("emailAddress") or {}
        return [str(mail.get("address") or ""), str(mail.get("name") or "")]

    return {
        "uid": item.get("iCalUId") or item["id"],
        "master": item.get("seriesMasterId") or "",
        "start": parse_time(item.get("start")).isoformat(),
        "end": parse_time(item.get("end")).isoformat(),
        "all_day": bool(item.get("isAllDay")),
        "busy": str(item.get("showAs") or "busy").lower() not in ("free", "workingelsewhere"),
        "summary": str(item.get("subject") or ""),
        "organizer": who(item.get("organizer")),
        "attendees": [who(a) for a in item.get("attendees") or ()],
        "cancelled": bool(item.get("isCancelled")),
        "ours": CATEGORY in (item.get("categories") or ()),
    }


def _address(pair: list[str]) -> Address | None:
    return Address(pair[0], pair[1]) if pair and "@" in pair[0] else None


class GraphCalendarStore(CalendarStore):
    """The default calendar of one Microsoft 365 mailbox."""

    def __init__(self, client: GraphClient, cache_dir: Path, page_size: int = PAGE_SIZE) -> None:
        self._client = client
        self._path = cache_dir / "calendar-view.json"
        self._own_path = cache_dir / "calendar-tasks.json"
        self._page_size = page_size
        # Ids of our tasks as last listed (kept in the cache folder across runs):
        # the calendar view cannot return the key property, so an event in our
        # category is ours only if the task listing found it ours.
        self._own: set[str] | None = None
        self._report = Reports()

    # -- busy time --------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        try:
            state: dict[str, Any] = json.loads(self._path.read_text())
        except (OSError, ValueError):
            return {}
        return state if state.get("v") == STATE_VERSION else {}

    def _save(self, state: dict[str, Any], path: Path | None = None) -> None:
        path = path or self._path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(state, handle)
        os.replace(tmp, path)

    def _own_ids(self) -> set[str]:
        """Our task ids: as last listed, from the cache folder, or listed now."""
        if self._own is None:
            try:
                self._own = {str(i) for i in json.loads(self._own_path.read_text())["ids"]}
            except (OSError, ValueError, KeyError, TypeError):
                self.tasks()
        return self._own or set()

    def _remember(self, own: set[str]) -> None:
        if own != self._own:
            self._save({"ids": sorted(own)}, self._own_path)
        self._own = own

    def _refresh(self, start: datetime, end: datetime) -> dict[str, Any]:
        state = self._load()
        covered = (
            state.get("link")
            and datetime.fromisoformat(state["window"][0]) <= start
            and end <= datetime.fromisoformat(state["window"][1])
        )
        headers = immutable_ids(f"odata.maxpagesize={self._page_size}, {UTC_PREFER}")
        if covered:
            try:
                self._follow(state, state["link"], None, headers)
            except Gone:
                log.info("Graph forgot the calendar delta state; reading the window again")
                covered = False
        if not covered:
            begin = datetime.combine(start.astimezone(UTC).date(), time(), UTC)
            finish = datetime.combine((max(end + SLACK, begin + WINDOW)).date(), time(), UTC)
            finish += timedelta(days=1)
            masters = state.get("masters", {})
            state = {
                "v": STATE_VERSION,
                "window": [begin.isoformat(), finish.isoformat()],
                "events": {},
                "masters": masters,
            }
            params = {"startDateTime": _stamp(begin), "endDateTime": _stamp(finish)}
            self._follow(state, "/me/calendarView/delta", params, headers)
        self._resolve_masters(state)
        self._save(state)
        return state

    def _follow(
        self,
        state: dict[str, Any],
        path: str,
        params: dict[str, str] | None,
        headers: dict[str, str],
    ) -> None:
        events: dict[str, Any] = state["events"]
        for page in self._client.pages(path, params=params, headers=headers):
            for item in page.get("value", ()):
                if "@removed" in item:
                    events.pop(str(item["id"]), None)
                else:
                    events[str(item["id"])] = _compact(item)
            if "@odata.deltaLink" in page:
                state["link"] = page["@odata.deltaLink"]

    def _resolve_masters(self, state: dict[str, Any]) -> None:
        """Give occurrences their series' iCalUId (Graph's differs per occurrence)."""
        masters: dict[str, str] = state["masters"]
        wanted = sorted(
            {e["master"] for e in state["events"].values() if e["master"]} - set(masters)
        )
        for begin in range(0, len(wanted), BATCH_LIMIT):
            chunk = wanted[begin : begin + BATCH_LIMIT]
            answers = self._client.batch(
                [
                    {
                        "id": str(n),
                        "method": "GET",
                        "url": f"/me/events/{master}?$select=iCalUId",
                        "headers": immutable_ids(),
                    }
                    for n, master in enumerate(chunk)
                ]
            )
            for n, master in enumerate(chunk):
                answer = answers.get(str(n)) or {}
                body = (answer.get("body") or {}) if answer.get("status") == 200 else {}
                # A series that cannot be read keeps its id as uid: never asked again.
                masters[master] = str(body.get("iCalUId") or master)
        live = {e["master"] for e in state["events"].values()}
        state["masters"] = {k: v for k, v in masters.items() if k in live}

    def events(self, start: datetime, end: datetime) -> Iterator[CalendarEvent]:
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        state = self._refresh(start, end)
        masters = state["masters"]
        rows = sorted(state["events"].items(), key=lambda e: (e[1]["start"], e[1]["uid"]))
        own = self._own_ids() if any(row["ours"] for _id, row in rows) else set()
        for event_id, row in rows:
            if row["ours"] and event_id in own:
                continue
            first = datetime.fromisoformat(row["start"])
            last = datetime.fromisoformat(row["end"])
            if last <= start or first >= end:
                continue
            attendees = tuple(a for a in (_address(p) for p in row["attendees"]) if a)
            yield CalendarEvent(
                uid=masters.get(row["master"], row["uid"]) if row["master"] else row["uid"],
                start=first,
                end=last,
                summary=row["summary"],
                all_day=row["all_day"],
                busy=row["busy"],
                organizer=_address(row["organizer"]),
                attendees=attendees,
                cancelled=row["cancelled"],
            )

    # -- tasks ------------------------------------------------------------

    def tasks(self) -> list[TaskRecord]:
        params = {
            "$filter": f"categories/any(c:c eq '{CATEGORY}')",
            "$select": TASK_SELECT,
            "$expand": TASK_EXPAND,
        }
        headers = immutable_ids(f"odata.maxpagesize={self._page_size}, {UTC_PREFER}")
        records = []
        own = set()
        for page in self._client.pages("/me/events", params=params, headers=headers):
            for item in page.get("value", ()):
                try:
                    record = self._record(item)
                except UNREADABLE as exc:
                    self._report("Microsoft 365 calendar", str(item.get("id", "")),
                           f"nurture task unreadable ({exc!r}); skipped")  # fmt: skip
                    own.add(str(item.get("id")))  # ours, though unreadable: not busy time
                    continue
                if record is not None:
                    records.append(record)
                    own.add(str(item["id"]))
        self._remember(own)
        return sorted(records, key=lambda r: (r.start, r.key))

    @staticmethod
    def _record(item: dict[str, Any], key: str = "", content_hash: str = "") -> TaskRecord | None:
        """Our task in `item`, or None for the user's own event.

        Graph gives an event no UID nurture can choose, so ours means: our key
        property, organised by the user, with no attendees. An invitation or a
        meeting the key was copied onto is the user's; a plain copy of a task
        lists twice under one key, which the core reports and leaves alone.
        """
        props = {
            str(p.get("id", "")).lower(): str(p.get("value") or "")
            for p in item.get("singleValueExtendedProperties") or ()
        }
        key = props.get(KEY_PROPERTY.lower(), key)
        if not key or item.get("isOrganizer") is False or item.get("attendees"):
            return None  # the user's own event in our category: not ours
        return TaskRecord(
            key=key,
            uid=task_uid(key),
            start=parse_time(item.get("start")),
            end=parse_time(item.get("end")),
            ref=json.dumps({"id": item["id"], "etag": item.get("@odata.etag", "")}),
            content_hash=props.get(HASH_PROPERTY.lower(), content_hash),
            title=str(item.get("subject") or ""),
        )

    @staticmethod
    def _payload(task: CalendarTask, content_hash: str) -> dict[str, Any]:
        text = clean_text(task.description, MAX_DESCRIPTION)
        if task.url:
            text = f"{text}\n\n{task.url}"
        return {
            "subject": clean_text(task.title, MAX_SUMMARY).replace("\n", " "),
            "body": {"contentType": "text", "content": text},
            "start": graph_time(task.start),
            "end": graph_time(task.end),
            "showAs": "free" if task.free else "busy",
            "sensitivity": "private",
            "categories": [CATEGORY],
            "isReminderOn": True,
            "reminderMinutesBeforeStart": 0,
            "singleValueExtendedProperties": [
                {"id": KEY_PROPERTY, "value": task.key},
                {"id": HASH_PROPERTY, "value": content_hash},
            ],
        }

    def _create(self, task: CalendarTask) -> TaskRecord:
        content_hash = task_hash(task)
        body = self._payload(task, content_hash)
        # Graph drops a second POST with the same transactionId: a retry after
        # a lost response returns the first event instead of making another.
        body["transactionId"] = task.uid
        response = self._client.request(
            "POST", "/me/events", json=body, headers=immutable_ids(UTC_PREFER)
        )
        created = response.json()
        record = self._record(created, task.key, content_hash)
        assert record is not None
        if self._own is not None:
            self._remember(self._own | {str(created["id"])})
        return record

    def _update(self, task: CalendarTask, record: TaskRecord) -> TaskRecord:
        ref = json.loads(record.ref)
        content_hash = task_hash(task)
        headers = immutable_ids(UTC_PREFER)
        if ref.get("etag"):
            headers["If-Match"] = ref["etag"]
        try:
            response = self._client.request(
                "PATCH",
                f"/me/events/{ref['id']}",
                json=self._payload(task, content_hash),
                headers=headers,
            )
        except PreconditionFailed as exc:
            raise TaskConflict(f"task {task.key} changed since it was read") from exc
        except NotFound as exc:
            raise TaskGone(f"task {task.key} was deleted") from exc
        updated = self._record(response.json(), task.key, content_hash)
        assert updated is not None
        return updated

    def _delete(self, record: TaskRecord) -> None:
        ref = json.loads(record.ref)
        try:
            self._client.request("DELETE", f"/me/events/{ref['id']}", headers=immutable_ids())
        except NotFound:
            log.debug("task %s was already gone", record.key)
        if self._own is not None:
            self._remember(self._own - {str(ref["id"])})
