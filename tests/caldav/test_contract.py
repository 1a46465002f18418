"""The CalDAV connector against a real Radicale, through the shared contract suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract import CalendarStoreContract
from tests.servers.radicale import RadicaleHarness, RadicaleServer

pytestmark = pytest.mark.server


class TestCalDavContract(CalendarStoreContract):
    @pytest.fixture
    def calendar_harness(self, radicale: RadicaleServer, tmp_path: Path) -> RadicaleHarness:
        return RadicaleHarness(radicale, tmp_path)
