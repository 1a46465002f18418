"""Message text never reaches the log at -vv over EWS.

exchangelib logs its whole SOAP exchange at DEBUG; the privacy filter cuts each
argument to 300 characters, which end before a message's text.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

pytest.importorskip("exchangelib")

import requests_mock  # noqa: E402

from tests.contract import drain, make_message  # noqa: E402
from tests.exchange.fake import ENDPOINT, FakeEWS  # noqa: E402
from tests.exchange.test_contract import exchange_connector  # noqa: E402

SECRET_LINE = "The acquisition price is forty-two million"


def test_bodies_fetched_at_the_highest_verbosity_are_not_logged(
    tmp_path: Path, verbose_log: io.StringIO
) -> None:
    server = FakeEWS()
    with requests_mock.Mocker() as mock:
        mock.post(ENDPOINT, text=server.handle)
        server.deliver(make_message(message_id="s@x.example", body=SECRET_LINE), "inbox")
        source = exchange_connector(tmp_path).mail()
        (message,) = [m for b in drain(source, None)[0] for m in b.messages]
        ((_, body),) = list(source.bodies([message.id]))
    assert SECRET_LINE in (body.text or "")
    log = verbose_log.getvalue()
    assert "exchangelib" in log or "GetItem" in log or "DEBUG" in log, "nothing logged"
    assert "forty-two million" not in log
    assert "VGhlIGFjcXVpc2l0aW9u" not in log  # the same line, base64 as EWS sends MIME
