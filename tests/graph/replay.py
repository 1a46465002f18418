"""A model of the core's ingest, for property tests of mail sources.

`replay` runs a list of operations (mail arrives, mail goes, a sync that stops
after some batches as a crash would) and then complete syncs, applying each
batch as the core does; it asserts that the messages held are exactly those in
the mailbox and that a further sync reports nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from nurture.model import FolderRole
from tests.contract import SINCE, make_message

Op = tuple[str, int]
ops = st.lists(
    st.one_of(
        st.tuples(st.just("deliver"), st.integers(0, 1)),
        st.tuples(st.just("remove"), st.integers(0, 30)),
        st.tuples(st.just("sync"), st.integers(0, 6)),
    ),
    max_size=25,
)


def replay(
    operations: list[Op],
    deliver: Callable[[bytes, FolderRole], object],
    remove: Callable[[str], None],
    source: Callable[[], Any],
) -> None:
    held: dict[str, str] = {}  # connector id -> Message-ID, as the core's state would hold
    present: list[str] = []
    cursor: str | None = None
    for n, (op, arg) in enumerate(operations):
        if op == "deliver":
            mid = f"p{n}@x.example"
            deliver(make_message(message_id=mid), FolderRole.SENT if arg else FolderRole.INBOX)
            present.append(mid)
        elif op == "remove" and present:
            remove(present.pop(arg % len(present)))
        elif op == "sync":
            # Stop after `arg` batches (a crash), keeping the last committed cursor.
            for count, batch in enumerate(source().changes(cursor, SINCE)):
                if count == arg:
                    break
                held.update({m.id: m.message_id for m in batch.messages})
                for gone in batch.deleted:
                    held.pop(gone, None)
                cursor = batch.cursor
    # A cursor taken mid-round resumes that round; what arrived since it began
    # comes in the next one (delta and SyncFolderItems alike). Two complete
    # syncs therefore settle everything; the second must then report nothing.
    for _ in range(2):
        for batch in source().changes(cursor, SINCE):
            held.update({m.id: m.message_id for m in batch.messages})
            for gone in batch.deleted:
                held.pop(gone, None)
            cursor = batch.cursor
    assert sorted(held.values()) == sorted(present)
    quiet = list(source().changes(cursor, SINCE))
    assert not any(b.messages or b.deleted for b in quiet), "a settled mailbox reports nothing"
