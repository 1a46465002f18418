"""The pure stages called directly: detect(), place() and plan(), and the apply handlers,
against an in-memory calendar (tests/memory.py) instead of a whole sync."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from nurture.apply import ApplyReport, Writer, apply, count
from nurture.connector import task_uid
from nurture.detect import Inputs, detect
from nurture.model import (
    Address,
    Ask,
    CalendarEvent,
    CalendarTask,
    Commitment,
    Kind,
    LedgerEntry,
    LedgerState,
    Message,
    NudgeKey,
    Origin,
    Signals,
    Suggestion,
)
from nurture.plan import Action, Op, plan
from nurture.rules import ContactRule, Rulebook, Tasks, Tier, Work
from nurture.schedule import busy_intervals, place
from nurture.state import State
from nurture.tasks import desired
from tests.memory import MemoryCalendar

from .letters import DANA, IDENTITY, MAUREEN, ME, NOW, RULES, SAM, D

ASKS = Signals(asks=(Ask("Could you send the renewal pricing?", 0.9),))


def mail(
    n: int, sender: Address, to: Address, at: datetime, *, reply_to: str = "", subject: str = "Q"
) -> Message:
    return Message(
        id=str(n),
        message_id=f"m{n}@test.example",
        date=at,
        sender=sender,
        to=(to,),
        subject=subject,
        in_reply_to=reply_to,
        references=(reply_to,) if reply_to else (),
        account="mail",
    )


def inputs(
    messages: list[Message],
    signals: dict[str, Signals],
    *,
    rules: Rulebook = RULES,
    meetings: tuple[CalendarEvent, ...] = (),
    now: datetime = NOW,
) -> Inputs:
    return Inputs(messages, signals, meetings, rules, IDENTITY, now)


# ---- detect ------------------------------------------------------------------------


def test_detect_finds_an_unanswered_ask_past_its_window_and_keys_it_by_message() -> None:
    ask = mail(1, DANA, ME, NOW - 3 * D)
    found = detect(inputs([ask], {ask.message_id: ASKS}))
    assert [s.key for s in found] == [f"reply:{ask.message_id}"]
    (s,) = found
    assert s.key.origin is Origin.REPLY and s.key.ref == ask.message_id
    assert s.kind is Kind.REPLY and s.tier == "client"
    assert s.due == ask.date + 2 * D
    assert s.evidence == "Could you send the renewal pricing?"


def test_detect_waits_for_the_window_and_drops_an_answered_ask() -> None:
    fresh = mail(1, DANA, ME, NOW - D)  # inside the client tier's two days
    assert detect(inputs([fresh], {fresh.message_id: ASKS})) == []
    ask = mail(2, DANA, ME, NOW - 3 * D)
    answer = mail(3, ME, DANA, NOW - 2 * D, reply_to=ask.message_id)
    assert detect(inputs([ask, answer], {ask.message_id: ASKS})) == []


def test_detect_follows_up_the_users_own_unanswered_question() -> None:
    asked = mail(1, ME, SAM, NOW - 8 * D)
    (s,) = detect(inputs([asked], {asked.message_id: ASKS}))
    assert s.key == NudgeKey(Origin.FOLLOW_UP, asked.message_id)
    assert s.contact == SAM and s.kind is Kind.FOLLOW_UP


def _touches(who: Address, days: list[int]) -> list[Message]:
    """Mail both ways with `who`, `days` days before NOW (a conversation each)."""
    found = []
    for n, ago in enumerate(days):
        found.append(mail(100 + 2 * n, who, ME, NOW - ago * D))
        found.append(mail(101 + 2 * n, ME, who, NOW - ago * D + timedelta(hours=2)))
    return found


def test_a_cadence_a_contact_rule_set_is_said_to_come_from_that_rule() -> None:
    rules = Rulebook(
        tiers=RULES.tiers,
        contacts=(
            ContactRule(("dana@*",), "client", cadence=14 * D, where="rules/contacts.toml:4"),
        ),
        work=RULES.work,
    )
    (s,) = detect(inputs(_touches(DANA, [120, 90, 60, 40]), {}, rules=rules))
    assert s.key.origin is Origin.RECONNECT
    assert "set by the contacts rule rules/contacts.toml:4" in s.why
    assert "set by client" not in s.why


def test_a_cadence_of_the_tier_is_said_to_come_from_the_tier() -> None:
    rules = Rulebook(
        tiers={**RULES.tiers, "client": Tier("client", cadence=14 * D)},
        contacts=(ContactRule(("*@client.example",), "client", where="contacts.toml:1"),),
        work=RULES.work,
    )
    (s,) = detect(inputs(_touches(DANA, [120, 90, 60, 40]), {}, rules=rules))
    assert "set by tier client" in s.why


# The user lives in Chicago: 08:00 UTC on Monday is 02:00 there, and mail sent at
# 03:00 UTC on a Sunday was written on Saturday evening, their time.
CHICAGO = Rulebook(tiers=RULES.tiers, contacts=RULES.contacts, work=Work("America/Chicago"))


def test_ages_are_calendar_days_in_the_users_zone_and_never_weeks() -> None:
    sent = datetime(2026, 11, 15, 3, 0, tzinfo=UTC)  # Sat 14 Nov, 21:00 in Chicago
    asked = mail(1, ME, SAM, sent, subject="Launch date")
    (s,) = detect(inputs([asked], {asked.message_id: ASKS}, rules=CHICAGO))
    # 8.2 days by the stopwatch; nine calendar days in Chicago (Sat 14 → Mon 23)
    assert s.title.endswith("(sent 9 days ago)"), s.title
    assert "on Sat 14 Nov" in s.why, s.why
    old = mail(2, ME, SAM, NOW - 35 * D, subject="Old")
    (s,) = detect(inputs([old], {old.message_id: ASKS}, rules=RULES))
    assert "sent 35 days ago" in s.title  # not "5 weeks"


def test_a_reconnect_counts_the_same_days_as_the_report() -> None:
    found = detect(inputs(_touches(DANA, [100, 80, 60, 40]), {}, rules=CHICAGO))
    (s,) = [s for s in found if s.key.origin is Origin.RECONNECT]
    # the last touch: Alex's answer at 10:00 UTC forty days ago, 04:00 in Chicago
    last = NOW - 40 * D + timedelta(hours=2)
    days = (
        NOW.astimezone(CHICAGO.work.zone).date() - last.astimezone(CHICAGO.work.zone).date()
    ).days
    assert f"last in touch {days} days ago" in s.title


def test_a_recap_says_when_the_meeting_ended_in_the_users_zone() -> None:
    end = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)  # Fri 14:00 in Chicago
    meeting = CalendarEvent(
        "m1", end - timedelta(hours=1), end, summary="Kick-off", attendees=(ME, DANA)
    )
    (s,) = detect(inputs([], {}, rules=CHICAGO, meetings=(meeting,)))
    assert "ended Fri 20 Nov 14:00" in s.why and "UTC" not in s.why, s.why


def test_a_promise_is_due_on_its_day_in_the_users_zone() -> None:
    due = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # Mon 23 Nov, 21:00 in Chicago
    sent = mail(1, ME, DANA, NOW - D, subject="Revised quote")
    promise = Signals(commitments=(Commitment("I'll send the revised quote tonight.", due),))
    (s,) = detect(inputs([sent], {sent.message_id: promise}, rules=CHICAGO))
    assert s.title.endswith("(due Mon 23 Nov)"), s.title


def test_an_upset_contact_is_described_in_words_not_scores() -> None:
    complaint = mail(1, DANA, ME, NOW - D, subject="Late again")
    upset = Signals(upset=0.82, upset_sentence="This is the third time the report is late.")
    (s,) = detect(inputs([complaint], {complaint.message_id: upset}))
    assert s.key.origin is Origin.RECOVER
    assert "0.82" not in s.why and "tone" not in s.why
    assert "upset" in s.why


def test_every_kind_has_one_label_from_the_readmes_four_nudges() -> None:
    labels = {o: o.label for o in Origin if o.kind not in (Kind.REPORT, Kind.DIGEST)}
    assert labels == {
        Origin.REPLY: "reply",
        Origin.FOLLOW_UP: "follow up",
        Origin.PROMISE: "follow up (promise)",
        Origin.RECONNECT: "reconnect",
        Origin.RECOVER: "recover",
        Origin.RECAP: "recover (recap)",
    }


# ---- place -------------------------------------------------------------------------


def _suggestions() -> list[Suggestion]:
    """Three reply nudges: three clients' asks (one person's would make one nudge)."""
    senders = (DANA, MAUREEN, Address("lee@client.example", "Lee Park"))
    asks = [mail(n, who, ME, NOW - (3 + n) * D, subject=f"Q{n}") for n, who in enumerate(senders)]
    return detect(inputs(asks, {m.message_id: ASKS for m in asks}))


def test_place_goes_around_the_calendars_busy_time_within_working_hours() -> None:
    calendar = MemoryCalendar(
        [CalendarEvent("standup", NOW + timedelta(hours=1), NOW + timedelta(hours=3))]
    )
    spans = [(e.start, e.end, e.busy) for e in calendar.events(NOW, NOW + 14 * D)]
    placed = place(_suggestions(), busy_intervals(spans), RULES, NOW)
    assert len(placed) == 3
    for p in placed:
        assert p.start >= NOW + timedelta(hours=3)  # 09:00–11:00 is the stand-up
        assert RULES.work.start <= p.start.time() and p.end.time() <= RULES.work.end
    starts = sorted(p.start for p in placed)
    assert all(b >= a + RULES.tasks.length for a, b in pairwise(starts))


def test_place_keeps_the_users_time_and_respects_the_daily_budget() -> None:
    found = _suggestions()
    mine = (NOW + 2 * D, NOW + 2 * D + timedelta(minutes=20))
    tight = Rulebook(
        tiers=RULES.tiers, contacts=RULES.contacts, work=RULES.work, tasks=Tasks(daily_budget=1)
    )
    placed = place(found, [], tight, NOW, pinned={found[0].key: mine})
    by_key = {p.suggestion.key: p for p in placed}
    assert (by_key[found[0].key].start, by_key[found[0].key].end) == mine
    assert by_key[found[0].key].pinned
    days = [p.start.date() for p in placed]
    assert len(days) == len(set(days))  # one a day


def test_a_snooze_into_a_full_day_moves_no_other_task() -> None:
    # One nudge a day: Mon, Tue, Wed. The user moves Monday's into Wednesday, which
    # is then over the budget by the user's choice; Wednesday's own task still fits
    # where it is and keeps its slot (it used to jump into Monday's freed slot).
    found = _suggestions()
    tight = Rulebook(
        tiers=RULES.tiers, contacts=RULES.contacts, work=RULES.work, tasks=Tasks(daily_budget=1)
    )
    first = {p.suggestion.key: (p.start, p.end) for p in place(found, [], tight, NOW)}
    monday, tuesday, wednesday = sorted(first, key=lambda k: first[k])
    snoozed = (first[wednesday][0] + timedelta(hours=5), first[wednesday][1] + timedelta(hours=5))
    previous = {k: v for k, v in first.items() if k != monday}
    again = place(found, [], tight, NOW, pinned={monday: snoozed}, previous=previous)
    slots = {p.suggestion.key: (p.start, p.end) for p in again}
    assert slots == {monday: snoozed, tuesday: first[tuesday], wednesday: first[wednesday]}


def test_a_new_task_never_takes_the_slot_an_earlier_task_still_holds() -> None:
    # A task placed on an earlier run holds 09:00; a new, more urgent nudge due at the
    # same time goes to the next free slot instead of pushing the old one on.
    found = _suggestions()
    old, new = found[-1], found[0]
    assert new.priority >= old.priority and new.key != old.key
    held = (NOW + timedelta(hours=1), NOW + timedelta(hours=1) + RULES.tasks.length)
    placed = place([old, new], [], RULES, NOW, previous={old.key: held})
    slots = {p.suggestion.key: (p.start, p.end) for p in placed}
    assert slots[old.key] == held
    assert slots[new.key][0] >= held[1] or slots[new.key][1] <= held[0]


# ---- plan and the apply handlers ----------------------------------------------------


@pytest.fixture
def state(tmp_path: Path) -> Iterator[State]:
    opened = State.open(tmp_path)
    yield opened
    opened.close()


def _wanted() -> dict[str, CalendarTask]:
    return desired(place(_suggestions(), [], RULES, NOW), RULES)


def _run(
    state: State, calendar: MemoryCalendar, wanted: dict[str, CalendarTask], now: datetime = NOW
) -> tuple[list[Action], ApplyReport]:
    ledger = state.ledger()
    actions = plan(wanted, ledger, {r.key: r for r in calendar.tasks()})
    report = ApplyReport()
    apply(actions, Writer(state, calendar, now), "cal", ledger, {}, {}, report)
    return actions, report


def test_plan_creates_what_is_missing_and_a_rerun_changes_nothing(state: State) -> None:
    calendar = MemoryCalendar()
    wanted = _wanted()
    actions, report = _run(state, calendar, wanted)
    assert {a.op for a in actions} == {Op.CREATE} and report.created == 3
    assert set(calendar.held) == set(wanted)
    assert {e.state for e in state.ledger().values()} == {LedgerState.ACTIVE}
    actions, report = _run(state, calendar, wanted)
    assert {a.op for a in actions} == {Op.KEEP} and report.summary().startswith("created 0")


def test_plan_lets_the_user_win_delete_move_and_complete(state: State) -> None:
    calendar = MemoryCalendar()
    wanted = _wanted()
    _run(state, calendar, wanted)
    deleted, moved, completed = sorted(wanted)
    calendar.user_deletes(deleted)
    calendar.user_moves(moved, 2 * D)
    calendar.user_completes(completed)
    actions, report = _run(state, calendar, wanted)
    ops = {a.key: a for a in actions}
    assert ops[deleted].op is Op.DISMISS
    assert ops[moved].op is Op.KEEP and ops[moved].snoozed
    assert ops[completed].op is Op.DONE
    ledger = state.ledger()
    assert ledger[deleted].state is LedgerState.DISMISSED
    assert ledger[completed].state is LedgerState.DONE
    assert ledger[moved].detail["pinned"] is True
    assert [h[4] for h in state.history() if h[1] == moved] == ["placed", "snoozed"]
    # the decisions stand: nothing is planned again for the dismissed or done keys
    actions, _ = _run(state, calendar, wanted)
    assert {a.key for a in actions} == {moved}


def test_plan_removes_a_task_whose_reason_went_away(state: State) -> None:
    calendar = MemoryCalendar()
    wanted = _wanted()
    _run(state, calendar, wanted)
    gone = sorted(wanted)[0]
    actions, report = _run(state, calendar, {k: t for k, t in wanted.items() if k != gone})
    assert [a.op for a in actions if a.key == gone] == [Op.DELETE]
    assert report.removed == 1 and gone not in calendar.held
    assert state.ledger()[gone].state is LedgerState.RESOLVED


def test_plan_adopts_a_task_written_before_a_crash_instead_of_writing_it_twice(
    state: State,
) -> None:
    calendar = MemoryCalendar()
    wanted = _wanted()
    key = sorted(wanted)[0]
    calendar.create_task(wanted[key])  # the calendar write happened; the ledger never heard
    entry = LedgerEntry.new(key, task_uid(key), NOW, calendar="cal")
    state.put_ledger(entry, None, NOW)  # the write-ahead "creating" entry
    actions, report = _run(state, calendar, wanted)
    assert [a.op for a in actions if a.key == key] == [Op.ADOPT]
    assert report.created == 2 and len(calendar.held) == 3
    assert state.ledger()[key].state is LedgerState.ACTIVE
    assert [h[4] for h in state.history() if h[1] == key] == []  # placed before the crash


def test_a_dry_run_counts_with_the_same_handlers_and_writes_nothing(state: State) -> None:
    calendar = MemoryCalendar()
    wanted = _wanted()
    actions = plan(wanted, state.ledger(), {})
    report = ApplyReport()
    count(report, actions)
    assert report.created == 3 and calendar.held == {} and state.ledger() == {}


def test_a_task_the_user_changed_while_nurture_wrote_it_is_read_again_next_run(
    state: State,
) -> None:
    calendar = MemoryCalendar()
    wanted = _wanted()
    _run(state, calendar, wanted)
    key = sorted(wanted)[0]
    changed = {**wanted, key: CalendarTask(**{**_fields(wanted[key]), "title": "New words"})}
    ledger = state.ledger()
    actions = plan(changed, ledger, {r.key: r for r in calendar.tasks()})
    calendar.user_moves(key, D)  # between nurture's read and its write
    report = ApplyReport()
    apply(actions, Writer(state, calendar, NOW), "cal", ledger, {}, {}, report)
    assert report.conflicts == 1 and report.updated == 0
    assert state.ledger()[key].state is LedgerState.ACTIVE  # the next run reads it again


def _fields(task: CalendarTask) -> dict[str, object]:
    return {name: getattr(task, name) for name in task.__dataclass_fields__}
