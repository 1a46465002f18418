"""Property: EWS sync pages are checkpoints; after any crash the state converges."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("exchangelib")

import requests_mock  # noqa: E402

from nurture.model import FolderRole  # noqa: E402
from tests.exchange.fake import ENDPOINT, FakeEWS  # noqa: E402
from tests.exchange.test_contract import exchange_connector  # noqa: E402
from tests.graph.replay import Op, ops, replay  # noqa: E402

FOLDER = {FolderRole.INBOX: "inbox", FolderRole.SENT: "sentitems"}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=ops, page=st.integers(1, 4))
def test_ews_sync_checkpoints_converge(operations: list[Op], page: int) -> None:
    fake = FakeEWS()
    with tempfile.TemporaryDirectory() as tmp, requests_mock.Mocker() as mock:
        mock.post(ENDPOINT, text=fake.handle)
        replay(
            operations,
            lambda raw, role: fake.deliver(
                raw, "sentitems" if role is FolderRole.SENT else "inbox"
            ),
            fake.remove,
            lambda: exchange_connector(Path(tmp), page_size=page).mail(),
        )
