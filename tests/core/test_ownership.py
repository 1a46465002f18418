"""What is nurture's on a calendar: the marker AND the UID made from it; nothing else is touched.

Each case is one the hostile run found: an invitation carrying the marker was
deleted, the marker copied onto the user's own meeting made nurture rewrite
that meeting (two files with one UID), and a task the user copied lost its
copy. Two objects under one key are reported and left alone.
"""

from __future__ import annotations

import logging
import shutil
from datetime import timedelta

import pytest

from nurture.connector import task_digest, task_hash, task_uid

from .conftest import NOW, Setup


def _event(uid: str, start: str, end: str, extra: str = "") -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//a calendar app//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\n"
        f"SUMMARY:Board meeting\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def test_a_task_keeps_its_content_hash_under_the_stored_name(setup: Setup) -> None:
    """Renamed in code (`task_hash`), the property on users' calendars is still
    X-NURTURE-DIGEST, and a third-party connector's `task_digest` still works."""
    setup.ask(days_ago=4)
    assert setup.sync().created == 1
    written = b"".join(p.read_bytes() for p in setup.calendar.glob("*.ics"))
    assert written.count(b"\r\nX-NURTURE-DIGEST:") == 1
    assert task_digest is task_hash


def test_an_invitation_carrying_a_marker_is_not_deleted(setup: Setup) -> None:
    invite = setup.calendar / "invite.ics"
    invite.write_bytes(
        _event(
            "invite-1@elsewhere.example",
            "20261104T100000Z",
            "20261104T110000Z",
            "ORGANIZER:mailto:mallory@elsewhere.example\r\nX-NURTURE-KEY:reply:gone@x\r\n",
        )
    )
    before = invite.read_bytes()
    report = setup.sync()
    assert report.removed == 0
    assert invite.read_bytes() == before


def test_a_marker_copied_onto_the_users_meeting_leaves_the_meeting_alone(setup: Setup) -> None:
    mid = setup.ask(days_ago=4)
    first = setup.sync()
    (placement,) = first.placements
    key = placement.suggestion.key
    meeting = setup.calendar / "board.ics"
    start = (NOW + timedelta(days=6)).strftime("%Y%m%dT100000Z")
    end = (NOW + timedelta(days=6)).strftime("%Y%m%dT110000Z")
    meeting.write_bytes(_event("board-1@me.example", start, end, f"X-NURTURE-KEY:{key}\r\n"))
    before = meeting.read_bytes()
    again = setup.sync()
    assert meeting.read_bytes() == before
    assert (again.created, again.updated, again.removed) == (0, 0, 0)
    setup.reply(mid, days_ago=0.01)
    resolved = setup.sync()
    assert resolved.removed == 1
    assert meeting.read_bytes() == before, "the user's meeting must outlive the nudge"
    uids = [p.read_bytes().count(task_uid(key).encode()) for p in setup.calendar.glob("*.ics")]
    assert sum(uids) == 0


def test_two_objects_under_one_key_are_reported_and_neither_is_touched(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    mid = setup.ask(days_ago=4)
    setup.sync()
    (task_file,) = setup.calendar.glob("*.ics")
    copy = setup.calendar / "copy-of-task.ics"
    shutil.copy(task_file, copy)
    setup.reply(mid, days_ago=0.01)
    with caplog.at_level(logging.WARNING):
        report = setup.sync()
    assert report.removed == 0
    assert task_file.exists() and copy.exists()
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    assert f"reply:{mid}" in warned and "copy-of-task.ics" in warned
    assert setup.ledger()[f"reply:{mid}"] == "active", "a held key keeps its ledger entry"
    copy.unlink()
    assert setup.sync().removed == 1
    assert list(setup.calendar.glob("*.ics")) == []
