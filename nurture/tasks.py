"""The calendar tasks nurture wants for the nudges it placed. Pure.

One task per placed nudge, whose description says why, the evidence, what to
do and how to open the thread; or, with ``grouping = "digest"`` in the rules,
one block a day at ``digest_at`` listing that day's nudges (key
``digest:<date>``: the user's word for it, kept in the key so that existing
blocks keep their UIDs).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from .connector import task_uid
from .identity import header_id
from .model import CalendarTask, Kind, NudgeKey, Origin, Suggestion
from .rules import Rulebook
from .schedule import Placement

LONGEST_DIGEST = timedelta(hours=2)


def desired(placements: list[Placement], rules: Rulebook) -> dict[str, CalendarTask]:
    """The tasks for `placements`, by key, as the rules group them."""
    if rules.tasks.grouping == "digest":
        return _daily_digests(placements, rules)
    return {
        p.suggestion.key: CalendarTask(
            key=p.suggestion.key,
            uid=task_uid(p.suggestion.key),
            title=p.suggestion.title,
            description=describe(p.suggestion),
            start=p.start,
            end=p.end,
            kind=p.suggestion.kind,
            todo=rules.tasks.todo,
            url=p.suggestion.thread_link,
        )
        for p in placements
    }


def describe(s: Suggestion) -> str:
    """The task's description: why, the evidence, what to do, how to open the thread."""
    lines = [s.why, ""]
    if s.evidence and s.kind is not Kind.RECONNECT:
        lines += [f"“{s.evidence}”", ""]
    lines += [f"Suggested: {s.action}", ""]
    if s.thread_link:
        lines.append(f"Open: {s.thread_link}")
    if s.message_id:
        lines.append(f"Message-ID: <{header_id(s.message_id)}>")
    lines += ["", "Move this event to snooze it; delete it to dismiss. " f"(nurture {s.key})"]
    return "\n".join(lines)


def _daily_digests(placements: list[Placement], rules: Rulebook) -> dict[str, CalendarTask]:
    """One block a day listing that day's nudges, at `digest_at`."""
    zone = rules.work.zone
    days: dict[date, list[Placement]] = {}
    for p in placements:
        days.setdefault(p.start.astimezone(zone).date(), []).append(p)
    tasks: dict[str, CalendarTask] = {}
    for day, items in sorted(days.items()):
        key = NudgeKey(Origin.DIGEST, day.isoformat())
        start = datetime.combine(day, rules.tasks.digest_at, zone)
        length = min(rules.tasks.length * len(items), LONGEST_DIGEST)
        body = "\n\n".join(f"• {p.suggestion.title}\n  {p.suggestion.why}" for p in items)
        tasks[key] = CalendarTask(
            key=key,
            uid=task_uid(key),
            title=f"nurture: {len(items)} follow-ups today",
            description=body + "\n\nDelete this block to dismiss today's list.",
            start=start,
            end=start + length,
            kind=Kind.FOLLOW_UP,
            todo=rules.tasks.todo,
        )
    return tasks
