"""The application: config + rules + state + connectors, and the two jobs.

`sync_mail(account)` pulls one account's mail changes into state (each batch
and its cursor in one transaction), then analyses the few candidate messages
whose text the detectors need (`nurture.analysis`). `reconcile()` reads the
calendars, runs detect → rules → schedule → plan, and applies the plan to the
target calendar (`nurture.apply`). `sync_all()` does both for every account,
judging each account's success or failure into its `AccountHealth`.

The CLI and the daemon both drive this object: neither talks to a provider
itself, and the CLI reads state only through `State`'s methods to show it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from . import connector as registry
from . import publish, tasks, twins, weekly
from .analysis import Analysis
from .apply import ApplyReport, Writer, apply, count
from .config import Account, Config, load_config
from .connector import CalendarStore, Connector, Context, MailSource, task_uid
from .contacts import Identity
from .deadline import Limits, TooSlow, Watch
from .detect import LOOKBACK, Inputs, candidates, detect, judge, learn
from .errors import (
    ClockBehind,
    CursorExpired,
    Problem,
    StorageError,
    UserError,
    storage_error,
)
from .health import CALENDAR, MAIL, AccountHealth
from .identity import fold_copies, known_identities, own_mail
from .lock import WriteLock
from .model import (
    UTC,
    Kind,
    LedgerEntry,
    LedgerState,
    NudgeKey,
    Origin,
    Suggestion,
    TaskRecord,
)
from .personal import Personal
from .plan import deleted, plan
from .rules import Rulebook, check_rules
from .schedule import busy_intervals, place
from .state import State

log = logging.getLogger(__name__)

MEETINGS_BACK = timedelta(days=120)
# How far the clock may stand before the last successful run before nurture refuses to
# work: an NTP step or two machines a little apart move it by seconds; a dead RTC (1970)
# or a wrong zone by hours or years, and planning then would remove every task.
CLOCK_SLACK = timedelta(minutes=5)
PERSONAL = "personal"  # the personal model's name in state

Progress = Callable[[int, int | None], None]  # (done, total) while reading an account


@dataclass(frozen=True, slots=True)
class AccountSync:
    """One mail account's part of a sync: what changed, and its health before and after."""

    account: str
    changes: int
    before: AccountHealth
    health: AccountHealth
    error: Exception | None = None


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What `App.sync_all` did: each mail account's sync, then the calendar's reconcile.

    `late` are the accounts not started because the sync had run out of time
    (`Limits.sync`); the next sync reads them.
    """

    mail: tuple[AccountSync, ...]
    calendar: ApplyReport | None
    late: tuple[str, ...] = ()

    @property
    def problems(self) -> list[str]:
        """One line per mail account that failed, with what fixes it."""
        return [f"{s.account}: {s.health.problem}" for s in self.mail if not s.health.ok] + [
            f"{account}: not read this time (the sync ran out of time); the next sync reads it"
            for account in self.late
        ]


def _now() -> datetime:
    return datetime.now(UTC)


class App:
    """One configured nurture: load once, run jobs many times, close at the end."""

    def __init__(self, config: Config, rules: Rulebook, state: State) -> None:
        self.config = config
        self.rules = rules
        self.state = state
        self.identity = Identity(config.addresses, _names(config.user_name), config.shared)
        self._connectors: dict[str, Connector] = {}
        self._rules_stamp = self._stamp()
        self.progress: Progress = lambda _d, _t: None
        # This App's view of each account's health per role; state keeps it for `status`.
        self.health: dict[tuple[str, str], AccountHealth] = {}
        self.limits = Limits()
        self._watch: Watch | None = None  # the account sync under way, if any

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

    def sync_all(
        self,
        now: datetime | None = None,
        *,
        dry_run: bool = False,
        accounts: Sequence[str] | None = None,
        reconcile: bool = True,
        progress: Callable[[str], AbstractContextManager[Progress]] | None = None,
    ) -> SyncReport:
        """Sync each mail account, then bring the calendar up to date.

        Each account's failure stays its own: it is judged into that account's
        `AccountHealth` (kept for `nurture status`, except in a dry run) and the
        others go on. Each account works under `self.limits` (`nurture.deadline`): one
        whose server stops making progress is cut off and backs off; a clock before the
        last successful run fails every account and changes nothing (`ClockBehind`).
        `accounts` limits the mail part (the daemon syncs one at a time); `reconcile`
        False skips the calendar. `progress(account)` gives a progress callback for one
        account's reading (the CLI's progress bar).
        """
        now = now or _now()
        synced = []
        late = []
        started = time.monotonic()
        for account in self.mail_accounts() if accounts is None else accounts:
            left = self.limits.sync.total_seconds() - (time.monotonic() - started)
            if left <= 0:
                late.append(account)
                continue
            budget = min(self.limits.account.total_seconds(), left)
            with progress(account) if progress else nullcontext(self.progress) as update:
                synced.append(
                    self._sync_account(account, now, update, record=not dry_run, budget=budget)
                )
        if late:
            log.warning("the sync ran out of time; not read this time: %s", ", ".join(late))
        calendar = self.reconcile(now, dry_run=dry_run) if reconcile else None
        return SyncReport(tuple(synced), calendar, tuple(late))

    def _sync_account(
        self, account: str, now: datetime, update: Progress, *, record: bool, budget: float
    ) -> AccountSync:
        """Sync one account under its time limits (`nurture.deadline`), judge its health."""
        before = self.health.get((account, MAIL)) or AccountHealth(account, MAIL)
        watch = Watch(self.limits.quiet.total_seconds(), budget, self._interrupt)

        def report(done: int, total: int | None) -> None:
            watch.alive()
            update(done, total)

        previous, self.progress, self._watch = self.progress, report, watch
        try:
            with watch:
                self._check_clock(now)
                changes = self.sync_mail(account, now)
        except Exception as exc:  # AuthError, TransientError, or anything from a connector
            error: Exception = exc
            if watch.fired:  # the connection was cut because it made no progress
                error = TooSlow(account, self.limits.quiet)
                error.__cause__ = exc
            after = before.failed(error, now, command=self._auth_command(account))
            self._keep(after, record)
            return AccountSync(account, 0, before, after, error)
        finally:
            self.progress, self._watch = previous, None
        self._keep(before.succeeded(now), record)
        return AccountSync(account, changes, before, self.health[(account, MAIL)])

    def _interrupt(self) -> None:
        """Cut every open connection (from the watch's thread): only one sync runs at a
        time, and a connector that was idle simply reconnects on its next use."""
        for conn in list(self._connectors.values()):
            try:
                conn.interrupt()
            except Exception as exc:
                log.debug("interrupting %s: %s", conn.context.account, exc)

    def _alive(self) -> None:
        if self._watch is not None:
            self._watch.alive()

    def _keep(self, health: AccountHealth, record: bool) -> None:
        self.health[(health.account, health.role)] = health
        if record:
            try:
                self.state.record_health(health)
            except StorageError as exc:  # the state's disk is full: the next write says so
                log.debug("%s: %s not recorded: %s", health.account, health.role, exc)

    @contextmanager
    def _calendar_io(
        self, name: str, now: datetime, record: bool, *, ok_after: bool = True
    ) -> Iterator[None]:
        """Judge one calendar account's reading or writing into its health, like mail's;
        a failure is kept for `nurture status` and raised again (the reconcile stops).
        `ok_after` False: a step that cannot tell the calendar works judges failures only."""
        before = self.health.get((name, CALENDAR)) or AccountHealth(name, CALENDAR)
        try:
            yield
        except Exception as exc:
            error = _calendar_fault(exc, name, self.config.account(name).options) or exc
            self._keep(before.failed(error, now, command=self._auth_command(name)), record)
            if error is exc:
                raise
            raise error from exc
        if ok_after:
            self._keep(before.succeeded(now), record)

    def _check_clock(self, now: datetime) -> None:
        """Raise `ClockBehind` when `now` is before the last successful run by more than
        `CLOCK_SLACK`: asks would lie "in the future", and every task would be removed."""
        last = self.state.last_success()
        if last is not None and now < last - CLOCK_SLACK:
            raise ClockBehind(last)

    def _auth_command(self, account: str) -> str:
        """What fixes `account`'s sign-in, as its connector says (``nurture auth NAME ACCOUNT``)."""
        try:
            return self.connector(account).auth_command()
        except Exception:  # no connector to ask (it failed to load): the generic form
            return ""

    def sync_mail(self, account: str, now: datetime | None = None) -> int:
        """Pull one account's mail changes, then analyse new candidates. Returns #changes.

        Raises what the connector raised; `sync_all` judges it into the account's health.
        """
        now = now or _now()
        changes = self.ingest(account, now)
        self.analyse(now)
        return changes

    def ingest(self, account: str, now: datetime | None = None) -> int:
        """Pull one account's mail changes into state, batch by batch. Returns #changes.

        An expired cursor is dropped and the mailbox read again from the start.
        """
        now = now or _now()
        source = self._mail(account)
        if source is None:
            return 0
        try:
            return self._ingest(account, source, now)
        except CursorExpired as exc:
            log.warning(
                "%s: %s — reading the mailbox again from the start (nothing is lost)", account, exc
            )
            self.state.drop_cursor(account)
            return self._ingest(account, source, now)

    def _ingest(self, account: str, source: MailSource, now: datetime) -> int:
        cursor = self.state.cursor(account)
        since = now - self.config.backfill
        done = 0
        batches = source.changes(cursor, since)
        for batch in batches:
            self.state.commit_batch(account, batch.messages, batch.deleted, batch.cursor, now)
            done += len(batch.messages) + len(batch.deleted)
            self.progress(done, batch.total)
            if self._watch is not None and self._watch.spent:
                log.info(
                    "%s: %d change(s) read in this account's time; the next sync goes on",
                    account,
                    done,
                )
                stop = getattr(batches, "close", None)  # a generator: let it tidy up now
                if stop is not None:
                    stop()
                break
        return done

    def analyse(self, now: datetime | None = None) -> int:
        """Run the NLP on candidate messages that have no current signals yet."""
        return self._analysis().candidates(now or _now())

    def analyse_period(
        self, since: datetime, now: datetime, announce: Callable[[int], None] | None = None
    ) -> int:
        """Run the NLP, scores only, on the period's mail the report needs (`Analysis.period`)."""
        return self._analysis().period(since, now, announce)

    def _analysis(self) -> Analysis:
        return Analysis(
            self.state,
            self.rules,
            self.identity,
            self.config.nlp_model,
            self._mail,
            alive=self._alive,
        )

    # job 2: calendar

    def suggestions(self, now: datetime | None = None) -> list[Suggestion]:
        """What the detectors find now (`_inputs`)."""
        return detect(self._inputs(now or _now()))

    def needs_reply(self, now: datetime | None = None) -> dict[str, float]:
        """Message-ID → how much nurture believes it needs the user's reply now, for
        every inbound message that reached the user within the forget window
        (`detect.judge`: 0 for one it judged answered or not the user's)."""
        return {mid: j.probability for mid, j in judge(self._inputs(now or _now())).items()}

    def _inputs(self, now: datetime, *, learn_now: bool = True, keep: bool = True) -> Inputs:
        """What detection reads at `now`: the mail as `nurture.identity` settles it (the
        user's mail only where it is theirs, each text stored twice read once), with the
        personal model (trained again when a day old, and kept in state unless `keep` is
        False)."""
        signals = self.state.signals()
        mail = own_mail(
            self.state.messages(since=now - LOOKBACK),
            self.identity,
            self.state.accounts_with_sent(),
        )
        inputs = Inputs(
            messages=fold_copies(mail, signals, known_identities(self.state.ledger())),
            signals=signals,
            meetings=self.state.meetings(),
            rules=self.rules,
            identity=self.identity,
            now=now,
        )
        return replace(inputs, personal=self._personal(inputs, learn_now=learn_now, keep=keep))

    def _personal(self, inputs: Inputs, *, learn_now: bool, keep: bool) -> Personal | None:
        """The stored personal model; trained again first when it is missing or stale."""
        stored = self.state.personal(PERSONAL)
        model = Personal.from_json(stored[1]) if stored is not None else None
        if learn_now and (model is None or model.stale(inputs.now)):
            began = time.monotonic()
            model = learn(inputs)
            log.info(
                "personal model trained in %.1f s: what you answer %s; what others answer %s",
                time.monotonic() - began,
                f"from {model.reply.rows} messages"
                if model.reply
                else "not learned yet (too little mail)",
                f"from {model.follow.rows} messages"
                if model.follow
                else "not learned yet (too little mail)",
            )
            if keep:
                self.state.store_personal(PERSONAL, model.trained, model.to_json())
        return model if model is not None and (model.reply or model.follow) else None

    def _read_calendars(self, now: datetime, record: bool) -> list[tuple[datetime, datetime]]:
        start, end = now - MEETINGS_BACK, now + self.rules.tasks.horizon + timedelta(days=1)
        spans: list[tuple[datetime, datetime, bool]] = []
        for name in self.calendar_accounts():
            store = self.connector(name).calendar()
            assert store is not None
            with self._calendar_io(name, now, record):
                events = list(store.events(start, end))
            self.state.store_meetings(name, start, end, events)
            spans += [(e.start, e.end, e.busy and not e.cancelled) for e in events if e.end > now]
        return busy_intervals(spans)

    def reconcile(self, now: datetime | None = None, dry_run: bool = False) -> ApplyReport:
        """Bring the target calendar in line with the nudges that hold now.

        With ``[report] weekly`` set, the week's report event joins the nudges
        (`nurture.weekly`): same plan, same ledger, at its fixed time. Unless `dry_run`,
        under the `WriteLock`: a dismissal never falls between its reading the ledger
        and its writing.
        """
        with nullcontext() if dry_run else self._writing():
            return self._reconcile(now or _now(), dry_run)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the state folder's `WriteLock`: waits `limits.writer`, then `Busy`."""
        lock = WriteLock(self.config.state_dir).acquire(self.limits.writer.total_seconds())
        try:
            yield
        finally:
            lock.release()

    def _reconcile(self, now: datetime, dry_run: bool) -> ApplyReport:
        calendar_name, store = self.target()
        with self._calendar_io(calendar_name, now, record=not dry_run, ok_after=False):
            self._check_clock(now)
        busy = self._read_calendars(now, record=not dry_run)
        with self._calendar_io(calendar_name, now, record=not dry_run):
            # held: two or more objects under one key, reported and left alone
            records, held = twins.by_key(store.tasks(), calendar_name)
        ledger = self.state.ledger()
        week = self._weekly(now, ledger, records, dry_run)
        busy = sorted([*busy, *week.busy])
        inputs = self._inputs(now, keep=not dry_run)
        suggestions = detect(inputs)
        pinned = {}
        previous = {}
        for key, record in records.items():
            entry = ledger.get(key)
            if (
                entry is not None
                and entry.state is LedgerState.ACTIVE
                and (entry.detail.get("pinned") or record.start != entry.start)
            ):
                pinned[key] = (record.start, record.end)
            else:
                previous[key] = (record.start, record.end)
        pinned.update(_snoozes_to_restore(ledger, records, now))
        pinned.update(_pins_passed_on(suggestions, pinned, now))
        gone = deleted(ledger, records)  # by the user: dismissed below, never placed again
        live = [
            s
            for s in suggestions
            if not ((entry := ledger.get(s.key)) and entry.state.final) and s.key not in gone
        ]
        placements = place(live, busy, self.rules, now, pinned=pinned, previous=previous)
        desired = {**tasks.desired(placements, self.rules), **week.tasks}
        actions = plan(
            {k: t for k, t in desired.items() if k not in held},
            {k: e for k, e in ledger.items() if k not in week.hold and k not in held},
            {k: r for k, r in records.items() if k not in week.hold},
            wanted={s.key for s in suggestions} & gone,
        )
        report = ApplyReport(
            placements=placements,
            actions=actions,
            calendar=calendar_name,
            weekly_report=week.link,
        )
        if dry_run:
            count(report, actions)
            return report
        with self._calendar_io(calendar_name, now, record=True):
            apply(
                actions,
                Writer(self.state, store, now),
                calendar_name,
                ledger,
                {p.suggestion.key: p.suggestion for p in placements},
                week.details,
                report,
            )
        # Sentences stay for what a nudge rests on now or may rest on later (a candidate
        # not yet due), so a task that comes due on a later run still quotes its why.
        keep = {p.suggestion.message_id for p in placements if p.suggestion.message_id}
        keep |= {m.message_id for m in candidates(inputs.messages, self.identity, self.rules, now)}
        self.state.forget_evidence(keep)
        return report

    def _weekly(
        self,
        now: datetime,
        ledger: dict[str, LedgerEntry],
        records: dict[str, TaskRecord],
        dry_run: bool,
    ) -> weekly.WeeklyPlan:
        """The weekly report's part: its report file, its task, and past weeks retired.

        Past weeks are marked done in `ledger` (and in state unless `dry_run`),
        so the plan leaves their events on the calendar.
        """
        current = weekly.slot(self.rules, now)
        pub = None
        if current is not None:
            pub = publish.refresh(
                publish.folder(self.config.state_dir.resolve()),
                self.state,
                self.rules,
                self.config.addresses,
                now,
                current,
                analyse=None if dry_run else self._analyse_for_report,
            )
        wanted = weekly.weekly_plan(self.rules, now, ledger, records, pub)
        for key in wanted.retire:
            ledger[key] = weekly.retired(ledger[key], now)
            if not dry_run:
                self.state.put_ledger(ledger[key], None, now)  # no history row: not a nudge
        return wanted

    def _analyse_for_report(self, now: datetime, period: timedelta) -> None:
        self.analyse(now)  # nudge candidates first, with their sentences; then the rest
        self.analyse_period(now - period, now)

    # commands

    def dismiss(self, key: str, now: datetime | None = None) -> bool:
        """Dismiss `key` for good and take its task off the calendar, under the
        `WriteLock` (`Busy` when a reconcile holds it longer than `limits.writer`)."""
        now = now or _now()
        with self._writing():
            ledger = self.state.ledger()
            entry = ledger.get(key)
            _, store = self.target()
            for record in store.tasks():
                if record.key == key:
                    store.delete_task(record)
            base = entry or LedgerEntry.new(key, task_uid(key), now, state=LedgerState.DISMISSED)
            self.state.put_ledger(
                replace(base, state=LedgerState.DISMISSED, updated=now), "dismissed", now
            )
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
        """Each rule file's name and change time: a different stamp means reload.

        A link whose target is gone (or any file that cannot be looked at) counts
        with the link's own time: reloading then names the problem, file and all.
        """
        folder = self.config.rules_dir
        try:
            paths = list(folder.glob("*.toml")) if folder.is_dir() else []
        except OSError:
            return ()
        stamps = []
        for path in paths:
            try:
                stamps.append((path.name, path.stat().st_mtime_ns))
            except OSError:
                try:
                    stamps.append((path.name, -path.lstat().st_mtime_ns))
                except OSError:
                    continue  # gone between the listing and now: the next tick sees it
        return tuple(sorted(stamps))


def _calendar_fault(
    exc: BaseException, account: str, options: Mapping[str, Any]
) -> StorageError | None:
    """A local calendar's full disk or read-only folder, said with what to do."""
    if not isinstance(exc, OSError):
        return None
    if isinstance(exc.filename, str):
        folder = os.path.dirname(exc.filename)
    else:  # a write that failed part-way names no file: the account's calendar option does
        folder = str(options.get("calendar") or "")
    return storage_error(
        exc, f"calendar {account}", folder or account, f"calendar in [accounts.{account}]"
    )


def _snoozes_to_restore(
    ledger: dict[str, LedgerEntry], records: dict[str, TaskRecord], now: datetime
) -> dict[str, tuple[datetime, datetime]]:
    """The user's snoozed times of tasks taken off the calendar (resolved) that are still
    ahead: a task that comes back returns at the time the user chose, not a default slot."""
    return {
        key: (entry.start, entry.end)
        for key, entry in ledger.items()
        if key not in records
        and entry.state is LedgerState.RESOLVED
        and entry.detail.get("pinned")
        and entry.start is not None
        and entry.end is not None
        and entry.start > now
    }


def _pins_passed_on(
    suggestions: Sequence[Suggestion],
    pinned: Mapping[str, tuple[datetime, datetime]],
    now: datetime,
) -> dict[str, tuple[datetime, datetime]]:
    """The user's times for reply tasks that moved to a newer message of the same person.

    A reply task names a person's newest open message and lists the older ones
    (`Suggestion.waiting`); when they write again, the task moves to the new message
    under a new key. A time the user chose for the old task (a snooze) still ahead is
    kept for the new one, so one more message from Dana does not undo "not before
    Friday".
    """
    passed: dict[str, tuple[datetime, datetime]] = {}
    for s in suggestions:
        if s.key in pinned or s.kind is not Kind.REPLY:
            continue
        chosen = [
            pinned[old]
            for mid in s.waiting
            if (old := NudgeKey(Origin.REPLY, mid)) in pinned and pinned[old][0] > now
        ]
        if chosen:
            passed[s.key] = max(chosen)
    return passed


def _names(full: str) -> tuple[str, ...]:
    parts = full.split()
    return tuple(dict.fromkeys([full, *parts[:1]])) if full else ()
