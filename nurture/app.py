"""The application: config + rules + state + connectors, and the two jobs.

`sync_mail(account)` pulls one account's mail changes into state (each batch
and its cursor in one transaction), then analyses the few candidate messages
whose text the detectors need. `reconcile()` reads the calendars, runs
detect → rules → schedule → plan, and applies the plan to the target calendar.
The CLI and the daemon both drive this object; neither does I/O of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from . import connector as registry
from . import digest, nlp, twins
from .config import Account, Config, load_config
from .connector import CalendarStore, Connector, Context, MailSource, task_uid
from .contacts import Identity
from .detect import LOOKBACK, Inputs, candidates, detect
from .errors import AuthError, CursorExpired, Problem, TaskConflict, TaskGone, UserError
from .model import UTC, CalendarTask, Kind, Suggestion, TaskRecord
from .plan import Action, Op, plan
from .rules import Rulebook, check_rules
from .schedule import Placement, busy_intervals, place
from .state import LedgerEntry, State

log = logging.getLogger(__name__)

MEETINGS_BACK = timedelta(days=120)
BODY_BATCH = 200


@dataclass(slots=True)
class ApplyReport:
    """What one reconcile did to the calendar."""

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


def _now() -> datetime:
    return datetime.now(UTC)


class App:
    """One configured nurture: load once, run jobs many times, close at the end."""

    def __init__(self, config: Config, rules: Rulebook, state: State) -> None:
        self.config = config
        self.rules = rules
        self.state = state
        self.identity = Identity(config.addresses, _names(config.user_name))
        self._connectors: dict[str, Connector] = {}
        self._rules_stamp = self._stamp()
        self.progress: Callable[[int, int | None], None] = lambda _d, _t: None

    @classmethod
    def load(cls, config_path: Path | None = None) -> App:
        """Read config.toml and the rule files; raise one UserError listing every problem."""
        config = load_config(config_path)
        rules, problems = check_rules(config.rules_dir)
        if problems:
            raise UserError(f"the rule files have {len(problems)} problem(s)", problems)
        return cls(config, rules, State.open(config.state_dir))

    def close(self) -> None:
        for conn in self._connectors.values():
            try:
                conn.close()
            except Exception as exc:
                log.debug("closing %s: %s", conn.context.account, exc)
        self._connectors.clear()
        self.state.close()

    # connectors

    def connector(self, name: str) -> Connector:
        if name not in self._connectors:
            account = self.config.account(name)
            self._connectors[name] = self._build(account)
        return self._connectors[name]

    def _build(self, account: Account) -> Connector:
        from .secrets import Secrets

        cls = registry.load(account.connector)
        secrets = Secrets(account.name, account.options, self.config.state_dir)
        cache = self.config.state_dir / "cache" / account.name
        context = Context(
            account=account.name,
            options=account.options,
            cache_dir=cache,
            secret=secrets.get,
            store_secret=lambda n, v: (secrets.set(n, v), None)[1],
            identities=self.config.addresses,
            progress=lambda done, total: self.progress(done, total),
        )
        return cls(context)

    def mail_accounts(self) -> list[str]:
        return [a.name for a in self.config.accounts if self._mail(a.name) is not None]

    def _mail(self, name: str) -> MailSource | None:
        return self.connector(name).mail()

    def calendar_accounts(self) -> list[str]:
        return [a.name for a in self.config.accounts if self.connector(a.name).calendar()]

    def target(self) -> tuple[str, CalendarStore]:
        """The calendar that receives tasks: rules' [tasks] calendar, or the first writable."""
        wanted = self.rules.tasks.calendar
        names = [wanted] if wanted else self.calendar_accounts()
        for name in names:
            store = self.connector(name).calendar()
            if store is not None and not store.read_only:
                return name, store
        raise UserError(
            "no calendar to write tasks to",
            [
                Problem(
                    "rules [tasks] calendar",
                    f"{wanted or '(first writable)'} has no writable " "calendar",
                    "name an account with a calendar, or add one to config.toml",
                )
            ],
        )

    # job 1: mail

    def sync_mail(self, account: str, now: datetime | None = None) -> int:
        """Pull one account's mail changes, then analyse new candidates. Returns #changes."""
        now = now or _now()
        changes = self.ingest(account, now)
        self.analyse(now)
        self.state.record_status(account, now, ok=True)
        return changes

    def ingest(self, account: str, now: datetime | None = None) -> int:
        """Pull one account's mail changes into state, batch by batch. Returns #changes.

        A failure is recorded for `nurture status` (an auth failure pauses the
        account, naming the command that fixes it) and raised again.
        """
        now = now or _now()
        source = self._mail(account)
        if source is None:
            return 0
        try:
            try:
                return self._ingest(account, source, now)
            except CursorExpired as exc:
                log.warning(
                    "%s: %s — reading the mailbox again from the start (nothing is lost)",
                    account,
                    exc,
                )
                self.state.drop_cursor(account)
                return self._ingest(account, source, now)
        except AuthError as exc:
            command = exc.command or self.connector(account).auth_command()
            self.state.record_status(
                account, now, ok=False, error=f"{exc} — run `{command}`", paused=True
            )
            raise
        except Exception as exc:
            self.state.record_status(account, now, ok=False, error=str(exc)[:300])
            raise

    def _ingest(self, account: str, source: MailSource, now: datetime) -> int:
        cursor = self.state.cursor(account)
        since = now - self.config.backfill
        done = 0
        for batch in source.changes(cursor, since):
            self.state.commit_batch(account, batch.messages, batch.deleted, batch.cursor, now)
            done += len(batch.messages) + len(batch.deleted)
            self.progress(done, batch.total)
        return done

    def analyse(self, now: datetime | None = None) -> int:
        """Run the NLP on candidate messages that have no current signals yet."""
        now = now or _now()
        messages = self.state.messages(
            since=now - self.rules.tasks.forget_after - timedelta(days=30)
        )
        have = self.state.signals(version=nlp.ANALYSER_VERSION)
        todo = [
            m
            for m in candidates(messages, self.identity, self.rules, now)
            if m.message_id not in have
        ]
        if not todo:
            return 0
        reader = nlp.Reader(
            addresses=self.config.addresses,
            names=self.identity.names,
            timezone=self.rules.work.timezone,
            model=self.config.nlp_model,
        )
        by_account: dict[str, list[Any]] = {}
        for m in todo:
            account, _, ident = m.id.partition("\x1f")
            by_account.setdefault(account, []).append((ident, m))
        count = 0
        for account, items in by_account.items():
            source = self._mail(account)
            if source is None:
                continue
            for start in range(0, len(items), BODY_BATCH):
                chunk = dict(items[start : start + BODY_BATCH])
                pairs = [(chunk[i], body) for i, body in source.bodies(list(chunk))]
                results = nlp.analyse(pairs, reader)
                self.state.store_signals(
                    (m.message_id, replace(s, version=nlp.ANALYSER_VERSION))
                    for (m, _), s in zip(pairs, results, strict=True)
                )
                count += len(pairs)
        return count

    # job 2: calendar

    def suggestions(self, now: datetime | None = None) -> list[Suggestion]:
        now = now or _now()
        inputs = Inputs(
            messages=self.state.messages(since=now - LOOKBACK),
            signals=self.state.signals(),
            meetings=self.state.meetings(),
            rules=self.rules,
            identity=self.identity,
            now=now,
        )
        return detect(inputs)

    def _read_calendars(self, now: datetime) -> list[tuple[datetime, datetime]]:
        start, end = now - MEETINGS_BACK, now + self.rules.tasks.horizon + timedelta(days=1)
        spans: list[tuple[datetime, datetime, bool]] = []
        for name in self.calendar_accounts():
            store = self.connector(name).calendar()
            assert store is not None
            events = list(store.events(start, end))
            self.state.store_meetings(name, start, end, events)
            spans += [(e.start, e.end, e.busy and not e.cancelled) for e in events if e.end > now]
        return busy_intervals(spans)

    def reconcile(self, now: datetime | None = None, dry_run: bool = False) -> ApplyReport:
        """Bring the target calendar in line with the nudges that hold now.

        With ``[report] weekly`` set, the week's report event joins the nudges
        (`nurture.digest`): same plan, same ledger, at its fixed time.
        """
        now = now or _now()
        calendar_name, store = self.target()
        busy = self._read_calendars(now)
        records, held = twins.by_key(store.tasks(), calendar_name)  # held: 2+ objects, one key
        ledger = self.state.ledger()
        weekly = self._weekly(now, ledger, records, dry_run)
        busy = sorted([*busy, *weekly.busy])
        suggestions = self.suggestions(now)
        pinned = {}
        previous = {}
        for key, record in records.items():
            entry = ledger.get(key)
            if (
                entry is not None
                and entry.state == "active"
                and (entry.detail.get("pinned") or record.start != entry.start)
            ):
                pinned[key] = (record.start, record.end)
            else:
                previous[key] = (record.start, record.end)
        live = [
            s
            for s in suggestions
            if not (ledger.get(s.key) and ledger[s.key].state in ("dismissed", "done"))
        ]
        placements = place(live, busy, self.rules, now, pinned=pinned, previous=previous)
        desired = {**self._tasks(placements), **weekly.tasks}
        actions = plan(
            {k: t for k, t in desired.items() if k not in held},
            {k: e for k, e in ledger.items() if k not in weekly.hold and k not in held},
            {k: r for k, r in records.items() if k not in weekly.hold},
        )
        report = ApplyReport(
            placements=placements,
            actions=actions,
            calendar=calendar_name,
            weekly_report=weekly.link,
        )
        by_key = {p.suggestion.key: p.suggestion for p in placements}
        if dry_run:
            for action in actions:
                _count(report, action.op)
            return report
        for action in actions:
            self._apply(
                store,
                calendar_name,
                action,
                by_key.get(action.key),
                ledger,
                report,
                now,
                weekly.details.get(action.key),
            )
        keep = {p.suggestion.message_id for p in placements if p.suggestion.message_id}
        self.state.forget_evidence(keep)
        return report

    def _weekly(
        self,
        now: datetime,
        ledger: dict[str, LedgerEntry],
        records: dict[str, TaskRecord],
        dry_run: bool,
    ) -> digest.WeeklyPlan:
        """The weekly report's part: its report file, its task, and past weeks retired.

        Past weeks are marked done in `ledger` (and in state unless `dry_run`),
        so the plan leaves their events on the calendar.
        """
        current = digest.slot(self.rules, now)
        pub = digest.refresh(self, now, current, write=not dry_run) if current else None
        weekly = digest.weekly_plan(self.rules, now, ledger, records, pub)
        for key in weekly.retire:
            ledger[key] = digest.retired(ledger[key], now)
            if not dry_run:
                self.state.put_ledger(ledger[key], None, now)  # no history row: not a nudge
        return weekly

    def _tasks(self, placements: list[Placement]) -> dict[str, CalendarTask]:
        if self.rules.tasks.grouping == "digest":
            return _digest_tasks(placements, self.rules)
        return {
            p.suggestion.key: CalendarTask(
                key=p.suggestion.key,
                uid=task_uid(p.suggestion.key),
                title=p.suggestion.title,
                description=describe(p.suggestion),
                start=p.start,
                end=p.end,
                kind=p.suggestion.kind,
                todo=self.rules.tasks.todo,
                url=p.suggestion.thread_link,
            )
            for p in placements
        }

    def _apply(
        self,
        store: CalendarStore,
        calendar: str,
        action: Action,
        suggestion: Suggestion | None,
        ledger: dict[str, LedgerEntry],
        report: ApplyReport,
        now: datetime,
        extra: dict[str, Any] | None = None,
    ) -> None:
        key = action.key
        entry = ledger.get(key)
        base = entry or LedgerEntry(
            key=key,
            kind=(suggestion.kind.value if suggestion else key.split(":", 1)[0]),
            contact=suggestion.contact.email if suggestion else "",
            uid=task_uid(key),
            state="creating",
            calendar=calendar,
            start=None,
            end=None,
            digest="",
            ref="",
            title="",
            detail={},
            created=now,
            updated=now,
        )
        detail = dict(base.detail)
        if suggestion is not None:
            detail.update(_detail(suggestion))
        if extra:
            detail.update(extra)
        try:
            if action.op is Op.CREATE:
                assert action.task is not None
                self._put(
                    replace(base, state="creating", detail=detail, title=action.task.title),
                    None,
                    now,
                )
                record = store.create_task(action.task)
                self._active(base, record, detail, "placed", now)
                report.created += 1
            elif action.op is Op.UPDATE:
                assert action.task is not None and action.record is not None
                record = store.update_task(action.task, action.record)
                if action.snoozed:
                    detail["pinned"] = True
                self._active(
                    base,
                    record,
                    detail,
                    "snoozed" if action.snoozed and not base.detail.get("pinned") else "updated",
                    now,
                )
                report.updated += 1
            elif action.op is Op.ADOPT:
                assert action.record is not None
                if action.snoozed:
                    detail["pinned"] = True
                self._active(
                    base,
                    action.record,
                    detail,
                    "placed" if entry is None or entry.state != "creating" else None,
                    now,
                )
            elif action.op is Op.KEEP:
                assert action.record is not None
                if action.snoozed and not base.detail.get("pinned"):
                    detail["pinned"] = True
                    self._active(base, action.record, detail, "snoozed", now)
                report.unchanged += 1
            elif action.op is Op.DELETE:
                assert action.record is not None
                store.delete_task(action.record)
                self._put(replace(base, state="resolved", updated=now), "resolved", now)
                report.removed += 1
            elif action.op is Op.DISMISS:
                self._put(replace(base, state="dismissed", updated=now), "dismissed", now)
                report.dismissed += 1
            elif action.op is Op.DONE:
                self._put(replace(base, state="done", updated=now), "done", now)
                report.done += 1
            elif action.op is Op.FORGET:
                if base.state == "active":
                    self._put(replace(base, state="resolved", updated=now), "resolved", now)
                else:
                    self.state.delete_ledger(key)
        except TaskGone:
            self._put(replace(base, state="dismissed", updated=now), "dismissed", now)
            report.dismissed += 1
        except TaskConflict as exc:
            log.info(
                "%s: changed in the calendar while nurture worked (%s); next run re-reads", key, exc
            )
            report.conflicts += 1

    def _active(
        self,
        base: LedgerEntry,
        record: TaskRecord,
        detail: dict[str, Any],
        action: str | None,
        now: datetime,
    ) -> None:
        self._put(
            replace(
                base,
                state="active",
                start=record.start,
                end=record.end,
                digest=record.digest,
                ref=record.ref,
                title=record.title or base.title,
                detail=detail,
                updated=now,
            ),
            action,
            now,
        )

    def _put(self, entry: LedgerEntry, action: str | None, now: datetime) -> None:
        """Write a ledger entry; its history row only for nudges, which the report counts."""
        self.state.put_ledger(entry, None if digest.is_weekly(entry.key) else action, now)

    # commands

    def dismiss(self, key: str, now: datetime | None = None) -> bool:
        """Dismiss `key` for good and take its task off the calendar."""
        now = now or _now()
        ledger = self.state.ledger()
        entry = ledger.get(key)
        _, store = self.target()
        for record in store.tasks():
            if record.key == key:
                store.delete_task(record)
        base = entry or LedgerEntry(
            key,
            key.split(":", 1)[0],
            "",
            task_uid(key),
            "dismissed",
            "",
            None,
            None,
            "",
            "",
            "",
            {},
            now,
            now,
        )
        self.state.put_ledger(replace(base, state="dismissed", updated=now), "dismissed", now)
        return entry is not None

    def reload_rules(self) -> list[Problem]:
        """Re-read the rule files; keep the last good rulebook if they have problems."""
        rules, problems = check_rules(self.config.rules_dir)
        self._rules_stamp = self._stamp()
        if not problems:
            self.rules = rules
        return problems

    def rules_changed(self) -> bool:
        return self._stamp() != self._rules_stamp

    def _stamp(self) -> tuple[tuple[str, int], ...]:
        folder = self.config.rules_dir
        if not folder.is_dir():
            return ()
        return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.toml")))

    def record_account_status(
        self, account: str, *, ok: bool, error: str = "", paused: bool = False
    ) -> None:
        self.state.record_status(account, _now(), ok=ok, error=error, paused=paused)


