"""The CalDAV connector against a real Radicale behind a faulty proxy.

Beside the IMAP fault tests: the server drops the connection mid-REPORT,
answers with garbage, or stalls. Each is a transient error that names the
calendar, never an empty calendar (which would let tasks land on meetings) and
never a traceback; the next sync after the fault reads everything again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nurture_caldav import connector as caldav_connector
from nurture_caldav.store import CalDavStore

from nurture.errors import TransientError
from tests.contract import sample_task
from tests.servers.faulty import FaultyProxy, faulty_proxy
from tests.servers.radicale import RadicaleHarness, RadicaleServer

pytestmark = pytest.mark.server

MEETING = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
WINDOW = (MEETING - timedelta(days=3), MEETING + timedelta(days=3))


@pytest.fixture
def proxy(radicale: RadicaleServer) -> Iterator[FaultyProxy]:
    with faulty_proxy(radicale.url) as running:
        yield running


@pytest.fixture
def store(radicale: RadicaleServer, proxy: FaultyProxy, tmp_path: Path) -> Iterator[CalDavStore]:
    harness = RadicaleHarness(radicale, tmp_path)
    harness.add_foreign_event("board@x", "Board meeting", MEETING, MEETING + timedelta(hours=1))
    connector = harness.connector(url=proxy.url)
    store = connector.calendar()
    assert isinstance(store, CalDavStore)
    yield store
    connector.close()


def _busy(store: CalDavStore) -> list[str]:
    return [e.uid for e in store.events(*WINDOW)]


@pytest.mark.parametrize("fault", ["cut", "garbage"])
def test_a_broken_report_is_transient_and_names_the_calendar(
    store: CalDavStore, proxy: FaultyProxy, fault: str
) -> None:
    assert _busy(store) == ["board@x"]
    proxy.faults["REPORT"] = fault
    with pytest.raises(TransientError) as raised:
        _busy(store)
    assert "'work'" in str(raised.value)
    proxy.faults.clear()
    assert _busy(store) == ["board@x"]


@pytest.mark.parametrize("fault", ["cut", "garbage"])
def test_a_broken_task_listing_loses_and_repeats_nothing(
    store: CalDavStore, proxy: FaultyProxy, fault: str
) -> None:
    store.create_task(sample_task())
    assert [r.key for r in store.tasks()] == [sample_task().key]
    store.create_task(sample_task("reply:second@client.example", hour=11))
    proxy.faults["REPORT"] = fault
    with pytest.raises(TransientError):
        store.tasks()
    proxy.faults.clear()
    keys = sorted(r.key for r in store.tasks())
    assert keys == sorted([sample_task().key, "reply:second@client.example"])


def test_a_stalled_server_is_transient_and_says_which_calendar(
    store: CalDavStore, proxy: FaultyProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(caldav_connector, "TIMEOUT", 1)
    store.close()  # the next request opens a client with the short timeout
    assert _busy(store) == ["board@x"]
    proxy.faults["REPORT"] = "stall"
    with pytest.raises(TransientError) as raised:
        _busy(store)
    assert "'work'" in str(raised.value) and "did not answer in time" in str(raised.value)
