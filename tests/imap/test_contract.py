"""The IMAP connector against a real Dovecot, through the shared contract suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract import MailSourceContract
from tests.servers.dovecot import DovecotHarness, DovecotServer

pytestmark = pytest.mark.server


class TestImapContract(MailSourceContract):
    @pytest.fixture
    def mail_harness(self, dovecot: DovecotServer, tmp_path: Path) -> DovecotHarness:
        return DovecotHarness(dovecot, tmp_path)
