"""Property: the Graph task store shows exactly our writes and the user's edits."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings

pytest.importorskip("msal")

from tests.graph.calendar_replay import CalendarOp, calendar_ops, replay_calendar  # noqa: E402
from tests.graph.fake import FakeGraph  # noqa: E402
from tests.graph.test_contract import GraphCalendarHarness  # noqa: E402

# A user move, a stale update, a user deletion, an update of the deleted task, a re-create.
EDITS: list[CalendarOp] = [
    ("create", 0, 9),
    ("user_move", 0, 10),
    ("update", 0, 11),
    ("user_delete", 0, 9),
    ("update", 0, 12),
    ("create", 0, 13),
    ("update", 0, 14),
    ("delete", 0, 9),
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=calendar_ops)
@example(operations=EDITS)
def test_graph_tasks_follow_writes_and_user_edits(operations: list[CalendarOp]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        harness = GraphCalendarHarness(FakeGraph(), Path(tmp))
        connector = harness.connector()
        try:
            replay_calendar(operations, connector.calendar(), harness)
        finally:
            connector.close()
