"""A Hypothesis state machine over the whole loop: mail arrives, the user acts in the
calendar, nurture crashes mid-write and reruns. The invariants are DESIGN.md's promises."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import icalendar
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from nurture.app import App
from nurture.connector import MARKER
from nurture.state import State

from .conftest import NOW, Setup

CONTACTS = ["dana@client.example", "sam@other.example", "jo@third.example"]


class Crash(Exception):
    pass


class CalendarLoop(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp())
        self.setup = Setup(self.tmp, rules='[tasks]\nas = "todo"\ndaily_budget = 20\n')
        foreign = self.setup.calendar / "dentist.ics"
        foreign.write_bytes(
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//me//EN\r\nBEGIN:VEVENT\r\n"
            b"UID:dentist@me\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261123T100000Z\r\n"
            b"DTEND:20261123T110000Z\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
        self.foreign = foreign.read_bytes()
        self.open_asks: dict[str, str] = {}  # message id → contact
        self.dismissed: set[str] = set()
        self.done: set[str] = set()
        self.now = NOW

    def teardown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _tasks(self) -> dict[str, icalendar.Component]:
        found = {}
        for path in self.setup.calendar.glob("*.ics"):
            cal = icalendar.Calendar.from_ical(path.read_bytes())
            for comp in cal.walk():
                if MARKER in comp:
                    assert str(comp[MARKER]) not in found, "duplicate task"
                    found[str(comp[MARKER])] = comp
        return found

    def _path(self, key: str) -> Path:
        for path in self.setup.calendar.glob("*.ics"):
            if key.encode() in path.read_bytes():
                return path
        raise AssertionError(key)

    def _run(self, crash_after_write: bool = False) -> None:
        app = App.load(self.setup.root / "config.toml")
        try:
            app.sync_all(self.now, reconcile=False)
            if crash_after_write:
                original = app.state.put_ledger
                calls = {"n": 0}

                def flaky(entry, action, now):  # type: ignore[no-untyped-def]
                    # the write-ahead "creating" entry goes through; the commit after the
                    # calendar write does not, as if the process died in between
                    if entry.state == "active":
                        calls["n"] += 1
                        raise Crash()
                    original(entry, action, now)

                app.state.put_ledger = flaky  # type: ignore[method-assign]
                with contextlib.suppress(Crash):
                    app.reconcile(self.now)
            else:
                app.reconcile(self.now)
        finally:
            app.close()

    @rule(contact=st.sampled_from(CONTACTS), age=st.integers(min_value=3, max_value=10))
    def inbound_question(self, contact: str, age: int) -> None:
        mid = self.setup.ask(who=contact, days_ago=age, subject=f"Question {len(self.open_asks)}")
        self.open_asks[mid] = contact

    @precondition(lambda self: self.open_asks)
    @rule(data=st.data())
    def user_replies(self, data: st.DataObject) -> None:
        mid = data.draw(st.sampled_from(sorted(self.open_asks)))
        self.setup.reply(mid, to=self.open_asks.pop(mid), days_ago=0.01)

    @precondition(lambda self: self._tasks())
    @rule(data=st.data())
    def user_deletes_task(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self._tasks())))
        self._path(key).unlink()
        self.dismissed.add(key)

    @precondition(lambda self: self._tasks())
    @rule(data=st.data(), days=st.integers(min_value=1, max_value=5))
    def user_moves_task(self, data: st.DataObject, days: int) -> None:
        key = data.draw(st.sampled_from(sorted(self._tasks())))
        path = self._path(key)
        cal = icalendar.Calendar.from_ical(path.read_bytes())
        for comp in cal.walk():
            if MARKER in comp:
                start = comp.decoded("dtstart") + timedelta(days=days)
                end = comp.decoded("due") + timedelta(days=days)
                del comp["dtstart"], comp["due"]
                comp.add("dtstart", start)
                comp.add("due", end)
        path.write_bytes(cal.to_ical())

    @precondition(lambda self: self._tasks())
    @rule(data=st.data())
    def user_completes_task(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self._tasks())))
        path = self._path(key)
        cal = icalendar.Calendar.from_ical(path.read_bytes())
        for comp in cal.walk():
            if MARKER in comp:
                comp["status"] = "COMPLETED"
        path.write_bytes(cal.to_ical())
        self.done.add(key)

    @rule()
    def rerun(self) -> None:
        self._run()

    @rule()
    def crash_between_calendar_write_and_ledger(self) -> None:
        self._run(crash_after_write=True)

    @rule()
    def time_passes(self) -> None:
        self.now += timedelta(hours=7)

    @invariant()
    def foreign_event_untouched(self) -> None:
        assert (self.setup.calendar / "dentist.ics").read_bytes() == self.foreign

    @invariant()
    def no_duplicates_and_no_resurrection(self) -> None:
        tasks = self._tasks()  # asserts no duplicate keys
        assert not (set(tasks) & self.dismissed), "a dismissed task came back"

    @invariant()
    def ledger_agrees_after_clean_rerun(self) -> None:
        # checked on a copy, so the machine's own sequence is not disturbed
        self._run()
        tasks = self._tasks()
        state = State.open(self.setup.root / "state")
        try:
            ledger = state.ledger()
        finally:
            state.close()
        active = {k for k, e in ledger.items() if e.state == "active"}
        open_tasks = {k for k, c in tasks.items() if str(c.get("status", "")) != "COMPLETED"}
        assert open_tasks == active
        for key in self.dismissed:  # a task completed first stays done when deleted later
            assert ledger[key].state in (
                ("dismissed", "done") if key in self.done else ("dismissed",)
            )
        for key in self.done - self.dismissed:
            assert ledger[key].state in ("done", "dismissed")
        for key in active:
            assert key.removeprefix("reply:") in self.open_asks, f"resolved task {key} kept"


CalendarLoop.TestCase.settings = settings(
    max_examples=12,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCalendarLoop = CalendarLoop.TestCase
