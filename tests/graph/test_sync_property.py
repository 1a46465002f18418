"""Property: whatever mail arrives or goes, and wherever a sync is cut short, the
messages nurture holds after a complete sync are exactly those in the mailbox.

The model applies each batch the way the core does (upserts, deletions, the
cursor of the last batch committed) and drops the rest of a sync at a random
checkpoint, as a crash would. Runs against both Microsoft fakes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("msal")

from nurture.model import FolderRole  # noqa: E402
from tests.graph.fake import FakeGraph  # noqa: E402
from tests.graph.replay import Op, ops, replay  # noqa: E402
from tests.graph.test_contract import graph_connector  # noqa: E402


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=ops, page=st.integers(1, 4))
def test_graph_delta_checkpoints_converge(operations: list[Op], page: int) -> None:
    fake = FakeGraph()
    with tempfile.TemporaryDirectory() as tmp:
        replay(
            operations,
            lambda raw, role: fake.add_message(
                raw, "sentitems" if role is FolderRole.SENT else "inbox"
            ),
            fake.remove_message,
            lambda: graph_connector(fake, Path(tmp), page_size=page).mail(),
        )


def test_replay_detects_a_lost_deletion() -> None:
    """The property can fail: a source that drops deletions is caught."""
    fake = FakeGraph()

    class Forgetful:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def changes(self, cursor: str | None, since: Any) -> Any:
            for batch in self.inner.changes(cursor, since):
                yield type(batch)(batch.messages, (), batch.cursor, batch.total)

    with tempfile.TemporaryDirectory() as tmp, pytest.raises(AssertionError):
        replay(
            [("deliver", 0), ("sync", 6), ("remove", 0), ("sync", 6)],
            lambda raw, role: fake.add_message(raw, "inbox"),
            fake.remove_message,
            lambda: Forgetful(graph_connector(fake, Path(tmp)).mail()),
        )
