"""Property: whatever happens to the mailbox, crashes included, the synced copy converges.

A consumer applies batches as the core does (upserts, deletions, the cursor in
one step) and sometimes "crashes" after a few batches. After any sequence of
arrivals, deletions, label moves, history expiry and crashes, one complete
sync leaves the consumer with exactly the mailbox's messages and folders.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests_mock

pytest.importorskip("googleapiclient")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from nurture_google.gmail import GmailSource, folder_role  # noqa: E402

from nurture.errors import CursorExpired  # noqa: E402
from nurture.model import FolderRole  # noqa: E402

from .conftest import REFRESH_TOKEN, TOKEN_URI, make_connector  # noqa: E402
from .gfactories import raw_message  # noqa: E402
from .gfake import FakeGoogle  # noqa: E402

SINCE = datetime(2025, 11, 23, tzinfo=UTC)
LABELS = [{"INBOX"}, {"SENT"}, {"SPAM"}, {"Label_1"}, {"INBOX", "CATEGORY_UPDATES"}]
MOVES = [({"TRASH"}, {"INBOX"}), (set(), {"INBOX"}), ({"INBOX"}, set()), ({"STARRED"}, set())]

operation = st.one_of(
    st.tuples(st.just("deliver"), st.integers(0, len(LABELS) - 1)),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("move"), st.integers(0, 50), st.integers(0, len(MOVES) - 1)),
    st.tuples(st.just("sync"), st.integers(0, 6)),  # stop after n batches (6: run to the end)
    st.tuples(st.just("expire")),
)


class Consumer:
    """What the core keeps: messages by id, and the cursor of the last committed batch."""

    def __init__(self, source: GmailSource) -> None:
        self.source = source
        self.cursor: str | None = None
        self.folders: dict[str, FolderRole] = {}

    def sync(self, stop_after: int) -> None:
        try:
            self._run(stop_after)
        except CursorExpired:
            self.cursor = None  # the core drops the cursor and backfills
            self._run(stop_after)

    def _run(self, stop_after: int) -> None:
        for n, batch in enumerate(self.source.changes(self.cursor, SINCE)):
            for message in batch.messages:
                self.folders[message.id] = message.folder
            for gone in batch.deleted:
                self.folders.pop(gone, None)
            self.cursor = batch.cursor
            if n + 1 == stop_after:
                return  # crash: nothing after this batch was committed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, max_size=14))
def test_sync_converges_to_the_mailbox(tmp_path_factory: Any, steps: list[tuple[Any, ...]]) -> None:
    fake = FakeGoogle()
    cache: Path = tmp_path_factory.mktemp("cache")
    with requests_mock.Mocker() as mock:
        mock.post(
            TOKEN_URI,
            json=lambda _request, _context: {
                "access_token": fake.issue(REFRESH_TOKEN),
                "expires_in": 3599,
            },
        )
        run(fake, cache, steps)


def run(fake: FakeGoogle, cache: Path, steps: list[tuple[Any, ...]]) -> None:
    connector = make_connector(fake, cache)
    connector.caller.max_batch = connector.caller.batch_size = 2
    source = GmailSource(
        connector.service("gmail"), connector.caller, page_size=3, checkpoints=cache
    )
    consumer = Consumer(source)
    expired = False
    for index in range(4):
        fake.deliver(raw_message(date=fake.now - timedelta(days=index + 1)), {"INBOX"})
    for step in steps:
        ids = sorted(fake.messages)
        if step[0] == "deliver":
            fake.deliver(
                raw_message(date=fake.now - timedelta(minutes=len(fake.history))),
                set(LABELS[step[1]]),
            )
        elif step[0] == "delete" and ids:
            fake.delete(ids[step[1] % len(ids)])
        elif step[0] == "move" and ids:
            add, remove = MOVES[step[2]]
            fake.relabel(ids[step[1] % len(ids)], frozenset(add), frozenset(remove))
        elif step[0] == "sync":
            consumer.sync(step[1] if step[1] < 6 else 10_000)
        elif step[0] == "expire":
            fake.expire_history()
            expired = True
    for _ in range(2):  # finish whatever backfill was interrupted, then catch up on history
        consumer.sync(10_000)
    truth = {m.id: folder_role(sorted(m.labels)) for m in fake.messages.values()}
    if expired:  # a backfill cannot learn of deletions it never saw; the rest must agree
        assert {k: consumer.folders[k] for k in truth} == truth
    else:
        assert consumer.folders == truth
    assert not fake.violations
