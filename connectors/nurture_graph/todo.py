"""Microsoft To Do output: nurture's to-do tasks in a To Do list of their own.

Chosen per account (``todo = true``, which also asks for the Tasks.ReadWrite
permission at sign-in). Tasks the rules mark as to-dos go to the list named
by ``todo_list`` (created on first use); every other task stays a calendar
event. A To Do task carries its key in a linked resource
(``applicationName = "nurture"``, ``externalId = key``), the way To Do links
a task to the app that made it; ticking it off in To Do reads back as
completed. To Do has no idempotency token, so a create first reads the list
(nurture's own list, small) and returns the task already made for the key.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, ClassVar

from nurture.connector import task_uid
from nurture.errors import TaskConflict, TaskGone
from nurture.ical import MAX_DESCRIPTION, MAX_SUMMARY, UNREADABLE, clean_text
from nurture.model import CalendarTask, TaskRecord, TaskStatus

from .calendar import PAGE_SIZE, GraphCalendarStore, graph_time, parse_time
from .client import GraphClient, NotFound, PreconditionFailed
from .mapi import CATEGORY

log = logging.getLogger(__name__)

APP = "nurture"
STATUS = {"completed": TaskStatus.COMPLETED}


class GraphTodoStore(GraphCalendarStore):
    """The calendar store, plus to-do tasks in a Microsoft To Do list."""

    supports_todo: ClassVar[bool] = True

    def __init__(
        self,
        client: GraphClient,
        cache_dir: Path,
        page_size: int = PAGE_SIZE,
        list_name: str = "nurture",
    ) -> None:
        super().__init__(client, cache_dir, page_size)
        self._list_name = list_name
        self._list_id: str | None = None

    def _list(self) -> str:
        """The id of nurture's To Do list, found by name or created once."""
        if self._list_id is None:
            quoted = self._list_name.replace("'", "''")
            found = self._client.get(
                "/me/todo/lists", params={"$filter": f"displayName eq '{quoted}'"}
            ).get("value", [])
            if found:
                self._list_id = str(found[0]["id"])
            else:
                made = self._client.request(
                    "POST", "/me/todo/lists", json={"displayName": self._list_name}
                ).json()
                self._list_id = str(made["id"])
        return self._list_id

    def _todo_items(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        path = f"/me/todo/lists/{self._list()}/tasks"
        params = {"$expand": "linkedResources"}
        headers = {"Prefer": f"odata.maxpagesize={self._page_size}"}
        for page in self._client.pages(path, params=params, headers=headers):
            items.extend(page.get("value", ()))
        return items

    @staticmethod
    def _todo_record(item: dict[str, Any]) -> TaskRecord | None:
        key = next(
            (
                str(r.get("externalId"))
                for r in item.get("linkedResources") or ()
                if r.get("applicationName") == APP and r.get("externalId")
            ),
            "",
        )
        if not key:
            return None  # the user's own to-do in our list
        due = item.get("dueDateTime")
        start = item.get("startDateTime") or due
        return TaskRecord(
            key=key,
            uid=task_uid(key),
            start=parse_time(start),
            end=parse_time(due or start),
            status=STATUS.get(str(item.get("status")), TaskStatus.OPEN),
            ref=json.dumps({"todo": True, "id": item["id"], "etag": item.get("@odata.etag", "")}),
            title=str(item.get("title") or ""),
        )

    def tasks(self) -> list[TaskRecord]:
        return sorted(super().tasks() + self._todo_records(), key=lambda r: (r.start, r.key))

    def _todo_records(self) -> list[TaskRecord]:
        """Our to-dos in the list; one that cannot be read is reported and skipped."""
        records = []
        for item in self._todo_items():
            try:
                record = self._todo_record(item)
            except UNREADABLE as exc:
                self._report(f"Microsoft To Do list {self._list_name!r}", str(item.get("id", "")),
                       f"nurture task unreadable ({exc!r}); skipped")  # fmt: skip
                continue
            if record is not None:
                records.append(record)
        return records

    @staticmethod
    def _todo_payload(task: CalendarTask) -> dict[str, Any]:
        return {
            "title": clean_text(task.title, MAX_SUMMARY).replace("\n", " "),
            "body": {
                "contentType": "text",
                "content": clean_text(task.description, MAX_DESCRIPTION),
            },
            "startDateTime": graph_time(task.start),
            "dueDateTime": graph_time(task.end),
            "reminderDateTime": graph_time(task.start),
            "isReminderOn": True,
            "categories": [CATEGORY],
        }

    def _create(self, task: CalendarTask) -> TaskRecord:
        if not task.todo:
            return super()._create(task)
        for landed in self._todo_records():
            if landed.key == task.key:
                return landed  # a retry after a lost response: the first one landed
        body = self._todo_payload(task)
        body["linkedResources"] = [
            {
                "applicationName": APP,
                "displayName": "nurture",
                "externalId": task.key,
                "webUrl": task.url or "https://github.com/nurture",
            }
        ]
        made = self._client.request("POST", f"/me/todo/lists/{self._list()}/tasks", json=body)
        item = made.json()
        item.setdefault("linkedResources", body["linkedResources"])
        record = self._todo_record(item)
        assert record is not None
        return record

    def _update(self, task: CalendarTask, record: TaskRecord) -> TaskRecord:
        ref = json.loads(record.ref)
        if not ref.get("todo"):
            return super()._update(task, record)
        headers = {"If-Match": ref["etag"]} if ref.get("etag") else {}
        try:
            response = self._client.request(
                "PATCH",
                f"/me/todo/lists/{self._list()}/tasks/{ref['id']}",
                json=self._todo_payload(task),
                headers=headers,
            )
        except PreconditionFailed as exc:
            raise TaskConflict(f"to-do {task.key} changed since it was read") from exc
        except NotFound as exc:
            raise TaskGone(f"to-do {task.key} was deleted") from exc
        item = response.json()
        item.setdefault("linkedResources", [{"applicationName": APP, "externalId": task.key}])
        updated = self._todo_record(item)
        assert updated is not None
        return updated

    def _delete(self, record: TaskRecord) -> None:
        ref = json.loads(record.ref)
        if not ref.get("todo"):
            super()._delete(record)
            return
        try:
            self._client.request("DELETE", f"/me/todo/lists/{self._list()}/tasks/{ref['id']}")
        except NotFound:
            log.debug("to-do %s was already gone", record.key)
