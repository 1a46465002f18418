"""The weekly report on the calendar: one event a week that links to the latest report.

Off unless the rules set ``[report] weekly = "fri 16:00"``. When it is on, each
reconcile (the daemon's, or ``nurture sync``) does two things.

It keeps the relationship report (`nurture.report`) as HTML in the state
folder: ``reports/latest.html`` and one copy per review day
(``reports/2026-11-27.html``), mode 0600 in a 0700 folder, because the report
names people, addresses and subjects. The report is made again only when a
day has passed since it was made, when the review time has come, or when the
rules changed its period (`stale`); otherwise the files are left alone, so a
rerun writes nothing. The files are read and written by `nurture.publish`, in
the application layer; this module is pure: rules, time and ledger in, the
week's slot, task and plan out.

And it wants ONE calendar task for the week's review, keyed ``report:<ISO
week>`` (``report:2026-W48``). That task goes through the same plan, ledger
and connector path as every nudge, so it carries nurture's marker, a rerun
changes nothing, a changed summary updates the same event, and the user wins:
moved, it is that week's review at the user's time; deleted, that week is
dismissed — the key names the week, so next week's comes back.

The time is fixed: exactly the weekday and time the user chose, in the [work]
time zone, even outside working hours or over a meeting, and it does not
count against the daily budget. A review the user scheduled is not a nudge
competing for room; nudges are placed around it instead.

A week's event whose time has passed is retired in the ledger (``done``, with
no history row, since it is not a nudge) and left on the calendar as a record.
Turning the setting off removes the upcoming event (the plan deletes what is
no longer wanted); past events and the report files stay.

The event's description holds the report's one-line summary — counts only,
never message text — and a ``file://`` link, also set as the event's URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from .connector import task_uid
from .model import UTC, CalendarTask, Kind, LedgerEntry, LedgerState, NudgeKey, Origin, TaskRecord
from .rules import Rulebook

TITLE = "nurture: weekly relationship report"

Interval = tuple[datetime, datetime]


def is_weekly(key: str) -> bool:
    """Whether `key` names a weekly report event (not a nudge)."""
    return key.startswith(f"{Origin.REPORT.value}:")


def week_key(day: date) -> NudgeKey:
    """The task key for the ISO week that holds `day`: one event, one decision, per week."""
    iso = day.isocalendar()
    return NudgeKey(Origin.REPORT, f"{iso.year}-W{iso.week:02d}")


@dataclass(frozen=True, slots=True)
class Slot:
    """One week's review: its key and its time (UTC)."""

    key: NudgeKey
    start: datetime
    end: datetime


def slot(rules: Rulebook, now: datetime) -> Slot | None:
    """The review that is next or under way at `now`; None when the setting is off.

    This week's slot stays current until it has ended, then next week's takes over.
    """
    weekly = rules.report.weekly
    if weekly is None:
        return None
    zone = rules.work.zone
    today = now.astimezone(zone).date()
    day = today + timedelta(days=(weekly.day - today.weekday()) % 7)
    for _ in range(2):
        start = datetime.combine(day, weekly.at, zone).astimezone(UTC)
        end = start + rules.report.length
        if end > now:
            break
        day += timedelta(days=7)
    return Slot(week_key(day), start, end)


# ---- the report files -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Published:
    """The report on disk: its one-line summary, when it was made, and where it is.

    `nurture.publish` reads and writes the files; this module only decides with it.
    """

    summary: str
    made: datetime
    since: timedelta
    latest: Path
    copy: Path


def stale(pub: Published, rules: Rulebook, now: datetime, current: Slot) -> bool:
    """Whether the report should be made again before it is linked.

    Daily (a new local day), once when the review time comes, and when the
    rules changed the period; never on a rerun within the same day.
    """
    zone = rules.work.zone
    return (
        pub.since != rules.report.since
        or pub.made > now
        or pub.made.astimezone(zone).date() < now.astimezone(zone).date()
        or (current.start <= now and pub.made < current.start)
        or pub.copy.name != copy_name(current, rules)
    )


