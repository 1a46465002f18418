"""IMAP bodies over a real Dovecot: only the text the NLP reads is fetched and kept."""

from __future__ import annotations

import os
from email.message import EmailMessage
from pathlib import Path

import pytest

from nurture.model import Body
from nurture.nlp.text import body_text
from tests.contract import SINCE
from tests.servers.dovecot import DovecotHarness, DovecotServer

pytestmark = pytest.mark.server

ASK = "Hi Alex,\n\nCould you send me the renewal pricing by Friday?\n\nDana\n"


def test_an_attachment_is_neither_kept_nor_fetched_whole(
    dovecot: DovecotServer, tmp_path: Path
) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"] = "Dana Lee <dana@client.example>", "alex@brightpath.example"
    msg["Subject"], msg["Message-ID"] = "Pricing", "<big@client.example>"
    msg["Date"] = "Mon, 02 Nov 2026 09:30:00 +0000"
    msg.set_content(ASK)
    msg.add_attachment(os.urandom(3_000_000), maintype="application", subtype="pdf")
    harness = DovecotHarness(dovecot, tmp_path)
    harness.deliver(bytes(msg))
    connector = harness.connector()
    try:
        source = connector.mail()
        ids = [m.id for b in source.changes(None, SINCE) for m in b.messages]
        ((_, body),) = list(source.bodies(ids))
    finally:
        connector.close()
    assert body.raw is not None and len(body.raw) < 4096
    assert body_text(body).replace("\r\n", "\n") == body_text(Body(raw=bytes(msg))) == ASK
