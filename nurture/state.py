"""nurture's state: one SQLite file, the only module that touches it.

WAL mode, file mode 0600, numbered migrations (never "delete and rebuild":
the ledger holds the user's decisions). It holds cursors, message metadata,
computed signals, meetings seen, and the suggestion ledger. It never holds
message bodies: the only text kept is the sentence behind an active nudge,
and it is cleared when the nudge ends.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import storage_error
from .headers import display_name, parse_date
from .health import AccountHealth
from .identity import identity, sent_at
from .model import (
    UTC,
    Address,
    Ask,
    Automated,
    CalendarEvent,
    Commitment,
    FolderRole,
    Kind,
    LedgerEntry,
    LedgerState,
    Message,
    NudgeKey,
    Signals,
)

# What the detectors read of several copies of one message, best first (`threads.dedupe`).
_FOLDER_RANK = {"sent": 0, "inbox": 1, "archive": 2, "other": 3, "junk": 4, "trash": 5}


def _sent_of_row(date: int, headers: str) -> int:
    """`identity.sent_at` of a stored message row (its Date header, else its date)."""
    if '"date"' not in headers:
        return date
    value = json.loads(headers).get("date")
    return int(parse_date(value, datetime.fromtimestamp(date, UTC)).timestamp())


def _message_identities(db: sqlite3.Connection) -> None:
    """4: message identity (`nurture.identity`): who first had each Message-ID.

    The first comer of each Message-ID stored so far is the copy the detectors read
    until now (the best folder, then the earliest), so every ledger key stays with the
    message its task was made for. Another message under that Message-ID gets its own
    identity; the signals stored under a Message-ID two messages shared described one
    of them, nobody knows which: they are dropped, and the next analysis makes them
    again (the ledger, the user's decisions, is not touched).
    """
    db.execute(
        "CREATE TABLE message_ids (message_id TEXT PRIMARY KEY, sent INTEGER NOT NULL) "
        "WITHOUT ROWID"
    )
    copies: dict[str, list[tuple[int, int, str, str, int]]] = {}
    for account, id_, mid, date, folder, headers in db.execute(
        "SELECT account, id, message_id, date, folder, headers FROM messages"
    ):
        sent = _sent_of_row(date, headers)
        copies.setdefault(mid, []).append((_FOLDER_RANK.get(folder, 3), date, account, id_, sent))
    firsts = []
    renamed = []
    shared = []
    for mid, found in copies.items():
        found.sort()
        first = found[0][4]
        firsts.append((mid, first))
        others = [(identity(mid, sent, first), account, id_) for *_, account, id_, sent in found]
        others = [row for row in others if row[0] != mid]
        if others:
            renamed += others
            shared.append((mid,))
    db.executemany("INSERT INTO message_ids VALUES (?, ?)", firsts)
    db.executemany("UPDATE messages SET message_id = ? WHERE account = ? AND id = ?", renamed)
    db.executemany("DELETE FROM signals WHERE message_id = ?", shared)


def _disguised_names(db: sqlite3.Connection) -> None:
    """6: display names that are another address (`headers.display_name`), stored before
    connectors dropped them, are dropped too: ``"me@example.org" <attacker@...>`` went on
    titling tasks "Reply to me@example.org". In a ledger entry, its name and its quotes
    in the title and the why give way to the real address."""
    senders = db.execute(
        "SELECT DISTINCT sender, sender_name FROM messages WHERE sender_name LIKE '%@%'"
    ).fetchall()
    db.executemany(
        "UPDATE messages SET sender_name = '' WHERE sender = ? AND sender_name = ?",
        [(email, name) for email, name in senders if not display_name(name, email)],
    )
    changed = []
    for (recipients,) in db.execute(
        "SELECT DISTINCT recipients FROM messages WHERE recipients LIKE '%@%@%'"
    ).fetchall():
        listed = json.loads(recipients)
        shown = [[e, display_name(n, e), r] for e, n, r in listed]
        if shown != listed:
            changed.append((json.dumps(shown, separators=(",", ":")), recipients))
    db.executemany("UPDATE messages SET recipients = ? WHERE recipients = ?", changed)
    entries = []
    for key, contact, title, data in db.execute(
        "SELECT key, contact, title, detail FROM ledger WHERE detail LIKE '%@%'"
    ).fetchall():
        detail = json.loads(data)
        name = detail.get("contact_name") or ""
        if not name or display_name(name, contact):
            continue
        detail["contact_name"] = ""
        for field in ("why", "title"):
            if isinstance(detail.get(field), str):
                detail[field] = detail[field].replace(name, contact)
        entries.append(
            (title.replace(name, contact), json.dumps(detail, separators=(",", ":")), key)
        )
    db.executemany("UPDATE ledger SET title = ?, detail = ? WHERE key = ?", entries)


MIGRATIONS: tuple[str | Callable[[sqlite3.Connection], None], ...] = (
    # 1: the first schema
    """
    CREATE TABLE accounts (
        name TEXT PRIMARY KEY,
        cursor TEXT,
        last_sync INTEGER,
        last_ok INTEGER,
        error TEXT NOT NULL DEFAULT '',
        paused INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE messages (
        account TEXT NOT NULL,
        id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        date INTEGER NOT NULL,
        sender TEXT NOT NULL,
        sender_name TEXT NOT NULL DEFAULT '',
        recipients TEXT NOT NULL DEFAULT '[]',
        subject TEXT NOT NULL DEFAULT '',
        in_reply_to TEXT NOT NULL DEFAULT '',
        refs TEXT NOT NULL DEFAULT '[]',
        folder TEXT NOT NULL,
        headers TEXT NOT NULL DEFAULT '{}',
        link TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (account, id)
    ) WITHOUT ROWID;
    CREATE INDEX messages_by_message_id ON messages (message_id);
    CREATE INDEX messages_by_date ON messages (date);
    CREATE TABLE signals (
        message_id TEXT PRIMARY KEY,
        version TEXT NOT NULL,
        data TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE meetings (
        calendar TEXT NOT NULL,
        uid TEXT NOT NULL,
        start INTEGER NOT NULL,
        end INTEGER NOT NULL,
        summary TEXT NOT NULL DEFAULT '',
        attendees TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (calendar, uid, start)
    ) WITHOUT ROWID;
    CREATE TABLE ledger (
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        contact TEXT NOT NULL,
        uid TEXT NOT NULL,
        state TEXT NOT NULL,
        calendar TEXT NOT NULL DEFAULT '',
        start INTEGER,
        end INTEGER,
        digest TEXT NOT NULL DEFAULT '',
        ref TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '{}',
        created INTEGER NOT NULL,
        updated INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE history (
        at INTEGER NOT NULL,
        key TEXT NOT NULL,
        kind TEXT NOT NULL,
        contact TEXT NOT NULL,
        action TEXT NOT NULL
    );
    CREATE INDEX history_by_key ON history (key);
    """,
    # 2: who wrote to whom, and when, read from an index alone: the report groups the
    # history before its period and finds the period's Message-IDs without reading the
    # much wider rows. Date first, so new mail is appended to it (led by sender, the
    # groups came without a sort, 0.1 s sooner at 100k, but writing mail cost up to 60%
    # more), and so it serves every query by date: the date-only index goes.
    """
    CREATE INDEX messages_by_date_people
        ON messages (date, sender, sender_name, recipients, message_id);
    DROP INDEX messages_by_date;
    """,
    # 3: health per account and role (mail sync, calendar): an account with both keeps
    # both, so a working calendar does not hide failing mail. The mail statuses so far
    # carry over; the accounts table keeps the cursors.
    """
    CREATE TABLE health (
        account TEXT NOT NULL,
        role TEXT NOT NULL,
        last_try INTEGER,
        last_ok INTEGER,
        problem TEXT NOT NULL DEFAULT '',
        paused INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (account, role)
    ) WITHOUT ROWID;
    INSERT INTO health (account, role, last_try, last_ok, problem, paused)
        SELECT name, 'mail sync', last_sync, last_ok, error, paused FROM accounts
        WHERE last_ok IS NOT NULL OR error != '';
    """,
    _message_identities,  # 4: message identity (`nurture.identity`), in Python
    # 5: the personal model (`nurture.personal`): weights, reply times and per-contact
    # counts learned from the user's own mail, as JSON, one row per model; never text.
    # A nudge that ended keeps no sentence: the evidence of ended entries is cleared.
    """
    CREATE TABLE personal (
        name TEXT PRIMARY KEY,
        trained INTEGER NOT NULL,
        data TEXT NOT NULL
    ) WITHOUT ROWID;
    UPDATE ledger SET detail = json_set(detail, '$.evidence', '')
        WHERE state IN ('dismissed', 'done', 'resolved')
        AND COALESCE(json_extract(detail, '$.evidence'), '') != '';
    """,
    _disguised_names,  # 6: display names that are another address, dropped (in Python)
)
ENDED = frozenset({LedgerState.DISMISSED, LedgerState.DONE, LedgerState.RESOLVED})


def _ts(value: datetime) -> int:
    return int(value.timestamp())


def _dt(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def signals_to_json(signals: Signals) -> str:
    return json.dumps(
        {
            "automated": signals.automated.value if signals.automated else None,
            "asks": [[a.sentence, a.score] for a in signals.asks],
            "commitments": [
                [c.sentence, _ts(c.due) if c.due else None, c.score] for c in signals.commitments
            ],
            "upset": signals.upset,
            "upset_sentence": signals.upset_sentence,
            "greets_user": signals.greets_user,
            "digest": signals.text_hash,  # the stored key keeps its old name, for compatibility
            "chaser": signals.chaser,
            "fingerprint": signals.fingerprint,
            "keys": list(signals.sentence_keys),
            "addressee": signals.addressee,
            "technical": signals.technical,
        },
        separators=(",", ":"),
    )


def signals_from_json(text: str, version: str) -> Signals:
    data = json.loads(text)
    return Signals(
        automated=Automated(data["automated"]) if data.get("automated") else None,
        asks=tuple(Ask(s, float(score)) for s, score in data.get("asks", [])),
        commitments=tuple(
            Commitment(s, _dt(due), float(score)) for s, due, score in data.get("commitments", [])
        ),
        upset=float(data.get("upset", 0.0)),
        upset_sentence=data.get("upset_sentence", ""),
        greets_user=bool(data.get("greets_user", False)),
        text_hash=str(data.get("digest", "")),  # stored as "digest", for compatibility
        version=version,
        chaser=float(data.get("chaser", 0.0)),
        fingerprint=str(data.get("fingerprint", "")),
        sentence_keys=tuple(str(k) for k in data.get("keys", [])),
        addressee=str(data.get("addressee", "")),
        technical=bool(data.get("technical", False)),
    )


class State:
    """The SQLite state store. Open with `State.open(folder)`; close when done."""

    FILE = "state.sqlite3"

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, folder: Path) -> State:
        """Open (create, migrate) the state in `folder`.

        A full disk or a read-only folder is a `StorageError` saying so: even reading
        needs the folder writable, for SQLite's write-ahead log beside the file.
        """
        path = folder / cls.FILE
        db = None
        with _faults(folder):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
            os.chmod(path, 0o600)
            try:
                db = sqlite3.connect(path, isolation_level=None, timeout=30)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("PRAGMA foreign_keys=ON")
                # Reads through a memory map skip a copy per page: the report over a big
                # history reads tens of MB (address space only; pages stay in the OS cache).
                db.execute("PRAGMA mmap_size=268435456")
                state = cls(db, path)
                state.migrate()
                for suffix in ("-wal", "-shm"):
                    side = path.with_name(path.name + suffix)
                    if side.exists():
                        os.chmod(side, 0o600)
            except BaseException:
                if db is not None:
                    db.close()
                raise
        return state

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit: everything inside commits together or not at all.

        A full disk or a read-only folder (a `StorageError`) leaves the database as
        it was before the transaction.
        """
        with _faults(self.path.parent):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                if self.db.in_transaction:  # SQLite may have rolled back already
                    with suppress(sqlite3.Error):
                        self.db.execute("ROLLBACK")
                raise
            else:
                self.db.execute("COMMIT")

    def migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction() as db:
                if callable(script):  # a step SQL alone cannot do (parsing stored headers)
                    script(db)
                else:
                    for statement in script.split(";"):
                        if statement.strip():
                            db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    # accounts and cursors

    def cursor(self, account: str) -> str | None:
        row = self.db.execute("SELECT cursor FROM accounts WHERE name = ?", (account,)).fetchone()
        return row[0] if row else None

    def commit_batch(
        self,
        account: str,
        messages: Sequence[Message],
        deleted: Sequence[str],
        cursor: str,
        now: datetime,
    ) -> None:
        """Store one batch of mail changes and its cursor in ONE transaction.

        Each message is stored under its identity (`nurture.identity`): its Message-ID,
        unless another message was stored under that Message-ID first.
        """
        with self.transaction() as db:
            idents = _identities(db, messages)
            db.executemany(
                "INSERT OR REPLACE INTO messages (account, id, message_id, date, sender, "
                "sender_name, recipients, subject, in_reply_to, refs, folder, headers, link) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [_message_row(account, m, i) for m, i in zip(messages, idents, strict=True)],
            )
            db.executemany(
                "DELETE FROM messages WHERE account = ? AND id = ?",
                [(account, d) for d in deleted],
            )
            db.execute(
                "INSERT INTO accounts (name, cursor, last_sync) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET cursor = COALESCE(NULLIF(excluded.cursor, ''), "
                "accounts.cursor), last_sync = excluded.last_sync",
                (account, cursor, _ts(now)),
            )

    def drop_cursor(self, account: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE accounts SET cursor = NULL WHERE name = ?", (account,))

    def record_health(self, health: AccountHealth) -> None:
        """Keep an account's health in one role for `nurture status` (the problem with its fix)."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO health (account, role, last_try, last_ok, problem, paused) "
                "VALUES (?,?,?,?,?,?) ON CONFLICT(account, role) DO UPDATE SET last_try = "
                "excluded.last_try, last_ok = COALESCE(excluded.last_ok, health.last_ok), "
                "problem = excluded.problem, paused = excluded.paused",
                (
                    health.account,
                    health.role,
                    _ts(health.last_try) if health.last_try else None,
                    _ts(health.last_ok) if health.last_ok else None,
                    health.problem,
                    int(health.paused),
                ),
            )

    def healths(self) -> list[AccountHealth]:
        """Every account's health in every role it was synced in, by account and role."""
        return [
            AccountHealth(
                account,
                role,
                failures=int(bool(problem)),
                paused=bool(paused),
                error=problem,
                last_try=_dt(last_try),
                last_ok=_dt(last_ok),
            )
            for account, role, last_try, last_ok, problem, paused in self.db.execute(
                "SELECT account, role, last_try, last_ok, problem, paused FROM health "
                "ORDER BY account, role"
            )
        ]

    def accounts_with_sent(self) -> set[str]:
        """The accounts that hold mail from a sent folder (`identity.claims_the_user`)."""
        # One look per account, stopping at its first sent message: most accounts have
        # one within their first rows; a lone mbox is read through once.
        return {
            name
            for (name,) in self.db.execute("SELECT name FROM accounts").fetchall()
            if self.db.execute(
                "SELECT EXISTS (SELECT 1 FROM messages WHERE account = ? AND folder = 'sent')",
                (name,),
            ).fetchone()[0]
        }

    def last_success(self) -> datetime | None:
        """The latest time any account last worked: nurture's last successful run."""
        row = self.db.execute("SELECT MAX(last_ok) FROM health").fetchone()
        return _dt(row[0]) if row else None

    def message_counts(self) -> dict[str, int]:
        """How many messages each account has in state."""
        return dict(self.db.execute("SELECT account, COUNT(*) FROM messages GROUP BY account"))

    # messages

    def messages(self, since: datetime | None = None) -> list[Message]:
        """Messages dated `since` or later (all without it), oldest first.

        Identical recipient lists and senders (most of them, in a real mailbox)
        are parsed once and shared, which matters at 100k messages.
        """
        query = (
            "SELECT account, id, message_id, date, sender, sender_name, recipients, subject, "
            "in_reply_to, refs, folder, headers, link FROM messages"
        )
        args: tuple[Any, ...] = ()
        if since is not None:
            query += " WHERE date >= ?"
            args = (_ts(since),)
        return _read_messages(self.db.execute(query + " ORDER BY date", args))

    def messages_needing_signals(
        self, since: datetime, until: datetime, version: str, ours: str
    ) -> list[Message]:
        """Messages dated in [since, until], oldest first, with no signals yet, or with
        signals whose version ends in `ours` (the caller made them) but is not `version`.

        SQLite checks each message's signals by key, so nothing is parsed for the
        (usually all) messages that need nothing.
        """
        return _read_messages(
            self.db.execute(
                "SELECT m.account, m.id, m.message_id, m.date, m.sender, m.sender_name, "
                "m.recipients, m.subject, m.in_reply_to, m.refs, m.folder, m.headers, m.link "
                "FROM messages m WHERE m.date >= ? AND m.date <= ? AND NOT EXISTS ("
                "SELECT 1 FROM signals s WHERE s.message_id = m.message_id AND "
                "(s.version = ? OR substr(s.version, -length(?)) != ?)) ORDER BY m.date",
                (_ts(since), _ts(until), version, ours, ours),
            )
        )

    def signals_since(self, since: datetime) -> dict[str, Signals]:
        """The signals of messages dated `since` or later."""
        rows = self.db.execute(
            "SELECT message_id, version, data FROM signals WHERE message_id IN "
            "(SELECT message_id FROM messages INDEXED BY messages_by_date_people WHERE date >= ?)",
            (_ts(since),),
        )
        parsed: dict[tuple[str, str], Signals] = {}  # many messages share the same signals
        found = {}
        for mid, version, data in rows:
            signals = parsed.get((data, version))
            if signals is None:
                signals = parsed[(data, version)] = signals_from_json(data, version)
            found[mid] = signals
        return found

    def touch_groups(self, before: datetime) -> list[tuple[str, str, str, int, str]]:
        """Messages dated before `before`, grouped by sender, sender name and recipients:
        (sender, sender name, recipients JSON, latest unix date, unix dates joined by ",").

        The grouping is done by SQLite over an index that holds these columns (no row
        of the wide messages table is read), so Python sees a few hundred rows instead
        of one per message.
        """
        return self.db.execute(
            "SELECT sender, sender_name, recipients, MAX(date), GROUP_CONCAT(date) "
            "FROM messages INDEXED BY messages_by_date_people WHERE date < ? "
            "GROUP BY sender, sender_name, recipients",
            (_ts(before),),
        ).fetchall()

    def header_rows(self, dates: Sequence[int]) -> list[tuple[Any, ...]]:
        """(date, sender, name, subject, folder, headers JSON) of messages at these unix dates."""
        found: list[tuple[Any, ...]] = []
        for start in range(0, len(dates), 500):  # the date index finds them in one query
            chunk = list(dates[start : start + 500])
            found += self.db.execute(
                "SELECT date, sender, sender_name, subject, folder, headers FROM messages "
                f"WHERE date IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
        return found

    def message_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM messages").fetchone()[0])

    # signals

    def signals(self, version: str | None = None) -> dict[str, Signals]:
        rows = self.db.execute("SELECT message_id, version, data FROM signals")
        return {
            mid: signals_from_json(data, ver)
            for mid, ver, data in rows
            if version is None or ver == version
        }

    def signals_of(self, message_id: str) -> Signals | None:
        """The signals stored for one message, if any."""
        row = self.db.execute(
            "SELECT version, data FROM signals WHERE message_id = ?", (message_id,)
        ).fetchone()
        return signals_from_json(row[1], row[0]) if row else None

    def store_signals(self, items: Iterable[tuple[str, Signals]]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO signals (message_id, version, data) VALUES (?,?,?)",
                [(mid, s.version, signals_to_json(s)) for mid, s in items],
            )

    def forget_evidence(self, keep: set[str]) -> None:
        """Clear the asking, promising and upset sentences of every message but `keep`.

        The caller keeps the messages a nudge rests on or may still rest on (nudge
        candidates not yet due), so a task that comes due later still quotes its why.
        """
        rows = list(self.db.execute("SELECT message_id, data FROM signals"))
        updates = []
        for mid, data in rows:
            if mid in keep:
                continue
            parsed = json.loads(data)
            if (
                any(s for s, _ in parsed.get("asks", []))
                or parsed.get("upset_sentence")
                or any(c[0] for c in parsed.get("commitments", []))
            ):
                parsed["asks"] = [["", score] for _, score in parsed.get("asks", [])]
                parsed["commitments"] = [
                    ["", due, sc] for _, due, sc in parsed.get("commitments", [])
                ]
                parsed["upset_sentence"] = ""
                updates.append((json.dumps(parsed, separators=(",", ":")), mid))
        if updates:
            with self.transaction() as db:
                db.executemany("UPDATE signals SET data = ? WHERE message_id = ?", updates)

    # meetings

    def store_meetings(
        self, calendar: str, start: datetime, end: datetime, events: Iterable[CalendarEvent]
    ) -> None:
        """Replace the meetings seen in [start, end) on `calendar` (attendees only)."""
        rows = [
            (
                calendar,
                e.uid,
                _ts(e.start),
                _ts(e.end),
                e.summary[:200],
                json.dumps(
                    sorted(
                        {a.email for a in e.attendees}
                        | ({e.organizer.email} if e.organizer else set())
                    )
                ),
            )
            for e in events
            if (e.attendees or e.organizer) and not e.cancelled
        ]
        with self.transaction() as db:
            db.execute(
                "DELETE FROM meetings WHERE calendar = ? AND start >= ? AND start < ?",
                (calendar, _ts(start), _ts(end)),
            )
            db.executemany("INSERT OR REPLACE INTO meetings VALUES (?,?,?,?,?,?)", rows)

    def meetings(self) -> list[CalendarEvent]:
        return [
            CalendarEvent(
                uid=uid,
                start=datetime.fromtimestamp(s, UTC),
                end=datetime.fromtimestamp(e, UTC),
                summary=summary,
                attendees=tuple(Address(a) for a in json.loads(att)),
            )
            for uid, s, e, summary, att in self.db.execute(
                "SELECT uid, start, end, summary, attendees FROM meetings ORDER BY start"
            )
        ]

    # ledger

    def ledger(self) -> dict[str, LedgerEntry]:
        rows = self.db.execute(
            "SELECT key, kind, contact, uid, state, calendar, start, end, digest, ref, title, "
            "detail, created, updated FROM ledger"
        )
        return {
            r[0]: LedgerEntry(
                key=r[0],
                kind=_kind(r[1], r[0]),
                contact=r[2],
                uid=r[3],
                state=LedgerState(r[4]),
                calendar=r[5],
                start=_dt(r[6]),
                end=_dt(r[7]),
                content_hash=r[8],  # the column keeps its old name, "digest"
                ref=r[9],
                title=r[10],
                detail=json.loads(r[11]),
                created=_dt(r[12]) or datetime.min.replace(tzinfo=UTC),
                updated=_dt(r[13]) or datetime.min.replace(tzinfo=UTC),
            )
            for r in rows
        }

    def put_ledger(self, entry: LedgerEntry, action: str | None, now: datetime) -> None:
        """Write one ledger entry (and a history row for `action`) atomically.

        An entry that ended (dismissed, done, resolved) is written without its sentence:
        the evidence is cleared, and so is its quote in the title and the why.
        """
        if entry.state in ENDED:
            entry = without_evidence(entry)
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO ledger VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    entry.key,
                    entry.kind,
                    entry.contact,
                    entry.uid,
                    entry.state,
                    entry.calendar,
                    _ts(entry.start) if entry.start else None,
                    _ts(entry.end) if entry.end else None,
                    entry.content_hash,
                    entry.ref,
                    entry.title,
                    json.dumps(entry.detail, separators=(",", ":")),
                    _ts(entry.created),
                    _ts(entry.updated),
                ),
            )
            if action:
                db.execute(
                    "INSERT INTO history VALUES (?,?,?,?,?)",
                    (_ts(now), entry.key, entry.kind, entry.contact, action),
                )

    # the personal model

    def personal(self, name: str) -> tuple[datetime, str] | None:
        """When the personal model `name` was trained, and its JSON; None before the first."""
        row = self.db.execute(
            "SELECT trained, data FROM personal WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            return None
        return datetime.fromtimestamp(row[0], UTC), row[1]

    def store_personal(self, name: str, trained: datetime, data: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO personal (name, trained, data) VALUES (?,?,?)",
            (name, _ts(trained), data),
        )

    def delete_ledger(self, key: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM ledger WHERE key = ?", (key,))

    def history(self) -> list[tuple[datetime, str, str, str, str]]:
        return [
            (datetime.fromtimestamp(at, UTC), key, kind, contact, action)
            for at, key, kind, contact, action in self.db.execute(
                "SELECT at, key, kind, contact, action FROM history ORDER BY at, rowid"
            )
        ]


@contextmanager
def _faults(folder: Path) -> Iterator[None]:
    """A full disk or a read-only `folder` as a `StorageError` that says what to do."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        error = storage_error(exc, "the state", str(folder), "[paths] state in config.toml")
        if error is None:
            raise
        raise error from exc


def without_evidence(entry: LedgerEntry) -> LedgerEntry:
    """`entry` with its sentence cleared: the evidence, and its quotes in title and why."""
    sentence = str(entry.detail.get("evidence", "") or "")
    if not sentence:
        return entry
    detail = dict(entry.detail, evidence="")
    for name in ("why", "title"):
        if isinstance(detail.get(name), str):
            detail[name] = _unquote(detail[name], sentence)
    return replace(entry, detail=detail, title=_unquote(entry.title, sentence))


def _unquote(text: str, sentence: str) -> str:
    """`text` with `sentence` (or a shortened "sentence start…" of it) replaced by "…"."""
    folded = " ".join(sentence.split())
    if folded and folded in text:
        return text.replace(folded, "…")
    for size in range(len(folded) - 1, 11, -1):  # detect shortens a quote to a prefix + "…"
        cut = folded[:size].rstrip() + "…"
        if cut in text:
            return text.replace(cut, "…")
    return text


def _kind(stored: str, key: str) -> Kind:
    """The kind of a ledger row. Before `NudgeKey`, a row written without a suggestion
    took its key's first part ("promise"); the key says which kind that is."""
    try:
        return Kind(stored)
    except ValueError:
        return NudgeKey.parse(key).kind


def _addr_list(items: Iterable[Address], role: str) -> list[list[str]]:
    return [[a.email, a.name, role] for a in items]


def _identities(db: sqlite3.Connection, messages: Sequence[Message]) -> list[str]:
    """Each message's identity, in order; the first message stored under a Message-ID
    is recorded as its first comer (in a batch, the earliest written comes first)."""
    sent = [sent_at(m) for m in messages]
    order = sorted(range(len(messages)), key=lambda i: (sent[i], messages[i].id))
    db.executemany(
        "INSERT OR IGNORE INTO message_ids (message_id, sent) VALUES (?, ?)",
        [(messages[i].message_id, sent[i]) for i in order],
    )
    wanted = sorted({m.message_id for m in messages})
    firsts: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        firsts.update(
            db.execute(
                "SELECT message_id, sent FROM message_ids "
                f"WHERE message_id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
        )
    return [
        identity(m.message_id, s, firsts.get(m.message_id))
        for m, s in zip(messages, sent, strict=True)
    ]


def _message_row(account: str, m: Message, ident: str) -> tuple[Any, ...]:
    return (
        account,
        m.id,
        ident,
        _ts(m.date),
        m.sender.email,
        m.sender.name,
        json.dumps(_addr_list(m.to, "to") + _addr_list(m.cc, "cc"), separators=(",", ":")),
        m.subject,
        m.in_reply_to,
        json.dumps(list(m.references)),
        m.folder.value,
        json.dumps(dict(m.headers), separators=(",", ":")),
        m.link,
    )


class _LazyHeaders(Mapping[str, str]):
    """Header fields parsed from their stored JSON on first use (most are never read)."""

    __slots__ = ("_parsed", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._parsed: dict[str, str] | None = None

    def _fields(self) -> dict[str, str]:
        if self._parsed is None:
            self._parsed = json.loads(self._text)
        return self._parsed

    def __getitem__(self, key: str) -> str:
        return self._fields()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields())

    def __len__(self) -> int:
        return len(self._fields())


_FOLDERS = {role.value: role for role in FolderRole}


def _read_messages(rows: Iterable[Sequence[Any]]) -> list[Message]:
    """Message rows as `Message`s, sharing parsed recipients and senders.

    Identical recipient lists and senders (most of them, in a real mailbox) are
    parsed once and shared, which matters at 100k messages; so does keeping
    the loop's names local.
    """
    people: dict[str, tuple[tuple[Address, ...], tuple[Address, ...]]] = {}
    senders: dict[tuple[str, str], Address] = {}
    stamp, loads, folders = datetime.fromtimestamp, json.loads, _FOLDERS
    found: list[Message] = []
    keep = found.append
    for (
        account,
        id_,
        mid,
        date,
        sender,
        sender_name,
        recipients,
        subject,
        irt,
        refs,
        folder,
        headers,
        link,
    ) in rows:
        to_cc = people.get(recipients)
        if to_cc is None:
            listed = loads(recipients)
            to_cc = people[recipients] = (
                tuple(Address(e, n) for e, n, r in listed if r == "to"),
                tuple(Address(e, n) for e, n, r in listed if r == "cc"),
            )
        who = senders.get((sender, sender_name))
        if who is None:
            who = senders[(sender, sender_name)] = Address(sender, sender_name)
        keep(
            Message(
                id=id_,
                account=account,
                message_id=mid,
                date=stamp(date, UTC),
                sender=who,
                to=to_cc[0],
                cc=to_cc[1],
                subject=subject,
                in_reply_to=irt,
                references=tuple(loads(refs)) if refs != "[]" else (),
                folder=folders.get(folder) or FolderRole(folder),
                headers=_LazyHeaders(headers) if headers != "{}" else {},
                link=link,
            )
        )
    return found