def _names(full: str) -> tuple[str, ...]:
    parts = full.split()
    return tuple(dict.fromkeys([full, *parts[:1]])) if full else ()


def _count(report: ApplyReport, op: Op) -> None:
    if op is Op.CREATE:
        report.created += 1
    elif op is Op.UPDATE:
        report.updated += 1
    elif op is Op.DELETE:
        report.removed += 1
    elif op is Op.KEEP:
        report.unchanged += 1
    elif op is Op.DISMISS:
        report.dismissed += 1
    elif op is Op.DONE:
        report.done += 1


def _detail(s: Suggestion) -> dict[str, Any]:
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
        "signal": _signal_name(s),
    }


def _signal_name(s: Suggestion) -> str:
    kind = s.key.split(":", 1)[0]
    return {
        "reply": "asks",
        "follow-up": "asks",
        "promise": "commitments",
        "recover": "tone",
        "recap": "meeting",
        "reconnect": "cadence",
    }.get(kind, kind)


def describe(s: Suggestion) -> str:
    """The task's description: why, the evidence, what to do, how to open the thread."""
    lines = [s.why, ""]
    if s.evidence and s.kind is not Kind.RECONNECT:
        lines += [f"“{s.evidence}”", ""]
    lines += [f"Suggested: {s.action}", ""]
    if s.thread_link:
        lines.append(f"Open: {s.thread_link}")
    if s.message_id:
        lines.append(f"Message-ID: <{s.message_id}>")
    lines += ["", "Move this event to snooze it; delete it to dismiss. " f"(nurture {s.key})"]
    return "\n".join(lines)


def _digest_tasks(placements: list[Placement], rules: Rulebook) -> dict[str, CalendarTask]:
    """One block a day listing that day's nudges, at `digest_at`."""
    zone = rules.work.zone
    days: dict[Any, list[Placement]] = {}
    for p in placements:
        days.setdefault(p.start.astimezone(zone).date(), []).append(p)
    tasks = {}
    for day, items in sorted(days.items()):
        key = f"digest:{day.isoformat()}"
        start = datetime.combine(day, rules.tasks.digest_at, zone)
        length = min(rules.tasks.length * len(items), timedelta(hours=2))
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
