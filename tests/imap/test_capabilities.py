"""The IMAP connector on servers that offer less: no LIST-STATUS, no CONDSTORE, no SPECIAL-USE."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import imapclient
import pytest
from nurture_imap import ImapConnector

from nurture.connector import Context
from nurture.errors import AuthError
from nurture.model import FolderRole
from tests.contract import SINCE, make_message
from tests.imap.test_faults import Core
from tests.servers.dovecot import DovecotHarness, DovecotServer

pytestmark = pytest.mark.server


@pytest.fixture(params=["LIST-STATUS", "CONDSTORE", "SPECIAL-USE"])
def without(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Hide one capability (and, for SPECIAL-USE, the folder flags) from the connector."""
    hidden: str = request.param
    original_has = imapclient.IMAPClient.has_capability
    original_list = imapclient.IMAPClient.list_folders

    def has_capability(self: Any, capability: str) -> bool:
        if capability.upper() == hidden:
            return False
        return bool(original_has(self, capability))

    def list_folders(self: Any, *args: Any, **kwargs: Any) -> Any:
        listing = original_list(self, *args, **kwargs)
        if hidden == "SPECIAL-USE":
            listing = [((b"\\HasNoChildren",), sep, name) for _flags, sep, name in listing]
        return listing

    monkeypatch.setattr(imapclient.IMAPClient, "has_capability", has_capability)
    monkeypatch.setattr(imapclient.IMAPClient, "list_folders", list_folders)
    if hidden == "SPECIAL-USE":  # LIST-STATUS would carry the flags anyway
        monkeypatch.setattr(
            imapclient.IMAPClient, "has_capability",
            lambda self, c: c.upper() != "LIST-STATUS" and bool(original_has(self, c)),
        )  # fmt: skip
    yield hidden


def test_incremental_sync_works_without(
    without: str, dovecot: DovecotServer, tmp_path: Path
) -> None:
    harness = DovecotHarness(dovecot, tmp_path)
    harness.deliver(make_message(message_id="in@x.example"))
    harness.deliver(make_message(message_id="out@x.example"), FolderRole.SENT)
    connector = harness.connector()
    source = connector.mail()
    core = Core()
    core.sync(source)
    assert {m.message_id: m.folder for m in core.messages.values()} == {
        "in@x.example": FolderRole.INBOX,
        "out@x.example": FolderRole.SENT,  # found by name when SPECIAL-USE is missing
    }
    quiet = list(source.changes(core.cursor, SINCE))
    assert not any(b.messages or b.deleted for b in quiet)
    harness.remove("in@x.example")
    harness.deliver(make_message(message_id="new@x.example"))
    core.sync(source)
    assert set(core.message_ids()) == {"out@x.example", "new@x.example"}
    connector.close()


def test_sent_folder_override(dovecot: DovecotServer, tmp_path: Path) -> None:
    dovecot.append(make_message(message_id="s@x.example"), "Outbox Copies")
    harness = DovecotHarness(dovecot, tmp_path, sent_folder="Outbox Copies")
    core = Core()
    core.sync(harness.connector().mail())
    assert [m.folder for m in core.messages.values()] == [FolderRole.SENT]


def test_xoauth2_uses_the_token_secret(dovecot: DovecotServer, tmp_path: Path) -> None:
    context = Context(
        account="work",
        options=dovecot.options(auth="xoauth2"),
        cache_dir=tmp_path,
        secret=lambda name: None,
    )
    with pytest.raises(AuthError, match="OAuth token") as raised:
        list(ImapConnector(context).mail().changes(None, SINCE))
    assert raised.value.command == "nurture auth imap work"
    refused = Context(
        account="work",
        options=dovecot.options(auth="xoauth2"),
        cache_dir=tmp_path,
        secret=lambda name: "not-a-token" if name == "oauth_token" else None,
    )
    with pytest.raises(AuthError):  # Dovecot here has no XOAUTH2: the login is refused
        list(ImapConnector(refused).mail().changes(None, SINCE))
