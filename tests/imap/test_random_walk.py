"""A seeded random walk of mail changes and faults against a real Dovecot.

Each step is one of: new mail in a folder, a message removed, a folder's
UIDVALIDITY changed, the connection dropped, the server restarted, a sync cut
short, a full sync. After every full sync, what the core holds must be exactly
what the server holds (Message-ID → folder role), and no committed message id
may ever have been reported twice.
"""

from __future__ import annotations

import contextlib
import random
import socket
from pathlib import Path

import pytest
from nurture_imap.source import ImapMailSource

from nurture.errors import TransientError
from nurture.model import FolderRole
from tests.contract import SINCE, make_message
from tests.imap.test_faults import Core
from tests.servers.dovecot import ROLE_FOLDERS, DovecotHarness, DovecotServer

pytestmark = pytest.mark.server
ROLES = (FolderRole.INBOX, FolderRole.SENT, FolderRole.ARCHIVE)


def server_truth(server: DovecotServer) -> dict[str, FolderRole]:
    client = server.client()
    truth: dict[str, FolderRole] = {}
    try:
        for role in ROLES:
            client.select_folder(ROLE_FOLDERS[str(role)], readonly=True)
            uids = client.search(["ALL"])
            if not uids:
                continue
            for data in client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]).values():
                raw = next(v for k, v in data.items() if k.startswith(b"BODY["))
                mid = raw.decode().split("<", 1)[1].split(">", 1)[0]
                truth[mid] = role
    finally:
        client.logout()
    return truth


def drop(source: ImapMailSource) -> None:
    if source._client is not None:
        with contextlib.suppress(OSError):  # already cut
            source._client.socket().shutdown(socket.SHUT_RDWR)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_walk_keeps_core_equal_to_server(
    seed: int, dovecot: DovecotServer, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    harness = DovecotHarness(dovecot, tmp_path)
    connector = harness.connector()
    source = connector.mail()
    assert isinstance(source, ImapMailSource)
    source.header_batch = 2
    core = Core()
    present: dict[str, FolderRole] = {}
    serial = 0
    validity = 1000 + seed * 100
    trace: list[str] = []
    for _step in range(30):
        op = rng.choices(
            ["deliver", "remove", "uidvalidity", "drop", "restart", "cut", "sync"],
            weights=[6, 2, 1, 1, 1, 2, 3],
        )[0]
        trace.append(op)
        if op == "deliver":
            for _ in range(rng.randint(1, 4)):
                serial += 1
                mid, role = f"w{seed}-{serial}@x.example", rng.choice(ROLES)
                harness.deliver(make_message(message_id=mid, subject=mid), role)
                trace.append(f"  {mid} -> {role}")
                present[mid] = role
        elif op == "remove" and present:
            mid = rng.choice(sorted(present))
            harness.remove(mid)
            del present[mid]
        elif op == "uidvalidity":
            validity += 1
            folder = ROLE_FOLDERS[str(rng.choice(ROLES))]
            dovecot.set_uidvalidity(folder, validity)
            trace.append(f"  {folder}")
            source.close()  # the server drops sessions when it rebuilds a folder
        elif op == "drop":
            drop(source)
        elif op == "restart":
            dovecot.restart()
        elif op == "cut":
            batches = source.changes(core.cursor, SINCE)
            try:
                core.commit(next(batches))
                drop(source)
                for batch in batches:
                    core.commit(batch)
            except TransientError:
                pass
        else:
            core.sync(source)
            held = {m.message_id: m.folder for m in core.messages.values()}
            assert held == present, "\n".join(trace)
    core.sync(source)
    assert {m.message_id: m.folder for m in core.messages.values()} == present
    assert present == server_truth(dovecot)
    assert max(core.reported.values(), default=1) == 1, "a committed message was reported twice"
    connector.close()
