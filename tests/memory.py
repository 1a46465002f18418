"""A calendar held in memory, for unit tests of the pure stages and the apply handlers.

Like vdirsyncer's storage/memory.py: the whole `CalendarStore` contract (busy
events, nurture's tasks with a marker, conditional writes) with no file and no
server, plus the user's own moves, deletes and completions.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta

from nurture.connector import CalendarStore, task_hash
from nurture.errors import TaskConflict
from nurture.model import CalendarEvent, CalendarTask, TaskRecord, TaskStatus


class MemoryCalendar(CalendarStore):
    """Events the user owns (read only to nurture) and nurture's tasks, by key.

    Every write gives the task a new `ref` (an etag, in effect), so an update
    against a record read before the user's change raises `TaskConflict`.
    """

    supports_todo = True

    def __init__(self, events: Iterable[CalendarEvent] = ()) -> None:
        self.events_held = list(events)
        self.held: dict[str, TaskRecord] = {}
        self.written: dict[str, CalendarTask] = {}
        self._etags = itertools.count(1)

    def events(self, start: datetime, end: datetime) -> Iterator[CalendarEvent]:
        for event in self.events_held:
            if event.start < end and event.end > start:
                yield event

    def tasks(self) -> list[TaskRecord]:
        return list(self.held.values())

    def _create(self, task: CalendarTask) -> TaskRecord:
        record = TaskRecord(
            key=task.key,
            uid=task.uid,
            start=task.start,
            end=task.end,
            ref=f"etag-{next(self._etags)}",
            content_hash=task_hash(task),
            title=task.title,
        )
        self.held[task.key] = record
        self.written[task.key] = task
        return record

    def _update(self, task: CalendarTask, record: TaskRecord) -> TaskRecord:
        current = self.held.get(task.key)
        if current is None or current.ref != record.ref:
            raise TaskConflict(f"{task.key} changed since it was read")
        return self._create(task)

    def _delete(self, record: TaskRecord) -> None:
        self.held.pop(record.key, None)
        self.written.pop(record.key, None)

    # what the user does in their calendar app

    def user_moves(self, key: str, by: timedelta) -> None:
        record = self.held[key]
        self.held[key] = replace(
            record, start=record.start + by, end=record.end + by, ref=f"etag-{next(self._etags)}"
        )

    def user_deletes(self, key: str) -> None:
        del self.held[key]

    def user_completes(self, key: str) -> None:
        self.held[key] = replace(self.held[key], status=TaskStatus.COMPLETED)
