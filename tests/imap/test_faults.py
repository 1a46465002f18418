"""The IMAP connector against a real Dovecot when things go wrong.

Each test plays the core: it applies every batch it consumed (upserts and
deletions) to a dict and keeps the cursor of the last consumed batch, exactly
what committing each batch in one transaction gives. Invariants checked:
nothing lost, nothing reported twice, the next sync recovers.
"""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from nurture_imap import ImapConnector
from nurture_imap.source import ImapMailSource

from nurture.connector import MailBatch, MailSource
from nurture.errors import AuthError, TransientError, UserError
from nurture.model import FolderRole, Message
from tests.contract import SINCE, make_message
from tests.servers.dovecot import DovecotHarness, DovecotServer

pytestmark = pytest.mark.server


class Core:
    """What the core keeps: messages by id, and the last committed cursor."""

    def __init__(self) -> None:
        self.messages: dict[str, Message] = {}
        self.cursor: str | None = None
        self.reported: Counter[str] = Counter()

    def commit(self, batch: MailBatch) -> None:
        for message in batch.messages:
            self.messages[message.id] = message
            self.reported[message.id] += 1
        for ident in batch.deleted:
            self.messages.pop(ident, None)
        self.cursor = batch.cursor

    def sync(self, source: MailSource) -> None:
        for batch in source.changes(self.cursor, SINCE):
            self.commit(batch)

    def message_ids(self) -> Counter[str]:
        return Counter(m.message_id for m in self.messages.values())


@pytest.fixture
def harness(dovecot: DovecotServer, tmp_path: Path) -> DovecotHarness:
    return DovecotHarness(dovecot, tmp_path)


@pytest.fixture
def connector(harness: DovecotHarness) -> Iterator[ImapConnector]:
    connector = harness.connector()
    yield connector
    connector.close()


def source_of(connector: ImapConnector, batch: int = 500) -> ImapMailSource:
    source = connector.mail()
    assert isinstance(source, ImapMailSource)
    source.header_batch = batch
    return source


def deliver_many(harness: DovecotHarness, count: int, prefix: str = "m") -> set[str]:
    ids = {f"{prefix}{n}@client.example" for n in range(count)}
    for mid in sorted(ids):
        harness.deliver(make_message(message_id=mid, subject=mid))
    return ids


def test_server_restart_mid_sync_loses_and_repeats_nothing(
    harness: DovecotHarness, connector: ImapConnector
) -> None:
    wanted = deliver_many(harness, 12)
    source = source_of(connector, batch=4)
    core = Core()
    batches = source.changes(None, SINCE)
    core.commit(next(batches))
    harness.server.restart()
    with pytest.raises(TransientError):
        for batch in batches:
            core.commit(batch)
    assert 0 < len(core.messages) < 12
    core.sync(source)  # reconnects, resumes after the last committed batch
    assert set(core.message_ids()) == wanted
    assert max(core.reported.values()) == 1, "a committed message was reported again"


def test_dropped_connection_mid_sync_then_recovers(
    harness: DovecotHarness, connector: ImapConnector
) -> None:
    wanted = deliver_many(harness, 9)
    source = source_of(connector, batch=3)
    core = Core()
    batches = source.changes(None, SINCE)
    core.commit(next(batches))
    assert source._client is not None
    source._client.socket().shutdown(socket.SHUT_RDWR)
    with pytest.raises(TransientError):
        for batch in batches:
            core.commit(batch)
    core.sync(source)
    assert set(core.message_ids()) == wanted
    assert max(core.reported.values()) == 1


def test_connection_dropped_between_syncs_is_reopened_silently(
    harness: DovecotHarness, connector: ImapConnector
) -> None:
    deliver_many(harness, 2)
    source = source_of(connector)
    core = Core()
    core.sync(source)
    assert source._client is not None
    source._client.socket().shutdown(socket.SHUT_RDWR)
    harness.deliver(make_message(message_id="after@client.example"))
    core.sync(source)  # no error: a stale kept connection is replaced once
    assert "after@client.example" in core.message_ids()


def test_refused_login_is_an_auth_error_naming_the_command(harness: DovecotHarness) -> None:
    connector = harness.connector(password="wrong")
    source = connector.mail()
    with pytest.raises(AuthError) as raised:
        list(source.changes(None, SINCE))
    assert raised.value.command == "nurture auth imap test"
    assert "nurture auth imap test" in str(raised.value)
    assert "wrong" not in str(raised.value)


def test_missing_password_is_an_auth_error(harness: DovecotHarness) -> None:
    connector = harness.connector(password="")
    with pytest.raises(AuthError, match="password_command"):
        list(connector.mail().changes(None, SINCE))


def test_unreachable_server_is_transient(harness: DovecotHarness) -> None:
    harness.server.stop()
    connector = harness.connector()
    with pytest.raises(TransientError) as raised:
        list(connector.mail().changes(None, SINCE))
    assert raised.value.retry_after


