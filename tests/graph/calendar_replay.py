"""A model of nurture's task writes and the user's edits, for calendar property tests.

`replay_calendar` runs random writes (create, update, delete) interleaved with
the user's own edits (move, delete) through a store and a contract harness,
and checks after every step that `tasks()` shows exactly the model: what we
wrote, unless the user moved it (the user's time wins and a stale update is a
`TaskConflict`) or deleted it (gone; an update is `TaskGone`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import strategies as st

from nurture.connector import CalendarStore, task_uid
from nurture.errors import TaskConflict, TaskGone
from nurture.model import CalendarTask, Kind, TaskRecord

UTC = UTC
DAY = datetime(2026, 11, 24, tzinfo=UTC)
KINDS = ("create", "update", "delete", "user_move", "user_delete")

CalendarOp = tuple[str, int, int]
calendar_ops = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 2), st.integers(8, 17)), max_size=20
)


def task(n: int, hour: int) -> CalendarTask:
    key = f"reply:prop-{n}@x.example"
    start = DAY + timedelta(hours=hour)
    return CalendarTask(
        key=key,
        uid=task_uid(key),
        title=f"Reply {n}",
        description="Asked something.",
        start=start,
        end=start + timedelta(minutes=20),
        kind=Kind.REPLY,
    )


def replay_calendar(operations: list[CalendarOp], store: CalendarStore, harness: Any) -> None:
    model: dict[str, datetime] = {}  # key -> start the calendar should show
    records: dict[str, TaskRecord] = {}  # our last record of each key
    moved: set[str] = set()  # the user moved it after our last write
    for op, n, hour in operations:
        wanted = task(n, hour)
        key = wanted.key
        if op == "create":
            if key not in model:
                records[key] = store.create_task(wanted)
                model[key] = wanted.start
                moved.discard(key)
            else:
                store.create_task(wanted)  # idempotent: nothing changes
        elif op == "update" and key in records:
            if key not in model:
                with pytest.raises(TaskGone):
                    store.update_task(wanted, records[key])
            elif key in moved:
                with pytest.raises(TaskConflict):
                    store.update_task(wanted, records[key])
            else:
                records[key] = store.update_task(wanted, records[key])
                model[key] = wanted.start
        elif op == "delete" and key in records:
            store.delete_task(records.pop(key))
            model.pop(key, None)
        elif op == "user_move" and key in model:
            start = DAY + timedelta(days=1, hours=hour)
            harness.user_move(wanted.uid, start, start + timedelta(minutes=20))
            model[key] = start
            moved.add(key)
        elif op == "user_delete" and key in model:
            harness.user_delete(wanted.uid)
            del model[key]
        shown = {r.key: r.start for r in store.tasks()}
        assert shown == model, (op, n, hour)
