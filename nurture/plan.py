"""Reconcile the tasks nurture wants with what the calendar holds. Pure.

Three inputs per suggestion key: the desired task (from detect → rules →
schedule), the ledger entry (what nurture did before), and the record read
back from the calendar (what is there now, with the user's edits). User edits
win:

- a task the user deleted is dismissed, and never created again for that key;
- a task the user moved is snoozed: it keeps the user's time from then on;
- a completed VTODO (or a cancelled event) is done;
- a task whose reason went away (the user replied, they wrote back) is removed.

A record with nurture's marker that the ledger does not know, or knows only as
"creating" (a crash between the calendar write and the ledger commit), is
adopted rather than written twice.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Set
from dataclasses import dataclass

from .connector import task_hash
from .model import CalendarTask, LedgerEntry, LedgerState, TaskRecord, TaskStatus


class Op(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    KEEP = "keep"
    ADOPT = "adopt"
    DISMISS = "dismiss"
    DONE = "done"
    FORGET = "forget"


@dataclass(frozen=True, slots=True)
class Action:
    op: Op
    key: str
    task: CalendarTask | None = None
    record: TaskRecord | None = None
    snoozed: bool = False
    reason: str = ""


def plan(
    desired: Mapping[str, CalendarTask],
    ledger: Mapping[str, LedgerEntry],
    records: Mapping[str, TaskRecord],
    wanted: Set[str] = frozenset(),
) -> list[Action]:
    """The actions that bring the calendar to the desired state, user edits first.

    `wanted` names keys whose reason still holds although they have no desired task:
    the ones the user deleted, which the caller does not place again (`deleted`).
    """
    actions: list[Action] = []
    for key in sorted(set(desired) | set(ledger) | set(records)):
        task, entry, record = desired.get(key), ledger.get(key), records.get(key)
        if entry is not None and entry.state.final:
            continue  # the user's decision stands, whatever the detectors say now
        if record is not None and record.status is not TaskStatus.OPEN:
            actions.append(
                Action(
                    Op.DONE if record.status is TaskStatus.COMPLETED else Op.DISMISS,
                    key,
                    record=record,
                    reason=f"marked {record.status.value} in the calendar",
                )
            )
            continue
        if entry is not None and entry.state is LedgerState.ACTIVE and record is None:
            if task is not None or key in wanted:
                actions.append(Action(Op.DISMISS, key, reason="deleted from the calendar"))
            else:
                actions.append(Action(Op.FORGET, key, reason="resolved and already gone"))
            continue
        if task is None:
            if record is not None:
                actions.append(Action(Op.DELETE, key, record=record, reason="resolved"))
            elif entry is not None and entry.state is not LedgerState.RESOLVED:
                actions.append(Action(Op.FORGET, key, reason="never written"))
            continue
        if record is None:
            actions.append(Action(Op.CREATE, key, task=task))
            continue
        known = entry is not None and entry.state is LedgerState.ACTIVE
        moved = bool(
            (
                known
                and entry is not None
                and entry.start is not None
                and (record.start != entry.start or record.end != entry.end)
            )
            or (entry is not None and entry.detail.get("pinned"))
        )
        if moved:  # keep the user's time; only our words may change
            task = CalendarTask(
                key=task.key,
                uid=task.uid,
                title=task.title,
                description=task.description,
                start=record.start,
                end=record.end,
                kind=task.kind,
                todo=task.todo,
                free=task.free,
                url=task.url,
            )
        same = task_hash(task) == record.content_hash and (record.start, record.end) == (
            task.start,
            task.end,
        )
        if not known:
            actions.append(Action(Op.ADOPT, key, task=task, record=record, snoozed=moved))
            if not same:
                actions.append(Action(Op.UPDATE, key, task=task, record=record, snoozed=moved))
        elif same:
            actions.append(Action(Op.KEEP, key, task=task, record=record, snoozed=moved))
        else:
            actions.append(Action(Op.UPDATE, key, task=task, record=record, snoozed=moved))
    return actions


def deleted(ledger: Mapping[str, LedgerEntry], records: Mapping[str, TaskRecord]) -> set[str]:
    """Keys nurture put on the calendar that are gone from it: the user deleted them.

    They are dismissed by `plan`; the caller must not place them again meanwhile, or
    the deleted task would hold a slot (and show in the sync table) for one more run.
    """
    return {k for k, e in ledger.items() if e.state is LedgerState.ACTIVE and k not in records}