def test_deleted_folder_reports_its_messages_deleted(
    dovecot: DovecotServer, tmp_path: Path
) -> None:
    harness = DovecotHarness(dovecot, tmp_path, folders=["Projects"])
    dovecot.append(make_message(message_id="p1@client.example"), "Projects")
    dovecot.append(make_message(message_id="p2@client.example"), "Projects")
    harness.deliver(make_message(message_id="inbox@client.example"))
    connector = harness.connector()
    core = Core()
    core.sync(connector.mail())
    assert set(core.message_ids()) == {"p1@client.example", "p2@client.example",
                                       "inbox@client.example"}  # fmt: skip
    assert {m.folder for m in core.messages.values()} == {FolderRole.INBOX, FolderRole.OTHER}
    client = dovecot.client()
    client.delete_folder("Projects")
    client.logout()
    core.sync(connector.mail())
    assert set(core.message_ids()) == {"inbox@client.example"}
    connector.close()


def test_uidvalidity_change_resets_only_that_folder(
    harness: DovecotHarness, connector: ImapConnector
) -> None:
    harness.deliver(make_message(message_id="keep@client.example"))
    for n in range(3):
        harness.deliver(make_message(message_id=f"a{n}@client.example"), FolderRole.ARCHIVE)
    source = source_of(connector)
    core = Core()
    core.sync(source)
    inbox_ids = {m.id for m in core.messages.values() if m.folder is FolderRole.INBOX}
    old_archive = {m.id for m in core.messages.values() if m.folder is FolderRole.ARCHIVE}
    harness.server.set_uidvalidity("Archive", 4242)
    source.close()  # a server that rebuilds a folder drops its sessions; so do we
    reported_before = dict(core.reported)
    core.sync(source)
    new_archive = {m.id for m in core.messages.values() if m.folder is FolderRole.ARCHIVE}
    assert new_archive and not (new_archive & old_archive), "old ids must be replaced"
    assert all(core.message_ids()[f"a{n}@client.example"] == 1 for n in range(3))
    assert {m.id for m in core.messages.values() if m.folder is FolderRole.INBOX} == inbox_ids
    assert all(core.reported[i] == reported_before[i] for i in inbox_ids), "INBOX was re-read"


def test_unreadable_cursor_expires(connector: ImapConnector) -> None:
    from nurture.errors import CursorExpired

    with pytest.raises(CursorExpired):
        list(connector.mail().changes("not json", SINCE))


def test_expunge_and_arrival_in_one_interval_are_both_seen(
    harness: DovecotHarness, connector: ImapConnector
) -> None:
    deliver_many(harness, 3)
    source = source_of(connector)
    core = Core()
    core.sync(source)
    harness.remove("m1@client.example")
    harness.deliver(make_message(message_id="new@client.example"))
    core.sync(source)  # MESSAGES is unchanged (3): the UIDNEXT move still triggers a look
    assert set(core.message_ids()) == {"m0@client.example", "m2@client.example",
                                       "new@client.example"}  # fmt: skip


def test_copy_in_archive_and_inbox_counts_once_as_inbox(
    harness: DovecotHarness, connector: ImapConnector
) -> None:
    raw = make_message(message_id="twice@client.example")
    harness.deliver(raw, FolderRole.ARCHIVE)
    harness.deliver(raw)
    core = Core()
    core.sync(source_of(connector))
    (message,) = core.messages.values()
    assert message.folder is FolderRole.INBOX


def test_sync_and_bodies_never_set_seen(harness: DovecotHarness, connector: ImapConnector) -> None:
    harness.deliver(make_message(message_id="unread@client.example"))
    source = source_of(connector)
    core = Core()
    core.sync(source)
    (ident,) = core.messages
    assert dict(source.bodies([ident]))[ident].raw
    client = harness.server.client()
    client.select_folder("INBOX", readonly=True)
    flags = client.get_flags(client.search(["ALL"]))
    client.logout()
    assert all(b"\\Seen" not in f for f in flags.values())


def test_no_change_sync_opens_no_folder(harness: DovecotHarness, connector: ImapConnector) -> None:
    deliver_many(harness, 3)
    harness.deliver(make_message(message_id="s@x.example"), FolderRole.SENT)
    source = source_of(connector)
    core = Core()
    core.sync(source)
    assert source._client is not None
    imap = source._client._imap
    sent: list[bytes] = []
    original = imap.send

    def spy(data: bytes) -> None:
        sent.append(data)
        original(data)

    imap.send = spy
    before = core.cursor
    core.sync(source)
    commands = [line.split(b" ")[1].upper() for line in sent if b" " in line]
    assert b"SELECT" not in commands and b"EXAMINE" not in commands and b"FETCH" not in commands
    assert len(commands) == 1, commands  # LIST-STATUS: one round trip for the account
    assert core.cursor == before


def test_plain_text_to_a_remote_host_is_refused(
    harness: DovecotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nurture_imap.connection as connection

    monkeypatch.setattr(connection, "is_loopback", lambda host: False)
    with pytest.raises(UserError, match='tls = "none"'):
        list(harness.connector().mail().changes(None, SINCE))
    explicit = DovecotHarness(harness.server, harness.cache_dir, tls="none").connector()
    assert list(explicit.mail().changes(None, SINCE))
    explicit.close()


def test_mail_older_than_since_is_not_backfilled(
    harness: DovecotHarness, connector: ImapConnector
) -> None:
    from datetime import datetime

    old = datetime(2019, 5, 1, tzinfo=UTC)
    client = harness.server.client()
    client.append("INBOX", make_message(message_id="old@client.example", date=old), msg_time=old)
    client.logout()
    harness.deliver(make_message(message_id="recent@client.example"))
    core = Core()
    core.sync(source_of(connector))
    assert set(core.message_ids()) == {"recent@client.example"}
