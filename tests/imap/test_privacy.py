"""Message text never reaches the log, at any verbosity, over a real Dovecot."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.contract import SINCE, make_message
from tests.servers.dovecot import DovecotHarness, DovecotServer

pytestmark = pytest.mark.server

SECRET_LINE = "The launch code for the merger is tangerine-falcon-42"


def test_bodies_fetched_at_the_highest_verbosity_are_not_logged(
    dovecot: DovecotServer, tmp_path: Path, verbose_log: io.StringIO
) -> None:
    harness = DovecotHarness(dovecot, tmp_path)
    subject = "Merger timeline " + "x" * 10
    harness.deliver(make_message(message_id="secret@client.example", subject=subject,
                                 body=SECRET_LINE + "\n" * 3 + "Could you confirm?"))  # fmt: skip
    connector = harness.connector()
    try:
        source = connector.mail()
        ids = [m.id for b in source.changes(None, SINCE) for m in b.messages]
        bodies = dict(source.bodies(ids))
    finally:
        connector.close()
    assert SECRET_LINE.encode() in next(iter(bodies.values())).raw
    log = verbose_log.getvalue()
    assert "UNSELECT" in log, "the protocol is logged at this verbosity: the test can fail"
    assert "tangerine-falcon" not in log
