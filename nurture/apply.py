"""Carrying out a plan: one handler per `Op`, each writing the calendar, then the ledger.

`plan.plan` decides (pure); this module does. Each `Op` has its own handler
class, as vdirsyncer's sync actions each have theirs, with the one counter of
`ApplyReport` it adds to, so a dry run counts with the same table it would run
with. A handler works on a `Step` (the action, the ledger entry it starts from,
the detail `nurture explain` will show) through a `Writer` that holds the
calendar and the ledger for one reconcile.

Order matters for crashes: a new task is written to the ledger as ``creating``
before the calendar write, and ``active`` after it; a crash in between leaves a
record the next plan adopts instead of writing twice. A task the user deleted
while nurture worked (`TaskGone`) is dismissed; one the user changed
(`TaskConflict`) is left for the next run, which reads it again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar

from .connector import CalendarStore, task_uid
from .errors import TaskConflict, TaskGone
from .model import LedgerEntry, LedgerState, Suggestion, TaskRecord
from .plan import Action, Op
from .schedule import Placement
from .state import State
from .weekly import is_weekly

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ApplyReport:
    """What one reconcile did to the calendar (or, in a dry run, would do)."""

    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    dismissed: int = 0
    done: int = 0
    conflicts: int = 0
    placements: list[Placement] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    calendar: str = ""
    weekly_report: str = ""  # file:// link of the report the weekly event links, when on

    def summary(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, removed {self.removed}, "
            f"unchanged {self.unchanged}"
        )

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed or self.dismissed or self.done)


@dataclass(frozen=True, slots=True)
class Step:
    """One action with what it starts from.

    `entry` is the ledger's entry for the key, or a new one (``creating``) when
    `recorded` is False; `detail` is the entry's detail with the suggestion's
    (and the weekly event's) laid over it, a fresh dict the handler may change.
    """

    action: Action
    entry: LedgerEntry
    recorded: bool
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Writer:
    """The calendar and the ledger of one reconcile, and its clock."""

    state: State
    store: CalendarStore
    now: datetime

    def put(self, entry: LedgerEntry, action: str | None) -> None:
        """Write a ledger entry; its history row only for nudges, which the report counts."""
        self.state.put_ledger(entry, None if is_weekly(entry.key) else action, self.now)

    def settle(self, entry: LedgerEntry, state: LedgerState, action: str) -> None:
        """The task is off the calendar (or never to be written again): record why."""
        self.put(replace(entry, state=state, updated=self.now), action)

    def activate(
        self, entry: LedgerEntry, record: TaskRecord, detail: dict[str, Any], action: str | None
    ) -> None:
        """The task is on the calendar as `record`: remember what nurture wrote."""
        self.put(
            replace(
                entry,
                state=LedgerState.ACTIVE,
                start=record.start,
                end=record.end,
                content_hash=record.content_hash,
                ref=record.ref,
                title=record.title or entry.title,
                detail=detail,
                updated=self.now,
            ),
            action,
        )


class Handler:
    """Carries out one `Op`. `counts` names the `ApplyReport` counter it adds to."""

    counts: ClassVar[str] = ""

    def run(self, step: Step, out: Writer) -> None:
        raise NotImplementedError


class Create(Handler):
    """A new task: ``creating`` first, then the calendar write, then ``active``."""

    counts = "created"

    def run(self, step: Step, out: Writer) -> None:
        task = step.action.task
        assert task is not None
        creating = replace(
            step.entry, state=LedgerState.CREATING, detail=step.detail, title=task.title
        )
        out.put(creating, None)
        out.activate(step.entry, out.store.create_task(task), step.detail, "placed")


class Update(Handler):
    """New words (or a new slot) for a task already on the calendar."""

    counts = "updated"

    def run(self, step: Step, out: Writer) -> None:
        action = step.action
        assert action.task is not None and action.record is not None
        record = out.store.update_task(action.task, action.record)
        first_move = action.snoozed and not step.entry.detail.get("pinned")
        if action.snoozed:
            step.detail["pinned"] = True
        out.activate(step.entry, record, step.detail, "snoozed" if first_move else "updated")


class Adopt(Handler):
    """A task of nurture's the ledger does not know as active (a crash, or another copy
    of nurture wrote it): take it as it is; an `Update` may follow."""

    def run(self, step: Step, out: Writer) -> None:
        record = step.action.record
        assert record is not None
        if step.action.snoozed:
            step.detail["pinned"] = True
        # A crash between the calendar write and the ledger commit: it was placed then.
        crashed = step.recorded and step.entry.state is LedgerState.CREATING
        out.activate(step.entry, record, step.detail, None if crashed else "placed")


class Keep(Handler):
    """Nothing to write; a first move by the user pins the task to the user's time."""

    counts = "unchanged"

    def run(self, step: Step, out: Writer) -> None:
        record = step.action.record
        assert record is not None
        if step.action.snoozed and not step.entry.detail.get("pinned"):
            step.detail["pinned"] = True
            out.activate(step.entry, record, step.detail, "snoozed")


