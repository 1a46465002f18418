"""A seeded random walk of nurture's writes and the user's edits on a real Radicale.

nurture creates, updates and deletes tasks; the user moves, deletes and
completes them and adds events of their own; the server restarts. After each
step, `tasks()` (read incrementally, by sync-token) must equal what is on the
server, a conditional write must fail exactly when the user changed the task
since it was read, and the user's own events must never change.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
from nurture_caldav.store import CalDavStore

from nurture.connector import MARKER
from nurture.errors import TaskConflict, TaskGone
from nurture.model import TaskRecord, TaskStatus
from tests.contract import sample_task
from tests.servers.radicale import RadicaleHarness, RadicaleServer

pytestmark = pytest.mark.server
UTC = UTC


def on_server(harness: RadicaleHarness) -> dict[str, tuple[datetime, TaskStatus]]:
    """key → (start, status) of every nurture object, read straight from the server."""
    found = {}
    for _uid, (_url, raw) in harness.objects().items():
        cal = icalendar.Calendar.from_ical(raw)
        comp = next(c for c in cal.walk() if c.name in ("VEVENT", "VTODO"))
        if MARKER in comp:
            done = str(comp.get("status", "")).upper() == "COMPLETED"
            status = TaskStatus.COMPLETED if done else TaskStatus.OPEN
            found[str(comp[MARKER])] = (comp.decoded("dtstart").astimezone(UTC), status)
    return found


@pytest.mark.parametrize("seed", [1, 2])
def test_random_walk_reads_back_the_server(
    seed: int, radicale: RadicaleServer, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    harness = RadicaleHarness(radicale, tmp_path)
    store = harness.connector().calendar()
    assert isinstance(store, CalDavStore)
    base = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    harness.add_foreign_event("mine@x", "Dentist", base, base + timedelta(hours=1))
    foreign = harness.foreign_digest()
    read: dict[str, TaskRecord] = {}  # what nurture last read or wrote, per key
    edited: set[str] = set()  # keys the user changed since nurture's last read
    for step in range(40):
        op = rng.choice(["create", "update", "delete", "move", "user_delete", "complete",
                         "restart", "read", "read"])  # fmt: skip
        keys = sorted(read)
        if op == "create":
            key = f"reply:{rng.randint(1, 8)}@x"
            read[key] = store.create_task(sample_task(key, hour=rng.randint(8, 16),
                                                      todo=rng.random() < 0.5))  # fmt: skip
            edited.discard(key)
        elif op == "update" and keys:
            key = rng.choice(keys)
            try:
                read[key] = store.update_task(sample_task(key, hour=rng.randint(8, 16)), read[key])
                assert key not in edited, "an update overwrote the user's edit"
            except TaskConflict:
                assert key in edited
            except TaskGone:
                assert key in edited
        elif op == "delete" and keys:
            key = rng.choice(keys)
            try:
                store.delete_task(read[key])
                assert key not in edited or key not in on_server(harness)
                del read[key]
            except TaskConflict:
                assert key in edited
        elif op in ("move", "user_delete", "complete") and keys:
            key = rng.choice(keys)
            uid = read[key].uid
            if key not in on_server(harness):
                continue
            before = harness.objects()[uid][1]
            if op == "complete" and b"BEGIN:VTODO" not in before:
                continue  # only a to-do can be completed
            if op == "move":
                start = base + timedelta(days=rng.randint(1, 5), hours=rng.randint(0, 6))
                harness.user_move(uid, start, start + timedelta(minutes=20))
            elif op == "user_delete":
                harness.user_delete(uid)
            else:
                harness.user_complete(uid)
            after = harness.objects().get(uid)
            if after is None or after[1] != before:  # an edit that changes nothing is none
                edited.add(key)
        elif op == "restart":
            radicale.restart()
        else:
            records = {r.key: r for r in store.tasks()}
            truth = on_server(harness)
            assert {k: (r.start, r.status) for k, r in records.items()} == truth, step
            read = dict(records)
            edited.clear()
    assert {r.key: (r.start, r.status) for r in store.tasks()} == on_server(harness)
    assert harness.foreign_digest() == foreign