def copy_name(current: Slot, rules: Rulebook) -> str:
    """The file name of the week's copy: the review day, in the user's time zone."""
    return f"{current.start.astimezone(rules.work.zone).date().isoformat()}.html"


# ---- the calendar task --------------------------------------------------------------


def task(key: str, start: datetime, end: datetime, pub: Published, rules: Rulebook) -> CalendarTask:
    """The week's event: the summary, the link, and what moving or deleting it does."""
    link = pub.latest.as_uri()
    description = "\n".join(
        [
            pub.summary,
            "",
            f"Open: {link}",
            f"This week's copy: {pub.copy.as_uri()}",
            "",
            "The report shows names, addresses, dates and subjects only — never message text.",
            "",
            "Move this event to review at another time; delete it to skip this week "
            f"(next week's comes back). (nurture {key})",
        ]
    )
    return CalendarTask(
        key=key,
        uid=task_uid(key),
        title=TITLE,
        description=description,
        start=start,
        end=end,
        kind=Kind.REPORT,
        todo=rules.tasks.todo,
        url=link,
    )


@dataclass(frozen=True, slots=True)
class WeeklyPlan:
    """The weekly report's part of one reconcile.

    `tasks`: desired tasks to add to the nudges'. `retire`: active entries whose
    time has passed (left on the calendar, marked done). `hold`: keys the plan
    must not touch this run (no report to link yet). `busy`: the review slot,
    which nudges are placed around. `details`: ledger detail per key, for
    `nurture explain`. `link`: the report the event links to ("" when off).
    """

    tasks: dict[str, CalendarTask] = field(default_factory=dict)
    retire: tuple[str, ...] = ()
    hold: tuple[str, ...] = ()
    busy: tuple[Interval, ...] = ()
    details: dict[str, dict[str, Any]] = field(default_factory=dict)
    link: str = ""


def weekly_plan(
    rules: Rulebook,
    now: datetime,
    ledger: Mapping[str, LedgerEntry],
    records: Mapping[str, TaskRecord],
    pub: Published | None,
) -> WeeklyPlan:
    """What the weekly report wants of this reconcile. Pure: reads nothing, writes nothing."""
    ours = sorted(k for k in {*ledger, *records} if is_weekly(k))
    active = {k: e for k in ours if (e := ledger.get(k)) and e.state is LedgerState.ACTIVE}
    retire = []
    for key, entry in active.items():
        record = records.get(key)
        end = record.end if record is not None else entry.end
        if end is not None and end <= now:
            retire.append(key)
    current = slot(rules, now)
    if current is None:
        return WeeklyPlan(retire=tuple(retire))
    this_week = ledger.get(current.key)
    settled = current.key in retire or (this_week is not None and this_week.state.final)
    busy = () if settled else ((current.start, current.end),)
    if pub is None:
        hold = tuple(k for k in ours if k not in retire)
        return WeeklyPlan(retire=tuple(retire), hold=hold, busy=busy)
    wanted: dict[str, Interval] = {current.key: (current.start, current.end)}
    for key, entry in active.items():
        record = records.get(key)
        moved = record is not None and (
            record.start != entry.start or bool(entry.detail.get("pinned"))
        )
        if key != current.key and key not in retire and moved:
            assert record is not None
            wanted[key] = (record.start, record.end)  # an earlier week's, moved later by the user
    tasks = {key: task(key, start, end, pub, rules) for key, (start, end) in wanted.items()}
    details = {
        key: {
            "title": TITLE,
            "why": pub.summary,
            "action": "Look through the week's relationship report.",
            "due": start.isoformat(),
            "report": str(pub.latest),
        }
        for key, (start, _) in wanted.items()
    }
    return WeeklyPlan(
        tasks=tasks,
        retire=tuple(retire),
        busy=busy,
        details=details,
        link=pub.latest.as_uri(),
    )


def retired(entry: LedgerEntry, now: datetime) -> LedgerEntry:
    """A past week's entry: done, so the plan leaves its event on the calendar."""
    return replace(entry, state=LedgerState.DONE, updated=now)
