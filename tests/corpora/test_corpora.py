"""Real public mail and calendars (../shared/corpora): parsing survives all of it.

Skips when the corpora are absent, except on CI (CI=true), where they must be there.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from nurture_local.calendar import IcsFileCalendar
from nurture_local.maildir import MaildirSource
from nurture_local.mbox import split_mbox

from nurture.headers import parse_message
from nurture.ical import zone_named
from nurture.model import FolderRole
from nurture.threads import build

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
FALLBACK = datetime(2000, 1, 1, tzinfo=UTC)

if not CORPORA.is_dir():
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"{CORPORA} is missing on CI: the corpus tests must run there")
    pytest.skip(f"no corpora at {CORPORA}", allow_module_level=True)


def files(sub: str) -> list[Path]:
    return sorted(p for p in (CORPORA / sub).rglob("*") if p.is_file())


def test_every_message_under_threads_and_mime_parses() -> None:
    count = 0
    for path in files("threads") + files("mime"):
        message = parse_message(
            path.read_bytes(), id=str(path), folder=FolderRole.INBOX, fallback_date=FALLBACK
        )
        assert message.date.tzinfo is not None
        count += 1
    assert count > 300


def test_every_mbox_splits_and_parses() -> None:
    count = 0
    for path in files("mbox"):
        for raw in split_mbox(path.read_bytes()):
            parse_message(raw, id="x", folder=FolderRole.INBOX, fallback_date=FALLBACK)
            count += 1
    assert count > 10


def test_every_calendar_reads_without_an_exception() -> None:
    count = 0
    zone = zone_named("Europe/Berlin")
    for path in files("ics"):
        if path.suffix.lower() != ".ics":
            continue
        store = IcsFileCalendar(path, zone, read_only=True)
        list(store.events(datetime(1990, 1, 1, tzinfo=UTC), datetime(2035, 1, 1, tzinfo=UTC)))
        store.tasks()
        count += 1
    assert count > 50


def test_lkml_threads_follow_in_reply_to() -> None:
    root = CORPORA / "threads" / "lkml"
    source = MaildirSource(root)
    messages = [m for b in source.changes(None, FALLBACK) for m in b.messages]
    assert len(messages) > 50
    thread_of = {m.message_id: t.id for t in build(messages) for m in t.messages}
    linked = 0
    for m in messages:
        if m.in_reply_to in thread_of:
            assert thread_of[m.in_reply_to] == thread_of[m.message_id], m.message_id
            linked += 1
    assert linked > 30