class Delete(Handler):
    """The reason went away (they wrote back, the user replied): take the task off."""

    counts = "removed"

    def run(self, step: Step, out: Writer) -> None:
        record = step.action.record
        assert record is not None
        out.store.delete_task(record)
        out.settle(step.entry, LedgerState.RESOLVED, "resolved")


class Dismiss(Handler):
    """The user deleted the task: never again for this key."""

    counts = "dismissed"

    def run(self, step: Step, out: Writer) -> None:
        out.settle(step.entry, LedgerState.DISMISSED, "dismissed")


class Done(Handler):
    """The user completed the task."""

    counts = "done"

    def run(self, step: Step, out: Writer) -> None:
        out.settle(step.entry, LedgerState.DONE, "done")


class Forget(Handler):
    """Resolved and already gone from the calendar, or never written: nothing to keep."""

    def run(self, step: Step, out: Writer) -> None:
        if step.entry.state is LedgerState.ACTIVE:
            out.settle(step.entry, LedgerState.RESOLVED, "resolved")
        else:
            out.state.delete_ledger(step.action.key)


HANDLERS: dict[Op, Handler] = {
    Op.CREATE: Create(),
    Op.UPDATE: Update(),
    Op.ADOPT: Adopt(),
    Op.KEEP: Keep(),
    Op.DELETE: Delete(),
    Op.DISMISS: Dismiss(),
    Op.DONE: Done(),
    Op.FORGET: Forget(),
}


def count(report: ApplyReport, actions: Iterable[Action]) -> None:
    """What `apply` would count for `actions`, without running them (a dry run)."""
    for action in actions:
        _add(report, HANDLERS[action.op].counts)


def apply(
    actions: Iterable[Action],
    out: Writer,
    calendar: str,
    ledger: Mapping[str, LedgerEntry],
    suggestions: Mapping[str, Suggestion],
    extra: Mapping[str, dict[str, Any]],
    report: ApplyReport,
) -> None:
    """Run each action's handler in order, counting what was done into `report`.

    `suggestions` and `extra` (the weekly event's detail) give each key's detail.
    """
    for action in actions:
        entry = ledger.get(action.key)
        suggestion = suggestions.get(action.key)
        base = entry or LedgerEntry.new(
            action.key,
            task_uid(action.key),
            out.now,
            calendar=calendar,
            contact=suggestion.contact.email if suggestion else "",
        )
        detail = dict(base.detail)
        if suggestion is not None:
            detail.update(explanation(suggestion))
        detail.update(extra.get(action.key, {}))
        handler = HANDLERS[action.op]
        try:
            handler.run(Step(action, base, entry is not None, detail), out)
        except TaskGone:
            out.settle(base, LedgerState.DISMISSED, "dismissed")
            report.dismissed += 1
        except TaskConflict as exc:
            log.info(
                "%s: changed in the calendar while nurture worked (%s); next run re-reads",
                action.key,
                exc,
            )
            report.conflicts += 1
        else:
            _add(report, handler.counts)


def _add(report: ApplyReport, counter: str) -> None:
    if counter:
        setattr(report, counter, getattr(report, counter) + 1)


def explanation(s: Suggestion) -> dict[str, Any]:
    """What the ledger keeps of a suggestion for `nurture explain` and the report."""
    return {
        "title": s.title,
        "why": s.why,
        "action": s.action,
        "rule": s.rule,
        "tier": s.tier,
        "evidence": s.evidence,
        "message_id": s.message_id,
        "subject": s.subject,
        "due": s.due.isoformat(),
        "priority": s.priority,
        "contact_name": s.contact.name,
        "signal": s.key.origin.signal,
        "probability": s.probability,
        "reasons": list(s.reasons),
    }
