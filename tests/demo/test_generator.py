"""The demo generator: deterministic, valid mail and calendar, truth that matches the files."""

from __future__ import annotations

import email
import email.policy
import hashlib
import itertools
import json
import os
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events

from nurture.demo import DemoPaths, generate
from nurture.demo.generator import truth as truth_of
from nurture.demo.timeline import build
from nurture.errors import UserError

ANCHOR = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
USER = {"alex@brightpath.example", "alex.morgan@mail.example"}


def _digest(root: Path) -> str:
    """A digest over every file's relative path, bytes and modification time."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
        h.update(str(int(path.stat().st_mtime)).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPaths:
    return generate(tmp_path_factory.mktemp("demo") / "out", ANCHOR)


@pytest.fixture(scope="module")
def truth(demo: DemoPaths) -> dict:
    return json.loads(demo.truth.read_text(encoding="utf-8"))


@dataclass(frozen=True, slots=True)
class Mail:
    """One parsed message file with the header facts the checks need."""

    path: Path
    msg: EmailMessage
    sender: str
    to: frozenset[str]
    cc: frozenset[str]
    date: datetime
    refs: tuple[str, ...]
    text: str  # the text/plain body


def _addresses(msg: EmailMessage, *fields: str) -> frozenset[str]:
    found: set[str] = set()
    for name in fields:
        header = msg.get(name)
        if header is not None:
            found.update(a.addr_spec.lower() for a in header.addresses)
    return frozenset(found)


def _plain(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    return body.get_content() if isinstance(body, EmailMessage) else ""


@pytest.fixture(scope="module")
def mails(demo: DemoPaths) -> dict[str, Mail]:
    """Every message file, parsed, by Message-ID."""
    out: dict[str, Mail] = {}
    for path in sorted(demo.maildir.rglob("*")):
        if path.is_file() and path.parent.name in ("cur", "new"):
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(msg, EmailMessage)
            mid = str(msg["Message-ID"])
            assert mid not in out, f"duplicate Message-ID {mid}"
            out[mid] = Mail(
                path=path,
                msg=msg,
                sender=next(iter(_addresses(msg, "From"))),
                to=_addresses(msg, "To"),
                cc=_addresses(msg, "Cc"),
                date=parsedate_to_datetime(str(msg["Date"])),
                refs=tuple(str(msg["References"]).split()) if msg["References"] else (),
                text=_plain(msg),
            )
    return out


# ---- files and determinism --------------------------------------------------------


def test_layout(demo: DemoPaths) -> None:
    for folder in (demo.maildir, demo.maildir / ".Sent"):
        for sub in ("cur", "new", "tmp"):
            assert (folder / sub).is_dir()
    assert any((demo.maildir / ".Sent" / "cur").iterdir())
    assert any((demo.maildir / "new").iterdir())  # unread mail that arrived overnight
    assert all(":2," not in p.name for p in (demo.maildir / "new").iterdir())
    assert any(p.name.endswith(":2,RS") for p in (demo.maildir / "cur").iterdir())
    assert len(list(demo.calendar.glob("*.ics"))) >= 20
    assert demo.anchor == ANCHOR
    assert demo.config.is_file() and demo.truth.is_file()


def test_same_anchor_gives_the_same_bytes(demo: DemoPaths, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", ANCHOR)
    assert _digest(again.root) == _digest(demo.root)


def test_refuses_a_folder_with_files(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(UserError):
        generate(tmp_path, ANCHOR)
    assert (tmp_path / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize(
    "anchor",
    [
        datetime(2026, 3, 7, 18, 30, tzinfo=UTC),  # a Saturday evening
        datetime(2027, 6, 28, 6, 0, tzinfo=UTC),  # a Monday morning before work
        datetime(2026, 10, 29, 23, 59, tzinfo=UTC),  # a Thursday night, after the clocks change
    ],
)
def test_any_anchor_keeps_the_scenarios(anchor: datetime) -> None:
    story = build(anchor)
    data = truth_of(story)
    kinds = sorted(e["kind"] for e in data["expected"])
    assert kinds.count("reply") == 2 and kinds.count("follow-up") == 2
    assert kinds.count("recover") == 3 and kinds.count("reconnect") == 2
    assert max(m.date for m in story.mails) < anchor
    assert all(m.parent is None or m.parent.date <= m.date for m in story.mails)
    for promise in data["promises"]:
        assert promise["made_at"] < promise["due"]
    open_promise = next(p for p in data["promises"] if p["kept_at"] is None)
    due = datetime.fromisoformat(open_promise["due"])
    assert anchor - timedelta(days=1) < due < anchor + timedelta(days=3)
    assert [r for r in data["replies"] if r["replied_at"] is None] == [
        r
        for r in data["replies"]
        if any(e["message_id"] == r["asked_message_id"] for e in data["expected"])
    ]


# ---- mail ---------------------------------------------------------------------------


def test_every_message_parses_with_the_headers(mails: dict[str, Mail]) -> None:
    assert len(mails) > 500
    for mid, m in mails.items():
        for name in ("Date", "From", "Subject", "Message-ID", "MIME-Version"):
            assert m.msg[name] is not None, f"{m.path.name}: no {name}"
        assert mid.startswith("<") and mid.endswith(">") and "@" in mid
        assert m.date.tzinfo is not None
        for part in m.msg.walk():
            assert not part.defects, f"{m.path.name}: {part.defects}"
            if part.get_content_maintype() == "text":
                assert isinstance(part.get_content(), str)
        domains = {a.rpartition("@")[2] for a in (m.sender, *m.to, *m.cc)}
        assert all(d == "example" or d.endswith(".example") for d in domains), domains


def test_every_message_is_before_the_anchor(mails: dict[str, Mail]) -> None:
    for m in mails.values():
        assert m.date < ANCHOR
        assert int(m.path.stat().st_mtime) == int(m.date.timestamp())


def test_sent_folder_holds_the_users_mail(mails: dict[str, Mail]) -> None:
    for m in mails.values():
        assert (m.sender in USER) == (".Sent" in m.path.parts), m.path


def test_threads_link_to_existing_messages(mails: dict[str, Mail]) -> None:
    replies = 0
    for m in mails.values():
        parent = m.msg["In-Reply-To"]
        if parent is None:
            continue
        replies += 1
        assert m.refs[-1] == str(parent)
        assert all(r in mails for r in m.refs)
        assert mails[str(parent)].date <= m.date
        assert str(m.msg["Subject"]).startswith(("Re: ", "Automatic reply", "Abwesenheitsnotiz"))
    assert replies > 200


def test_senders_write_in_their_own_time_zone(mails: dict[str, Mail]) -> None:
    offsets: dict[str, set[str]] = {}
    for m in mails.values():
        offsets.setdefault(m.sender, set()).add(str(m.msg["Date"])[-5:])
    assert offsets["dana.lee@northwind.example"] <= {"-0500", "-0400"}
    assert offsets["j.weiss@kessler.example"] <= {"+0100", "+0200"}
    assert offsets["alex@brightpath.example"] == {"+0000", "+0100"}


def test_quoting_styles_and_html(mails: dict[str, Mail]) -> None:
    styles = {"gmail": 0, "apple": 0, "outlook": 0, "html": 0, "non-ascii": 0}
    for m in mails.values():
        text = m.text
        if "-----Original Message-----" in text and "\nSent: " in text:
            styles["outlook"] += 1
        if " wrote:\n>" in text:
            styles["gmail"] += 1
        if ", at " in text and " wrote:\n\n>" in text:
            styles["apple"] += 1
        if m.msg.get_body(("html",)) is not None:
            styles["html"] += 1
        if not str(m.msg["From"]).isascii():
            styles["non-ascii"] += 1
    assert all(n > 5 for n in styles.values()), styles


# ---- truth ---------------------------------------------------------------------------


def test_truth_ids_exist_in_the_mailbox(truth: dict, mails: dict[str, Mail]) -> None:
    ids = [e["message_id"] for e in truth["expected"] if e["message_id"]]
    ids += [n["message_id"] for n in truth["negatives"]]
    ids += [r["asked_message_id"] for r in truth["replies"]]
    ids += [p["message_id"] for p in truth["promises"]]
    ids += [q["asked_message_id"] for q in truth["questions"]]
    assert len(ids) > 300
    missing = [i for i in ids if i not in mails]
    assert not missing


def test_truth_counts_match_the_files(truth: dict, mails: dict[str, Mail], demo: DemoPaths) -> None:
    assert truth["counts"]["messages"] == len(mails)
    assert truth["counts"]["events"] == len(list(demo.calendar.glob("*.ics")))
    assert truth["anchor"] == "2026-11-23T12:00:00Z"
    assert set(truth["user"]) == USER


def test_expected_covers_every_kind(truth: dict) -> None:
    kinds = {e["kind"] for e in truth["expected"]}
    assert kinds == {"reply", "follow-up", "reconnect", "recover"}
    known = {c["address"] for c in truth["contacts"]}
    assert all(e["contact"] in known for e in truth["expected"])
    what = {n["what"] for n in truth["negatives"]}
    assert {
        "newsletter",
        "notification",
        "auto-reply",
        "bounce",
        "cc-only",
        "answered",
        "kept-promise",
        "within-cadence",
    } <= what


def _in_thread(mails: dict[str, Mail], root: str) -> list[Mail]:
    """Messages that answer `root` directly or further down its thread."""
    return [m for m in mails.values() if root in m.refs]


def test_reply_debts_are_open_and_recent(truth: dict, mails: dict[str, Mail]) -> None:
    debts = [e for e in truth["expected"] if e["kind"] == "reply"]
    assert len(debts) == 2
    for e in debts:
        m = mails[e["message_id"]]
        assert m.sender == e["contact"]
        assert "?" in m.text or "Please send" in m.text
        assert not [r for r in _in_thread(mails, e["message_id"]) if r.sender in USER]
        assert timedelta(days=1) < ANCHOR - m.date < timedelta(days=9)
    unanswered = {r["asked_message_id"] for r in truth["replies"] if r["replied_at"] is None}
    assert unanswered == {e["message_id"] for e in debts}


def test_answered_asks_have_a_later_reply_from_the_user(
    truth: dict, mails: dict[str, Mail]
) -> None:
    answered = [r for r in truth["replies"] if r["replied_at"]]
    assert len(answered) > 100
    for r in answered:
        reply = mails[r["reply_message_id"]]
        assert reply.sender in USER
        assert r["asked_message_id"] in reply.refs
        assert reply.date == datetime.fromisoformat(r["replied_at"])
        assert r["replied_at"] > r["asked_at"]
    hours = sorted(
        (datetime.fromisoformat(r["replied_at"]) - datetime.fromisoformat(r["asked_at"]))
        / timedelta(hours=1)
        for r in answered
    )
    # Spread from within the hour to days, with a tail of late replies.
    assert hours[0] < 1 and hours[-1] > 72
    assert 0.05 < sum(h > 48 for h in hours) / len(hours) < 0.35


def test_open_question_waits_on_the_contact(truth: dict, mails: dict[str, Mail]) -> None:
    open_q = [q for q in truth["questions"] if q["answered_at"] is None]
    assert len(open_q) == 1
    q = open_q[0]
    assert any(e["message_id"] == q["asked_message_id"] for e in truth["expected"])
    asked = mails[q["asked_message_id"]]
    assert "?" in asked.text
    assert not [m for m in mails.values() if m.sender == q["contact"] and m.date > asked.date]
    assert timedelta(days=5) < ANCHOR - asked.date < timedelta(days=10)


def test_promises(truth: dict, mails: dict[str, Mail]) -> None:
    open_p = [p for p in truth["promises"] if p["kept_at"] is None]
    kept = [p for p in truth["promises"] if p["kept_at"] is not None]
    assert len(open_p) == 1 and len(kept) >= 4
    p = open_p[0]
    due = datetime.fromisoformat(p["due"])
    assert ANCHOR < due < ANCHOR + timedelta(days=1)  # Monday noon: due by 17:30 today
    weekday = due.astimezone(ZoneInfo("Europe/London")).strftime("%A")
    assert f"by {weekday}" in mails[p["message_id"]].text.split("\n>")[0]
    made = datetime.fromisoformat(p["made_at"])
    assert timedelta(days=1) < due - made < timedelta(days=7)
    since = [m for m in mails.values() if m.sender in USER and p["contact"] in m.to | m.cc]
    assert not [m for m in since if m.date > made]
    lateness = []
    for k in kept:
        delivered = [
            m
            for m in mails.values()
            if m.sender in USER
            and k["contact"] in m.to
            and m.date > datetime.fromisoformat(k["made_at"])
            and any(part.get_filename() for part in m.msg.walk())
        ]
        assert delivered, k
        assert delivered[0].date == datetime.fromisoformat(k["kept_at"])
        lateness.append(k["kept_at"] > k["due"])
    assert set(lateness) == {False, True}


def test_recover_upset_and_meetings_without_recap(truth: dict, mails: dict[str, Mail]) -> None:
    recover = [e for e in truth["expected"] if e["kind"] == "recover"]
    upset = [e for e in recover if e["message_id"]]
    assert len(upset) == 1
    m = mails[upset[0]["message_id"]]
    text = m.text.split("\n>")[0].lower()
    assert "unacceptable" in text and "frustrated" in text and "still not fixed" in text
    assert ANCHOR - m.date < timedelta(days=4)
    assert "ops-director@northwind.example" in m.cc
    no_recap = [x for x in truth["meetings"] if x["recap_message_id"] is None]
    assert {e["contact"] for e in recover if not e["message_id"]} == {
        a for x in no_recap for a in x["attendees"]
    }
    for meeting in no_recap:
        end = datetime.fromisoformat(meeting["end"])
        assert ANCHOR - timedelta(days=5) < end < ANCHOR
        after = [
            x
            for x in mails.values()
            if x.sender in USER and set(meeting["attendees"]) & (x.to | x.cc) and x.date > end
        ]
        assert not after
    recaps = [x for x in truth["meetings"] if x["recap_message_id"]]
    assert len(recaps) > 10
    for meeting in recaps:
        gap = datetime.fromisoformat(meeting["recap_at"]) - datetime.fromisoformat(meeting["end"])
        assert timedelta(0) < gap < timedelta(days=2)
        assert set(meeting["attendees"]) & mails[meeting["recap_message_id"]].to


def test_reconnect_and_within_cadence(truth: dict) -> None:
    contacts = {c["address"]: c for c in truth["contacts"]}
    lapsed = [e["contact"] for e in truth["expected"] if e["kind"] == "reconnect"]
    assert len(lapsed) == 2
    for address in lapsed:
        c = contacts[address]
        quiet = ANCHOR - datetime.fromisoformat(c["last_two_way"])
        assert quiet > timedelta(days=2 * c["cadence_days"])
        assert c["messages"] >= 8
    steady = {n["contact"] for n in truth["negatives"] if n["what"] == "within-cadence"}
    assert len(steady) >= 3
    for address in steady:
        c = contacts[address]
        quiet = ANCHOR - datetime.fromisoformat(c["last_two_way"])
        assert quiet < timedelta(days=c["cadence_days"])


def test_automated_mail_carries_its_headers(truth: dict, mails: dict[str, Mail]) -> None:
    for n in truth["negatives"]:
        m = mails[n["message_id"]]
        msg, what = m.msg, n["what"]
        if what == "newsletter":
            assert msg["List-Id"] and msg["List-Unsubscribe"] and msg["Precedence"] == "bulk"
        elif what == "auto-reply":
            assert msg["Auto-Submitted"] == "auto-replied" and msg["In-Reply-To"]
        elif what == "bounce":
            assert msg.get_content_type() == "multipart/report"
            assert msg.get_param("report-type") == "delivery-status"
            assert "message/delivery-status" in {p.get_content_type() for p in msg.walk()}
        elif what == "cc-only":
            assert USER & m.cc and not USER & m.to
        elif what == "invitation":
            cal = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
            assert cal and cal[0].get_param("method") in ("REQUEST", "REPLY")
            icalendar.Calendar.from_ical(cal[0].get_content())
        elif what == "forwarded":
            assert "---------- Forwarded message ---------" in m.text
            assert "?" in m.text.split("Forwarded message")[1]
        elif what == "notification":
            assert msg["Auto-Submitted"] or msg["List-Id"]
            assert m.sender.startswith(("noreply", "notifications", "invoices"))


# ---- calendar ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def calendars(demo: DemoPaths) -> list[icalendar.Calendar]:
    return [
        icalendar.Calendar.from_ical(p.read_bytes()) for p in sorted(demo.calendar.glob("*.ics"))
    ]


def test_weekly_meeting_expands_with_exdate_and_moved_occurrence(
    calendars: list[icalendar.Calendar],
) -> None:
    weekly = [c for c in calendars if any("RRULE" in e for e in c.walk("VEVENT"))]
    assert len(weekly) == 1
    cal = weekly[0]
    master = next(e for e in cal.walk("VEVENT") if "RRULE" in e)
    moved = next(e for e in cal.walk("VEVENT") if "RECURRENCE-ID" in e)
    excluded = master["EXDATE"].dts[0].dt
    occurrences = recurring_ical_events.of(cal).between(
        ANCHOR - timedelta(days=200), ANCHOR + timedelta(days=14)
    )
    starts = [o["DTSTART"].dt for o in occurrences]
    assert len(starts) > 20
    assert excluded not in starts
    assert moved["DTSTART"].dt in starts
    assert moved["RECURRENCE-ID"].dt not in starts
    # Local time stays 10:00 across the change of clocks.
    assert {s.hour for s in starts if s.weekday() == 0} == {10}


def test_calendar_contents(calendars: list[icalendar.Calendar]) -> None:
    events = [e for c in calendars for e in c.walk("VEVENT")]
    all_day = [e for e in events if type(e["DTSTART"].dt) is date]
    assert len(all_day) >= 3
    assert any(e.get("TRANSP") == "TRANSPARENT" for e in all_day)
    assert any(e.get("STATUS") == "CANCELLED" for e in events)
    timed = [e for e in events if isinstance(e["DTSTART"].dt, datetime)]
    future = [e for e in timed if ANCHOR < e["DTSTART"].dt < ANCHOR + timedelta(days=14)]
    assert len(future) >= 8
    external = [
        e
        for e in timed
        if any(
            not str(a).endswith("@brightpath.example")
            for a in (e.get("ATTENDEE") if isinstance(e.get("ATTENDEE"), list) else [])
        )
    ]
    assert len(external) > 15
    for e in timed:
        if "ATTENDEE" in e:
            assert str(e["ORGANIZER"]).startswith("mailto:")
            assert all(str(a).startswith("mailto:") for a in e["ATTENDEE"])


def test_no_two_meetings_overlap(calendars: list[icalendar.Calendar]) -> None:
    spans = sorted(
        (o["DTSTART"].dt, o["DTEND"].dt, str(o["SUMMARY"]))
        for cal in calendars
        for o in recurring_ical_events.of(cal).between(
            ANCHOR - timedelta(days=200), ANCHOR + timedelta(days=15)
        )
        if isinstance(o["DTSTART"].dt, datetime) and o.get("STATUS") != "CANCELLED"
    )
    assert len(spans) > 60
    for (_s1, e1, a), (s2, _e2, b) in itertools.pairwise(spans):
        assert e1 <= s2, f"{a} overlaps {b}"


# ---- config and rules ----------------------------------------------------------------


def test_config_and_rules(demo: DemoPaths) -> None:
    config = tomllib.loads(demo.config.read_text(encoding="utf-8"))
    assert config["user"]["addresses"] == ["alex@brightpath.example", "alex.morgan@mail.example"]
    assert (demo.config.parent / config["accounts"]["mail"]["maildir"]) == demo.maildir
    assert (demo.config.parent / config["accounts"]["calendar"]["calendar"]) == demo.calendar
    contacts = tomllib.loads((demo.rules / "contacts.toml").read_text(encoding="utf-8"))
    tiers = tomllib.loads((demo.rules / "tiers.toml").read_text(encoding="utf-8"))["tiers"]
    assert {c["tier"] for c in contacts["contacts"]} <= set(tiers)
    assert any(c.get("escalation") for c in contacts["contacts"])
    for tier in tiers.values():
        assert set(tier) == {"weight", "reply_within", "follow_up_after", "cadence", "recover"}
    work = tomllib.loads((demo.rules / "work.toml").read_text(encoding="utf-8"))
    assert work["work"]["timezone"] == "Europe/London"
    assert work["tasks"]["calendar"] == "calendar"


def test_no_stray_files(demo: DemoPaths) -> None:
    names = sorted(os.listdir(demo.root))
    assert names == ["calendar", "config.toml", "mail", "rules", "truth.json"]
