"""The report's figures on small, hand-built mailboxes (every expected number worked out here)."""

from __future__ import annotations

import io
import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from nurture.contacts import Identity
from nurture.model import (
    Address,
    Ask,
    Automated,
    CalendarEvent,
    Commitment,
    LedgerEntry,
    LedgerState,
    Message,
    Signals,
)
from nurture.report.metrics import Inputs, compute
from nurture.report.records import to_json
from nurture.report.render_html import render as render_html
from nurture.report.render_text import render as render_text
from nurture.report.render_text import sparkline
from nurture.report.stats import median, percentile
from nurture.report.trend import weeks
from nurture.rules import ContactRule, Rulebook, Tier

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)  # a Friday
ME = "me@home.example"
KEY = "kim@client.example"
BOB = "bob@other.example"
H = timedelta(hours=1)
D = timedelta(days=1)
SECRET = "Could you send the secret figures?"

RULES = Rulebook(
    tiers={
        "key": Tier("key", weight=3.0, reply_within=D, follow_up_after=3 * D, cadence=14 * D),
        "default": Tier("default", reply_within=2 * D, follow_up_after=5 * D, cadence="learned"),
    },
    contacts=(ContactRule(("*@client.example",), "key", name="Kim (rule)"),),
)


class Box:
    """A mailbox under construction: messages and their signals."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.signals: dict[str, Signals] = {}
        self.meetings: list[CalendarEvent] = []
        self.ledger: dict[str, LedgerEntry] = {}
        self.history: list[tuple[datetime, str, str, str, str]] = []

    def mail(
        self,
        sender: str,
        to: str,
        at: datetime,
        *,
        parent: Message | None = None,
        cc: str = "",
        subject: str = "Topic",
        signals: Signals | None = None,
    ) -> Message:
        n = len(self.messages) + 1
        m = Message(
            id=str(n),
            message_id=f"m{n}@x",
            date=at,
            sender=Address(sender, sender.split("@")[0].title()),
            to=(Address(to),),
            cc=(Address(cc),) if cc else (),
            subject=("Re: " + parent.subject) if parent else subject,
            in_reply_to=parent.message_id if parent else "",
            references=(parent.message_id,) if parent else (),
        )
        self.messages.append(m)
        if signals is not None:
            self.signals[m.message_id] = signals
        return m

    def ask(self, sender: str, to: str, at: datetime, **kw: object) -> Message:
        return self.mail(sender, to, at, signals=Signals(asks=(Ask(SECRET, 0.9),)), **kw)  # type: ignore[arg-type]

    def inputs(self) -> Inputs:
        return Inputs(
            self.messages,
            self.signals,
            self.meetings,
            self.ledger,
            self.history,
            RULES,
            Identity((ME,)),
        )


def test_median_and_nearest_rank_percentile() -> None:
    values = [float(v) for v in range(1, 11)]
    assert median(values) == 5.5
    assert percentile(values, 0.9) == 9.0
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([], 0.9) is None and median([]) is None


def test_reply_times_windows_and_debts() -> None:
    box = Box()
    a = box.ask(KEY, ME, NOW - 10 * D)
    box.mail(ME, KEY, NOW - 10 * D + 3 * H, parent=a)  # 3 h: within the key window (1 d)
    b = box.ask(BOB, ME, NOW - 8 * D)
    box.mail(ME, BOB, NOW - 8 * D + 60 * H, parent=b)  # 60 h: outside default's 2 d
    box.ask(BOB, ME, NOW - 1 * H, subject="Fresh")  # unanswered, still inside its window
    report = compute(box.inputs(), NOW, timedelta(days=30))
    o = report.overall
    assert (o.asked, o.answered, o.judged, o.within_window) == (3, 2, 2, 1)
    assert o.median_reply_hours == 31.5 and o.p90_reply_hours == 60.0
    assert o.within_share == 0.5 and o.open_debts == 1
    assert [(d.contact, d.subject, d.overdue) for d in report.debts] == [(BOB, "Fresh", False)]
    tiers = {f.tier: f for f in report.tiers}
    assert tiers["key"].within_share == 1.0 and tiers["default"].within_share == 0.0
    assert sum(b.count for b in report.reply_histogram) == 2
    assert [b.count for b in report.reply_histogram if b.count] == [1, 1]


def test_what_is_not_an_ask() -> None:
    box = Box()
    box.ask(KEY, "other@client.example", NOW - 5 * D, cc=ME)  # only on Cc, not greeted
    box.mail(BOB, ME, NOW - 5 * D, signals=Signals(asks=(Ask("?", 0.2),)))  # weak score
    box.mail(BOB, ME, NOW - 5 * D, signals=Signals(automated=Automated.BULK))
    box.mail(BOB, ME, NOW - 5 * D)  # never analysed
    box.ask(BOB, ME, NOW - 40 * D)  # before the period
    report = compute(box.inputs(), NOW, timedelta(days=30))
    assert report.overall.asked == 0 and report.debts == ()


def test_one_debt_per_thread_and_a_handled_nudge_is_no_debt() -> None:
    box = Box()
    first = box.ask(BOB, ME, NOW - 6 * D)
    box.ask(BOB, ME, NOW - 5 * D, parent=first)
    other = box.ask(KEY, ME, NOW - 4 * D, subject="Handled by phone")
    box.ledger["reply:" + other.message_id] = replace(
        LedgerEntry.new("reply:" + other.message_id, "uid", NOW - 3 * D, contact=KEY),
        state=LedgerState.DONE,
        detail={"message_id": other.message_id},
        updated=NOW - 2 * D,
    )
    report = compute(box.inputs(), NOW, timedelta(days=30))
    assert report.overall.asked == 3
    assert [(d.subject, d.asked_at) for d in report.debts] == [("Re: Topic", NOW - 5 * D)]
    assert report.overall.oldest_debt_days == 5.0


def test_questions_waiting_on_others() -> None:
    box = Box()
    q1 = box.ask(ME, KEY, NOW - 6 * D, subject="Answered")
    box.mail(KEY, ME, NOW - 5 * D, parent=q1)
    q2 = box.ask(ME, BOB, NOW - 6 * D, subject="Silence")
    box.ask(ME, BOB, NOW - 2 * D, parent=q2)  # a nudge in the same thread: still one question
    report = compute(box.inputs(), NOW, timedelta(days=30))
    assert [(w.contact, w.subject, w.overdue) for w in report.waiting] == [(BOB, "Silence", True)]
    assert report.overall.questions_waiting == 1


def promise(box: Box, to: str, at: datetime, due: datetime, **kw: object) -> Message:
    sig = Signals(commitments=(Commitment("I'll send it by Friday", due, 0.9),))
    return box.mail(ME, to, at, signals=sig, **kw)  # type: ignore[arg-type]


def test_promises_on_time_late_missed_open() -> None:
    box = Box()
    p1 = promise(box, KEY, NOW - 20 * D, NOW - 17 * D, subject="On time")
    box.mail(ME, KEY, NOW - 18 * D, parent=p1)
    p2 = promise(box, BOB, NOW - 20 * D, NOW - 17 * D, subject="Late")
    box.mail(ME, BOB, NOW - 18 * D, subject="Something else")  # not in the promise's thread
    box.mail(ME, BOB, NOW - 15 * D, parent=p2)  # the delivery, in-thread, after the due date
    promise(box, "carol@x.example", NOW - 10 * D, NOW - 8 * D, subject="Missed")
    promise(box, "dan@x.example", NOW - 2 * D, NOW + 2 * D, subject="Open")
    report = compute(box.inputs(), NOW, timedelta(days=30))
    assert {p.subject: p.status for p in report.promises} == {
        "On time": "on-time",
        "Late": "late",
        "Missed": "missed",
        "Open": "open",
    }
    o = report.overall
    assert (o.promises_on_time, o.promises_late, o.promises_missed, o.promises_open) == (1, 1, 1, 1)


def test_keep_in_touch_states_new_and_gone_quiet() -> None:
    box = Box()
    # Kim (key tier, fixed 14-day cadence): weekly both ways until 40 days ago → lapsed.
    for week in range(20):
        at = NOW - 40 * D - week * 7 * D
        box.mail(KEY if week % 2 else ME, ME if week % 2 else KEY, at)
    # Bob (learned): every 10 days both ways until 15 days ago → due (15 > 10, ≤ 20).
    for n in range(12):
        at = NOW - 15 * D - n * 10 * D
        box.mail(BOB if n % 2 else ME, ME if n % 2 else BOB, at)
    # Nina: new this period, two-way by a meeting.
    box.mail("nina@new.example", ME, NOW - 3 * D)
    box.meetings.append(
        CalendarEvent("u1", NOW - 2 * D, NOW - 2 * D + H, attendees=(Address("nina@new.example"),))
    )
    report = compute(box.inputs(), NOW, timedelta(days=30))
    rows = {c.address: c for c in report.keep_in_touch.contacts}
    assert rows[KEY].status == "lapsed" and rows[KEY].cadence_days == 14
    assert rows[KEY].rule_cadence == "14 days" and rows[KEY].name == "Kim (rule)"
    assert rows[BOB].status == "due" and rows[BOB].learned_cadence_days == 10
    assert rows["nina@new.example"].status == "untracked"
    assert report.keep_in_touch.new == ("nina@new.example",)
    assert report.keep_in_touch.gone_quiet == (BOB,)  # Kim went quiet before the period
    k = report.keep_in_touch
    assert (k.tracked, k.within, k.due, k.lapsed) == (2, 0, 1, 1)


def dismissed(key: str, who: str, detail: dict[str, str], *, at: datetime) -> LedgerEntry:
    """A ledger entry the user dismissed at `at` (the kind is the key's)."""
    entry = LedgerEntry.new(key, "uid", at - 4 * D, contact=who, state=LedgerState.DISMISSED)
    return replace(entry, detail=detail, updated=at)


def test_nurture_record_and_dismissal_causes() -> None:
    box = Box()
    for n in range(4):
        box.history.append((NOW - 5 * D, f"reply:{n}", "reply", BOB, "placed"))
    box.history.append((NOW - 5 * D, "reconnect:kim", "reconnect", KEY, "placed"))
    box.history.append((NOW - 4 * D, "reply:0", "reply", BOB, "snoozed"))
    box.history.append((NOW - 3 * D, "reply:1", "reply", BOB, "done"))
    box.history.append((NOW - 2 * D, "reply:2", "reply", BOB, "resolved"))
    for key, kind, who in (("reply:3", "reply", BOB), ("reconnect:kim", "reconnect", KEY)):
        box.history.append((NOW - 1 * D, key, kind, who, "dismissed"))
        box.ledger[key] = dismissed(
            key,
            who,
            {"rule": f"tier {kind}", "signal": "asks" if kind == "reply" else "cadence"},
            at=NOW - 1 * D,
        )
    box.history.append((NOW - 60 * D, "old", "reply", BOB, "placed"))  # before the period
    # The weekly report event is nurture's but no nudge: deleting it is no dismissal.
    box.ledger["report:2026-W11"] = dismissed("report:2026-W11", "", {}, at=NOW - 2 * D)
    rec = compute(box.inputs(), NOW, timedelta(days=30)).nudges
    assert "report" not in {k.kind for k in rec.kinds}
    assert (rec.placed, rec.snoozed, rec.done, rec.resolved, rec.dismissed) == (5, 1, 1, 1, 2)
    assert rec.dismiss_rate == 0.4
    kinds = {k.kind: k for k in rec.kinds}
    assert kinds["reply"].dismiss_rate == 0.25 and kinds["reconnect"].dismiss_rate == 1.0
    assert kinds["reply"].top_dismiss_signal == "asks"
    assert rec.top_dismiss_rule is not None and rec.top_dismiss_rule.dismissals == 1
    only_key = compute(box.inputs(), NOW, timedelta(days=30), tier="key").nudges
    assert (only_key.placed, only_key.dismissed) == (1, 1)


def test_weeks_are_monday_to_monday_and_cover_the_period() -> None:
    since = NOW - timedelta(days=30)
    spans = weeks(since, NOW, RULES.work.zone)
    assert spans[0][0] == since and spans[-1][1] == NOW
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    assert all(end.weekday() == 0 and end.hour == 0 for _, end in spans[:-1])


def test_weekly_trend_counts_each_ask_once() -> None:
    box = Box()
    for n in range(6):
        a = box.ask(BOB, ME, NOW - (4 + 4 * n) * D, subject=f"A{n}")
        if n % 2:
            box.mail(ME, BOB, a.date + 5 * H, parent=a)
    report = compute(box.inputs(), NOW, timedelta(days=30))
    assert sum(w.asked for w in report.weeks) == 6
    assert sum(w.answered for w in report.weeks) == 3
    assert report.weeks[-1].open_debts == report.overall.open_debts == 3


def test_renderings_never_show_message_text() -> None:
    box = Box()
    a = box.ask(KEY, ME, NOW - 3 * D, subject="Budget")
    box.mail(ME, KEY, NOW - 2 * D, parent=a)
    box.ask(BOB, ME, NOW - 4 * D, subject="Unanswered")
    promise(box, BOB, NOW - 3 * D, NOW + D)
    report = compute(box.inputs(), NOW, timedelta(days=30))
    out = io.StringIO()
    render_text(report, Console(file=out, width=160, color_system=None), UTC)
    text = out.getvalue()
    html = render_html(report, UTC)
    data = json.dumps(to_json(report))
    for rendering in (text, html, data):
        assert SECRET not in rendering and "by Friday" not in rendering
        assert "Unanswered" in rendering  # subjects are shown
    assert text.splitlines()[1] == report.privacy
    assert report.summary.split(" · ")[0] in text.splitlines()[2]  # the one-line summary on top


def test_the_terminal_shows_subjects_as_written_not_as_markup() -> None:
    """Subjects come from strangers: "[draft]" is not a style, ":smile:" not an emoji,
    and a stray closing tag must not stop the report."""
    box = Box()
    box.ask(BOB, ME, NOW - 4 * D, subject="[draft] budget :smile: [/x]")
    report = compute(box.inputs(), NOW, timedelta(days=30))
    out = io.StringIO()
    render_text(report, Console(file=out, width=200, color_system=None), UTC)
    assert "[draft] budget :smile: [/x]" in out.getvalue()


def test_sparkline() -> None:
    assert sparkline([0.0, 1.0, None, 0.5]) == "▁█ ▅"
    assert sparkline([None, None]) == "  "


@pytest.mark.parametrize("tier", ["key", "default"])
def test_tier_filter_keeps_only_that_tier(tier: str) -> None:
    box = Box()
    box.ask(KEY, ME, NOW - 3 * D)
    box.ask(BOB, ME, NOW - 3 * D)
    report = compute(box.inputs(), NOW, timedelta(days=30), tier=tier)
    assert [f.tier for f in report.tiers] == [tier]
    assert report.overall.asked == 1 and report.overall.tier == tier
    assert {d.tier for d in report.debts} == {tier}


def test_a_note_says_when_mail_was_not_analysed() -> None:
    box = Box()
    box.ask(BOB, ME, NOW - 3 * D)
    assert compute(box.inputs(), NOW, timedelta(days=30)).notes == ()
    box.mail(BOB, ME, NOW - 2 * D)  # never analysed
    box.mail(ME, BOB, NOW - 1 * D)  # never analysed
    notes = compute(box.inputs(), NOW, timedelta(days=30)).notes
    assert len(notes) == 1 and notes[0].startswith("2 of this period's messages")


def test_an_empty_mailbox_still_makes_a_report() -> None:
    import json as _json
    from importlib import resources

    from .schema_check import errors

    report = compute(Box().inputs(), NOW, timedelta(days=30))
    assert report.overall.asked == 0 and report.overall.median_reply_hours is None
    assert len(report.weeks) >= 4 and report.keep_in_touch.contacts == ()
    schema = _json.loads((resources.files("nurture") / "report" / "schema.json").read_text())
    assert errors(to_json(report), schema, schema) == []
    out = io.StringIO()
    render_text(report, Console(file=out, width=120, color_system=None), UTC)
    assert "none" in render_html(report, UTC) and "Relationship report" in out.getvalue()
