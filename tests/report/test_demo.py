"""The report on the demo mailbox agrees with the generator's ground truth.

The expectations below are computed from truth.json and the story's own mail
objects, with this file's own arithmetic — never from the report code. The
first group feeds the report signals taken from the ground truth (so every
figure can be checked exactly); the second runs it on the real NLP signals and
checks what must hold whatever the detector's noise.
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import math
import statistics
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from nurture.model import Ask, Commitment, Signals
from nurture.report.metrics import compute
from nurture.report.records import Report

from .conftest import ANCHOR, PERIOD, Demo

SINCE = ANCHOR - PERIOD
# reply_within of each tier, as the demo's rules/tiers.toml writes them (hand-copied).
WINDOW_HOURS = {"key": 24, "client": 48, "prospect": 24, "colleague": 48, "default": 72}
CADENCE_OFF = {"colleague"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def mid(text: str) -> str:
    return text.strip("<>")


def nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(share * len(ordered)) - 1]


def tiers(truth: dict[str, Any]) -> dict[str, str]:
    return {c["address"]: c["tier"] for c in truth["contacts"]}


def oracle_signals(truth: dict[str, Any]) -> dict[str, Signals]:
    """Signals as the ground truth says they are: asks and dated promises, nothing else."""
    found = {}
    for row in truth["replies"] + truth["questions"]:
        found[mid(row["asked_message_id"])] = Signals(asks=(Ask("", 0.9),))
    for row in truth["promises"]:
        found[mid(row["message_id"])] = Signals(commitments=(Commitment("", at(row["due"]), 0.9),))
    return found


@pytest.fixture(scope="module")
def oracle(demo: Demo) -> Report:
    inputs = replace(demo.inputs, signals=oracle_signals(demo.truth))
    return compute(inputs, ANCHOR, PERIOD)


@pytest.fixture(scope="module")
def real(demo: Demo) -> Report:
    return compute(demo.inputs, ANCHOR, PERIOD)


def period_asks(truth: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in truth["replies"] if SINCE <= at(r["asked_at"]) < ANCHOR]


# ---- exact agreement with ground-truth signals -------------------------------------


def test_reply_times_match_the_truth(demo: Demo, oracle: Report) -> None:
    asks = period_asks(demo.truth)
    hours = [
        (at(r["replied_at"]) - at(r["asked_at"])).total_seconds() / 3600
        for r in asks
        if r["replied_at"]
    ]
    assert len(asks) > 50
    assert oracle.overall.asked == len(asks)
    assert oracle.overall.answered == len(hours)
    assert oracle.overall.median_reply_hours == pytest.approx(statistics.median(hours), abs=0.01)
    assert oracle.overall.p90_reply_hours == pytest.approx(nearest_rank(hours, 0.9), abs=0.01)
    assert sum(b.count for b in oracle.reply_histogram) == len(hours)


def test_within_window_share_per_tier_matches_the_truth(demo: Demo, oracle: Report) -> None:
    tier_of = tiers(demo.truth)
    by_tier: dict[str, list[bool]] = {}
    for r in period_asks(demo.truth):
        window = timedelta(hours=WINDOW_HOURS[tier_of[r["contact"]]])
        asked = at(r["asked_at"])
        if r["replied_at"]:
            by_tier.setdefault(tier_of[r["contact"]], []).append(
                at(r["replied_at"]) - asked <= window
            )
        elif ANCHOR - asked >= window:
            by_tier.setdefault(tier_of[r["contact"]], []).append(False)
    figures = {f.tier: f for f in oracle.tiers}
    assert len(by_tier) >= 3
    for tier, judged in by_tier.items():
        assert figures[tier].judged == len(judged), tier
        assert figures[tier].within_window == sum(judged), tier
    everything = [ok for judged in by_tier.values() for ok in judged]
    assert oracle.overall.within_share == pytest.approx(sum(everything) / len(everything), abs=1e-4)
    share = oracle.overall.within_share
    assert share is not None and 0 < share < 1


def test_open_debts_and_waiting_questions_match_the_truth(demo: Demo, oracle: Report) -> None:
    owed = {r["contact"] for r in period_asks(demo.truth) if not r["replied_at"]}
    waiting = {
        q["contact"]
        for q in demo.truth["questions"]
        if SINCE <= at(q["asked_at"]) < ANCHOR and not q["answered_at"]
    }
    assert owed and waiting
    assert {d.contact for d in oracle.debts} == owed
    assert oracle.overall.open_debts == len(owed)
    assert {w.contact for w in oracle.waiting} == waiting
    oldest = max(ANCHOR - at(r["asked_at"]) for r in period_asks(demo.truth) if not r["replied_at"])
    assert oracle.overall.oldest_debt_days == pytest.approx(oldest / timedelta(days=1), abs=0.01)


def test_promises_match_the_truth(demo: Demo, oracle: Report) -> None:
    expected = {}
    for p in demo.truth["promises"]:
        if not SINCE <= at(p["made_at"]) < ANCHOR:
            continue
        if p["kept_at"] is None:
            status = "open" if at(p["due"]) > ANCHOR else "missed"
        else:
            status = "on-time" if at(p["kept_at"]) <= at(p["due"]) else "late"
        expected[p["contact"]] = status
    assert set(expected.values()) >= {"on-time", "late"}
    assert {p.contact: p.status for p in oracle.promises} == expected


def test_keep_in_touch_matches_the_truth(demo: Demo, oracle: Report) -> None:
    tier_of = tiers(demo.truth)
    tracked = [
        c
        for c in demo.truth["contacts"]
        if c["cadence_days"] and c["last_two_way"] and tier_of[c["address"]] not in CADENCE_OFF
    ]
    lapsed = {
        c["address"]
        for c in tracked
        if ANCHOR - at(c["last_two_way"]) > timedelta(days=2 * c["cadence_days"])
    }
    quiet = {
        c["address"]
        for c in tracked
        if at(c["last_two_way"]) >= SINCE
        and ANCHOR - at(c["last_two_way"]) > timedelta(days=c["cadence_days"])
    }
    rows = {c.address: c for c in oracle.keep_in_touch.contacts}
    assert lapsed
    assert {a for a, c in rows.items() if c.status == "lapsed"} == lapsed
    assert oracle.keep_in_touch.within == len(tracked) - len(lapsed)
    assert set(oracle.keep_in_touch.gone_quiet) == quiet
    # The last touch is the truth's last two-way contact, or up to two days before it:
    # the truth also counts invitation replies ("Accepted: ..."), which are machine-sent
    # and never count as a touch for nurture.
    for c in demo.truth["contacts"]:
        if c["last_two_way"]:
            gap = at(c["last_two_way"]) - rows[c["address"]].last_touch
            assert timedelta(0) <= gap <= timedelta(days=2), c


def test_new_relationships_match_the_generated_mailbox(demo: Demo, oracle: Report) -> None:
    """New: mail both ways with someone, the first of it inside the period (read with
    the standard library from the Maildir the generator wrote)."""
    user = set(demo.truth["user"])
    first: dict[str, datetime] = {}
    both: dict[str, set[str]] = {}
    for path in demo.paths.maildir.glob("**/*"):
        if not path.is_file() or path.parent.name not in ("cur", "new"):
            continue
        with path.open("rb") as f:
            msg = email.parser.BytesHeaderParser(policy=email.policy.default).parse(f)
        sender = email.utils.parseaddr(str(msg["From"]))[1].lower()
        to = [a.lower() for _, a in email.utils.getaddresses([str(msg.get("To", ""))])]
        cc = [a.lower() for _, a in email.utils.getaddresses([str(msg.get("Cc", ""))])]
        when = email.utils.parsedate_to_datetime(str(msg["Date"]))
        if msg.get("Auto-Submitted") or msg.get("List-Id"):
            continue
        if sender in user:
            people, direction = [a for a in to if a not in user], "out"
        elif user & set(to + cc):
            people, direction = [sender], "in"
        else:
            continue
        for p in people:
            first[p] = min(first.get(p, when), when)
            both.setdefault(p, set()).add(direction)
    new = {a for a, d in first.items() if d >= SINCE and both[a] == {"in", "out"}}
    assert new
    assert set(oracle.keep_in_touch.new) == new


def test_nurture_record_matches_what_the_pipeline_did(demo: Demo, oracle: Report) -> None:
    nudges = oracle.nudges
    assert nudges.placed == len(demo.placed) > 0
    assert nudges.dismissed == len(demo.dismissed) == 2
    kinds = {k.kind: k for k in nudges.kinds}
    for key, kind in demo.placed.items():
        dismissed = sum(1 for k in demo.dismissed if demo.placed[k] == kind)
        placed = sum(1 for v in demo.placed.values() if v == kind)
        assert kinds[kind].placed == placed, key
        assert kinds[kind].dismiss_rate == pytest.approx(dismissed / placed, abs=1e-4)
    assert nudges.top_dismiss_rule is not None
    assert nudges.top_dismiss_rule.name in set(demo.dismissed.values())


def test_weekly_trend_adds_up(demo: Demo, oracle: Report) -> None:
    weeks = oracle.weeks
    assert 13 <= len(weeks) <= 15
    assert weeks[0].start == SINCE and weeks[-1].end == ANCHOR
    assert sum(w.asked for w in weeks) == len(period_asks(demo.truth))
    assert weeks[-1].open_debts == oracle.overall.open_debts
    assert weeks[-1].contacts_lapsed == oracle.keep_in_touch.lapsed
    assert sum(w.nudges_placed for w in weeks) == oracle.nudges.placed
    assert any(w.within_share is not None and w.within_share < 1 for w in weeks)


# ---- the real pipeline (NLP signals) -------------------------------------------------


def test_real_report_shows_every_section(demo: Demo, real: Report) -> None:
    o = real.overall
    assert o.asked > 50 and o.answered > 50 and o.median_reply_hours
    assert o.p90_reply_hours and o.p90_reply_hours > o.median_reply_hours
    assert real.keep_in_touch.lapsed > 0 and real.keep_in_touch.new
    assert real.nudges.placed > 0 and real.nudges.dismissed == 2
    assert len(real.weeks) >= 13
    # Whatever else the NLP flags, the truth's debts, waiting questions and promises are there.
    owed = {r["contact"] for r in period_asks(demo.truth) if not r["replied_at"]}
    assert owed <= {d.contact for d in real.debts}
    waiting = {
        q["contact"]
        for q in demo.truth["questions"]
        if SINCE <= at(q["asked_at"]) < ANCHOR and not q["answered_at"]
    }
    assert waiting <= {w.contact for w in real.waiting}
    statuses = {p.contact: p.status for p in real.promises}
    for p in demo.truth["promises"]:
        if SINCE <= at(p["made_at"]) < ANCHOR:
            assert p["contact"] in statuses


def test_the_report_holds_no_message_text(demo: Demo, real: Report) -> None:
    from nurture.report.records import to_json

    text = repr(to_json(real))
    sentences = {
        a.sentence for s in demo.inputs.signals.values() for a in s.asks if len(a.sentence) > 12
    }
    assert sentences  # the nudges' evidence is in state ...
    assert not [s for s in sentences if s in text]  # ... and never in the report
    for row in demo.truth["promises"]:
        assert row["text"] not in text


def test_filling_again_reads_nothing_new(demo: Demo) -> None:
    """The period was analysed once; a second report reads no mail again, and what the
    report stored holds scores and dates only."""
    from nurture.analysis import REPORT_VERSION
    from nurture.app import App

    app = App.load(demo.paths.config)
    try:
        assert app.analyse_period(SINCE, ANCHOR) == 0
        ours = [s for s in app.state.signals().values() if s.version == REPORT_VERSION]
    finally:
        app.close()
    assert len(ours) > 100
    assert any(s.asks for s in ours)
    assert all(a.sentence == "" for s in ours for a in s.asks)
    assert all(c.sentence == "" for s in ours for c in s.commitments)
