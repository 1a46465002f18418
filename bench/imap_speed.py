"""IMAP sync speed against a local Dovecot: nurture's connector beside a bare imapclient script.

    python bench/imap_speed.py [MESSAGES]

`run()` (called by bench/run.py) fills a throwaway Dovecot with MESSAGES
synthetic messages (nurture.demo.bulk: INBOX and Sent, two years of mail),
lets Dovecot build its index once, then times:

- the initial sync through `ImapConnector` (every batch consumed, as the core
  would), in messages per second;
- the floor: a bare imapclient script that logs in, opens the same folders and
  fetches the same header fields for the same UIDs in the same batches;
- a no-change sync on the kept connection: IMAP commands sent (round trips)
  and seconds.

Targets (issue 4): initial sync within 1.5x of the bare fetch; a no-change
sync in one round trip per folder and under 0.3 s. Medians of three runs each.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nurture_imap import ImapConnector
from nurture_imap.headers import FETCH_ITEM
from nurture_imap.source import HEADER_BATCH, ImapMailSource

from nurture.connector import Context
from nurture.demo.bulk import generate_bulk
from tests.servers import dovecot

MESSAGES = 20_000
SINCE = datetime(2020, 1, 1, tzinfo=UTC)
FOLDERS = ("INBOX", "Sent")
RUNS = 3


def _bare_fetch(server: dovecot.DovecotServer) -> tuple[float, int]:
    """The floor: same folders, same fields, same explicit-UID batches, no parsing."""
    started = time.perf_counter()
    client = server.client()
    count = 0
    for folder in FOLDERS:
        client.select_folder(folder, readonly=True)
        uids = sorted(client.search(["SINCE", SINCE.date()]))
        for start in range(0, len(uids), HEADER_BATCH):
            count += len(
                client.fetch(uids[start : start + HEADER_BATCH], [FETCH_ITEM, "INTERNALDATE"])
            )
    client.logout()
    return time.perf_counter() - started, count


def _connector(server: dovecot.DovecotServer, cache: Path) -> ImapConnector:
    context = Context(
        account="bench",
        options=server.options(),
        cache_dir=cache,
        secret=lambda name: server.password if name == "password" else None,
    )
    return ImapConnector(context)


def _initial_sync(
    server: dovecot.DovecotServer, cache: Path
) -> tuple[float, int, str, ImapConnector]:
    started = time.perf_counter()
    connector = _connector(server, cache)
    source = connector.mail()
    count, cursor = 0, ""
    for batch in source.changes(None, SINCE):
        count += len(batch.messages)
        cursor = batch.cursor
    return time.perf_counter() - started, count, cursor, connector


def _no_change(connector: ImapConnector, cursor: str) -> tuple[float, int]:
    source = connector.mail()
    assert isinstance(source, ImapMailSource) and source._client is not None
    imap = source._client._imap
    sent: list[bytes] = []
    original = imap.send

    def counting(data: bytes) -> None:
        sent.append(data)
        original(data)

    imap.send = counting
    started = time.perf_counter()
    batches = list(source.changes(cursor, SINCE))
    elapsed = time.perf_counter() - started
    imap.send = original
    assert not any(b.messages or b.deleted for b in batches), "a no-change sync changed something"
    tagged = [line for line in sent if line[:1].isalpha() and b" " in line]
    return elapsed, len(tagged)


def run(messages: int = MESSAGES) -> dict[str, Any]:
    """Run the benchmark; a dict of figures (or a reason it was skipped)."""
    if not dovecot.available():
        return {"imap_skipped": "Dovecot is not installed (apt-get install dovecot-imapd)"}
    with dovecot.running_dovecot() as server, tempfile.TemporaryDirectory() as tmp:
        generate_bulk(server.maildir, messages)
        server.own_maildir()
        _bare_fetch(server)  # Dovecot builds its index and header cache once, for both sides
        bares = [_bare_fetch(server) for _ in range(RUNS)]
        ours: list[tuple[float, int]] = []
        idle: list[tuple[float, int]] = []
        for _ in range(RUNS):
            seconds, count, cursor, connector = _initial_sync(server, Path(tmp))
            ours.append((seconds, count))
            idle.append(_no_change(connector, cursor))
            connector.close()
    bare_s, bare_n = statistics.median(b[0] for b in bares), bares[0][1]
    our_s, our_n = statistics.median(o[0] for o in ours), ours[0][1]
    idle_s, idle_trips = statistics.median(i[0] for i in idle), max(i[1] for i in idle)
    return {
        "imap_messages": our_n,
        "imap_bare_messages": bare_n,
        "imap_initial_seconds": round(our_s, 3),
        "imap_initial_msgs_per_s": round(our_n / our_s),
        "imap_bare_seconds": round(bare_s, 3),
        "imap_bare_msgs_per_s": round(bare_n / bare_s),
        "imap_ratio_to_bare": round(our_s / bare_s, 2),
        "imap_nochange_round_trips": idle_trips,
        "imap_nochange_folders": 3,
        "imap_nochange_seconds": round(idle_s, 4),
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else MESSAGES), indent=2))
