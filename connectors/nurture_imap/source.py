"""The IMAP mail source: incremental header sync per folder, bodies on demand.

One sync, per folder, in this order of preference: INBOX, Sent, Archive,
configured extras. A folder whose STATUS (UIDVALIDITY, UIDNEXT, MESSAGES) is
what the cursor says is not opened at all, so a sync with no change costs one
round trip for the whole account where the server offers LIST-STATUS
(RFC 5819), else one STATUS per folder. A changed folder is opened read-only
(EXAMINE, so no flag is ever set) and:

- new mail is ``UID SEARCH UID <uidnext>:*``, headers fetched in batches of
  explicit UIDs with ``BODY.PEEK[HEADER.FIELDS (...)]``;
- expunges are found by arithmetic first (old count + new = EXISTS means none)
  and only otherwise by asking which known UIDs still exist; this works with
  or without CONDSTORE/QRESYNC, and HIGHESTMODSEQ is kept in the cursor;
- a changed UIDVALIDITY resets that folder alone: its old ids are reported
  deleted and it is read again under new ids;
- a folder that disappeared has all its messages reported deleted.

A message already reported from a preferred folder in the same sync (same
Message-ID) is not reported again from a later one. Gmail (X-GM-EXT-1) is read
from "All Mail" alone, with the folder role taken from its labels, so nothing is
counted twice there.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import imapclient
import imapclient.exceptions
from imapclient.response_parser import parse_response

from nurture.bodies import compact_message
from nurture.connector import MailBatch, MailSource
from nurture.errors import ConnectorError, TransientError
from nurture.model import Body, FolderRole, Message

from . import cursor as cursors
from .connection import Settings, interrupt, open_client, translated
from .cursor import FolderState
from .headers import FETCH_ITEM, to_message

log = logging.getLogger(__name__)

HEADER_BATCH = 500
BODY_BATCH = 20
# Of each body, only its first MiB is fetched (a partial FETCH): the text parts
# come first in what mail clients send, and the NLP reads far less than this;
# an attachment after them is never transferred. 20 asks with a 23 MB
# attachment each took 460 MB per FETCH, and the analysis held 200 of them.
BODY_BYTES = 1024 * 1024
_BODY_ITEM = f"BODY.PEEK[]<0.{BODY_BYTES}>"
_SENT_NAMES = ("Sent", "Sent Items", "Sent Messages", "Sent Mail", "INBOX.Sent", "INBOX/Sent")
_ARCHIVE_NAMES = ("Archive", "Archives", "INBOX.Archive", "INBOX/Archive")
_ORDER: dict[FolderRole | str, int] = {
    FolderRole.INBOX: 0,
    FolderRole.SENT: 1,
    FolderRole.ARCHIVE: 2,
    FolderRole.OTHER: 3,
}
ALL_MAIL = "all"  # the role string of Gmail's All Mail in the cursor
# Folder name → its role (or ALL_MAIL), in the order folders are read.
Plan = dict[str, FolderRole | str]


@dataclass(frozen=True, slots=True)
class FolderConfig:
    """User overrides for servers without SPECIAL-USE, and extra folders to read."""

    sent: str = ""
    archive: str = ""
    extra: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Status:
    uidvalidity: int
    uidnext: int
    messages: int
    modseq: int | None


def message_ident(folder: str, uidvalidity: int, uid: int) -> str:
    """The connector's message id: folder/UIDVALIDITY/UID (stable until UIDVALIDITY changes)."""
    return f"{folder}/{uidvalidity}/{uid}"


def split_ident(ident: str) -> tuple[str, int, int] | None:
    folder, _, rest = ident.rpartition("/")
    folder, _, validity = folder.rpartition("/")
    try:
        return folder, int(validity), int(rest)
    except ValueError:
        return None


def _role_from_labels(labels: Iterable[Any]) -> FolderRole | None:
    names = {(x.decode() if isinstance(x, bytes) else str(x)).lower() for x in labels}
    if "\\draft" in names:
        return None
    if "\\sent" in names:
        return FolderRole.SENT
    if "\\inbox" in names:
        return FolderRole.INBOX
    return FolderRole.ARCHIVE


class ImapMailSource(MailSource):
    """Reads one IMAP account; keeps one connection open between syncs."""

    def __init__(
        self,
        settings: Settings,
        secret: Callable[[str], str | None],
        auth_command: str,
        folders: FolderConfig | None = None,
        header_batch: int = HEADER_BATCH,
    ) -> None:
        self.settings = settings
        self._secret = secret
        self._auth_command = auth_command
        self._folders = folders or FolderConfig()
        self.header_batch = header_batch
        self._client: imapclient.IMAPClient | None = None
        self._socket: socket.socket | None = None  # the client's, from its first moment
        self._fresh = False
        self._selected: str | None = None

    # -- connection -------------------------------------------------------

    def _connect(self) -> imapclient.IMAPClient:
        if self._client is None:
            self._client = open_client(
                self.settings, self._secret, self._auth_command, self._keep_socket
            )
            self._fresh = True
            self._selected = None
        return self._client

    def _select(self, client: imapclient.IMAPClient, name: str) -> dict[bytes, Any]:
        """Open `name` read-only (EXAMINE: no flag can change)."""
        self._selected = None
        selected: dict[bytes, Any] = client.select_folder(name, readonly=True)
        self._selected = name
        return selected

    def _unselect(self, client: imapclient.IMAPClient) -> None:
        """Leave the open folder.

        STATUS on the folder a session has open may answer from the session's
        stale view (RFC 3501 6.3.10 warns so; Dovecot does), and a no-change
        sync trusts STATUS: so no folder stays open between syncs.
        """
        if self._selected is None:
            return
        if client.has_capability("UNSELECT"):
            client.unselect_folder()
        else:
            client.close_folder()  # opened with EXAMINE: CLOSE expunges nothing
        self._selected = None

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.shutdown()

    def interrupt(self) -> None:
        """Cut the connection from another thread, even one still connecting: a blocked
        read ends at once (imaplib reports the connection aborted: a `TransientError`)."""
        interrupt(self._socket)

    def _keep_socket(self, sock: socket.socket) -> None:
        self._socket = sock

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.logout()

    def _guard(self, what: str) -> contextlib.AbstractContextManager[None]:
        return translated(self._auth_command, what)

    # -- folders and their status ------------------------------------------

    def _overview(self) -> tuple[imapclient.IMAPClient, Plan, dict[str, Status]]:
        """Connect (again if a kept connection went stale), find the folders, read their STATUS."""
        for attempt in (1, 2):
            client = self._connect()
            reused, self._fresh = not self._fresh, False
            try:
                with self._guard("reading folder status"):
                    return (client, *self._plan_and_status(client))
            except TransientError:
                self._drop()
                if attempt == 2 or not reused:
                    raise
        raise AssertionError("unreachable")

    def _plan_and_status(self, client: imapclient.IMAPClient) -> tuple[Plan, dict[str, Status]]:
        self._unselect(client)
        items = ["MESSAGES", "UIDNEXT", "UIDVALIDITY"]
        if client.has_capability("CONDSTORE"):
            items.append("HIGHESTMODSEQ")
        statuses: dict[str, Status] = {}
        if client.has_capability("LIST-STATUS"):
            listing, statuses = _list_status(client, items)
        else:
            listing = client.list_folders()
        plan = self._plan(client, listing)
        for name in plan:
            if name not in statuses:
                try:
                    raw = client.folder_status(name, items)
                except imapclient.exceptions.IMAPClientError as exc:
                    if isinstance(exc, imapclient.exceptions.IMAPClientAbortError):
                        raise
                    log.info("folder %r cannot be read (%s); treating it as gone", name, exc)
                    continue
                statuses[name] = _status(raw)
        return {n: r for n, r in plan.items() if n in statuses}, statuses

    def _plan(self, client: imapclient.IMAPClient, listing: Sequence[tuple[Any, Any, str]]) -> Plan:
        """Which folders to read, with their roles, in order of preference."""
        flags_of = {
            name: {(f.decode() if isinstance(f, bytes) else str(f)).lower() for f in flags}
            for flags, _sep, name in listing
        }
        selectable = {n for n, f in flags_of.items() if "\\noselect" not in f}

        def special(flag: str, override: str, names: Sequence[str]) -> str | None:
            if override:
                return override if override in selectable else None
            for name in selectable:
                if flag in flags_of[name]:
                    return name
            return next((n for n in names if n in selectable), None)

        if client.has_capability("X-GM-EXT-1"):
            all_mail = special("\\all", "", ())
            if all_mail:
                return {all_mail: ALL_MAIL}
        plan: Plan = {}
        inbox = next((n for n in selectable if n.upper() == "INBOX"), None)
        if inbox:
            plan[inbox] = FolderRole.INBOX
        sent = special("\\sent", self._folders.sent, _SENT_NAMES)
        if sent:
            plan.setdefault(sent, FolderRole.SENT)
        archive = special("\\archive", self._folders.archive, _ARCHIVE_NAMES)
        if archive:
            plan.setdefault(archive, FolderRole.ARCHIVE)
        for name in self._folders.extra:
            if name in selectable:
                plan.setdefault(name, FolderRole.OTHER)
        return plan

    # -- sync -------------------------------------------------------------

    def changes(self, cursor: str | None, since: datetime) -> Iterator[MailBatch]:
        state = cursors.decode(cursor)
        try:
            yield from self._changes(state, since)
        except TransientError:
            self._drop()
            raise

    def _changes(self, state: dict[str, FolderState], since: datetime) -> Iterator[MailBatch]:
        client, plan, statuses = self._overview()
        state = dict(state)
        gone: list[str] = []
        for name in sorted(set(state) - set(plan)):
            dropped = state.pop(name)
            log.info(
                "folder %r is gone; its %d messages are reported deleted", name, len(dropped.uids)
            )
            gone.extend(message_ident(name, dropped.uidvalidity, u) for u in sorted(dropped.uids))
        if gone:
            yield MailBatch(deleted=tuple(gone), cursor=cursors.encode(state))
        reported: set[str] = set()
        changed = False
        ordered = sorted(plan, key=lambda n: _ORDER.get(plan[n], 0))
        for name in ordered:
            role, status = plan[name], statuses[name]
            old = state.get(name)
            role_text = str(role)
            if (
                old is not None
                and old.role == role_text
                and old.uidvalidity == status.uidvalidity
                and old.uidnext == status.uidnext
                and old.count == status.messages
            ):
                if old.modseq != status.modseq:  # flags only: nothing nurture reads
                    state[name] = old.but(modseq=status.modseq)
                continue
            with self._guard(f"syncing {name}"):
                for messages, deleted, new_state in self._sync_folder(
                    client,
                    name,
                    role,
                    old if old and old.role == role_text else None,
                    status,
                    since,
                    reported,
                ):
                    state[name] = new_state
                    changed = True
                    yield MailBatch(messages, deleted, cursors.encode(state))
        with self._guard("closing the folder"):
            self._unselect(client)
        if not changed:
            yield MailBatch(cursor=cursors.encode(state))

    def _sync_folder(
        self,
        client: imapclient.IMAPClient,
        name: str,
        role: FolderRole | str,
        old: FolderState | None,
        status: Status,
        since: datetime,
        reported: set[str],
    ) -> Iterator[tuple[tuple[Message, ...], tuple[str, ...], FolderState]]:
        selected = self._select(client, name)
        uidvalidity = int(selected.get(b"UIDVALIDITY", status.uidvalidity))
        uidnext = int(selected.get(b"UIDNEXT", status.uidnext))
        exists = int(selected.get(b"EXISTS", status.messages))
        modseq = selected.get(b"HIGHESTMODSEQ", status.modseq)
        deleted: list[str] = []
        if old is not None and old.uidvalidity != uidvalidity:
            log.info("UIDVALIDITY of %r changed; reading the folder again", name)
            deleted = [message_ident(name, old.uidvalidity, u) for u in sorted(old.uids)]
            old = None
        if old is None:
            known: frozenset[int] = frozenset()
            found = client.search(["SINCE", since.date()])
            todo = sorted(u for u in found if u < uidnext)
        else:
            known = old.uids
            found = client.search(["UID", f"{old.uidnext}:*"])
            todo = sorted(u for u in found if old.uidnext <= u < uidnext)
            if old.count is None or exists != old.count + len(todo):
                survivors = set(client.search(["UID", cursors.compress(known)])) if known else set()
                vanished = known - survivors
                deleted.extend(message_ident(name, uidvalidity, u) for u in sorted(vanished))
                known = known - vanished
        items = [FETCH_ITEM, "INTERNALDATE"]
        if role == ALL_MAIL:
            items.append("X-GM-LABELS")
        final = FolderState(str(role), uidvalidity, uidnext, exists, modseq, known)
        if not todo:
            yield (), tuple(deleted), final
            return
        for start in range(0, len(todo), self.header_batch):
            chunk = todo[start : start + self.header_batch]
            if self._selected != name:  # bodies() was called between two batches
                again = self._select(client, name)
                if int(again.get(b"UIDVALIDITY", uidvalidity)) != uidvalidity:
                    raise TransientError(f"UIDVALIDITY of {name} changed during a sync", 0)
            fetched = client.fetch(chunk, items)
            messages = []
            added: list[int] = []
            for uid in chunk:
                data = fetched.get(uid)
                if data is None:  # expunged meanwhile
                    continue
                message = self._message(name, uidvalidity, uid, role, data)
                if message is None or message.message_id in reported:
                    continue
                reported.add(message.message_id)
                messages.append(message)
                added.append(uid)
            known = known.union(added)
            last = start + self.header_batch >= len(todo)
            checkpoint = (
                final.but(uids=known)
                if last
                else FolderState(str(role), uidvalidity, chunk[-1] + 1, None, None, known)
            )
            yield tuple(messages), tuple(deleted), checkpoint
            deleted = []

    def _message(
        self,
        folder: str,
        uidvalidity: int,
        uid: int,
        role: FolderRole | str,
        data: dict[bytes, Any],
    ) -> Message | None:
        if role == ALL_MAIL:
            folder_role = _role_from_labels(data.get(b"X-GM-LABELS", ()))
            if folder_role is None:
                return None
        else:
            folder_role = FolderRole(role)
        header = next((v for k, v in data.items() if k.startswith(b"BODY[")), b"") or b""
        internal = data.get(b"INTERNALDATE")
        return to_message(message_ident(folder, uidvalidity, uid), header, folder_role, internal)

    # -- bodies -----------------------------------------------------------

    def bodies(self, ids: Sequence[str]) -> Iterator[tuple[str, Body]]:
        wanted: dict[tuple[str, int], list[int]] = {}
        for ident in ids:
            parts = split_ident(ident)
            if parts is not None:
                wanted.setdefault((parts[0], parts[1]), []).append(parts[2])
        if not wanted:
            return
        try:
            client = self._connect()
            for (folder, validity), uids in wanted.items():
                with self._guard(f"fetching bodies from {folder}"):
                    try:
                        selected = self._select(client, folder)
                    except imapclient.exceptions.IMAPClientError as exc:
                        if isinstance(exc, imapclient.exceptions.IMAPClientAbortError):
                            raise
                        continue  # the folder is gone: its ids no longer exist
                    if int(selected.get(b"UIDVALIDITY", -1)) != validity:
                        continue
                    for start in range(0, len(uids), BODY_BATCH):
                        chunk = uids[start : start + BODY_BATCH]
                        fetched = client.fetch(chunk, [_BODY_ITEM])
                        for uid in chunk:
                            data = fetched.pop(uid, {})
                            raw = next(
                                (v for k, v in data.items() if k.startswith(b"BODY[]")), None
                            )
                            if raw is not None:
                                body = compact_message(io.BytesIO(bytes(raw)))
                                yield message_ident(folder, validity, uid), Body(raw=body)
            with self._guard("closing the folder"):
                self._unselect(client)
        except TransientError:
            self._drop()
            raise


def _status(raw: dict[bytes, Any]) -> Status:
    modseq = raw.get(b"HIGHESTMODSEQ")
    return Status(
        uidvalidity=int(raw[b"UIDVALIDITY"]),
        uidnext=int(raw[b"UIDNEXT"]),
        messages=int(raw[b"MESSAGES"]),
        modseq=None if modseq is None else int(modseq),
    )


def _list_status(
    client: imapclient.IMAPClient, items: Sequence[str]
) -> tuple[list[tuple[Any, Any, str]], dict[str, Status]]:
    """LIST with RETURN (SPECIAL-USE STATUS (...)): every folder and its status in one round trip.

    imapclient has no API for RFC 5819, so this goes one level down, to the
    same untagged-response machinery its own list_folders uses.
    """
    args = [b'""', b'"*"', b"RETURN", f"(SPECIAL-USE STATUS ({' '.join(items)}))".encode()]
    typ, data = client._raw_command(b"LIST", args, uid=False)
    client._checkok("list", typ, data)
    imap = client._imap
    _typ, listing_raw = imap._untagged_response(typ, data, "LIST")
    _typ, status_raw = imap._untagged_response(typ, data, "STATUS")
    listing = client._proc_folder_list(listing_raw)
    statuses: dict[str, Status] = {}
    for line in status_raw:
        if not line:
            continue
        parsed = parse_response([line] if isinstance(line, bytes) else list(line))
        name, values = parsed[0], parsed[-1]
        if isinstance(name, bytes):
            name = imapclient.imap_utf7.decode(name) if client.folder_encode else name.decode()
        elif isinstance(name, int):
            name = str(name)
        try:
            statuses[str(name)] = _status(dict(zip(values[::2], values[1::2], strict=True)))
        except (KeyError, ValueError, TypeError) as exc:
            raise ConnectorError(f"unreadable LIST-STATUS reply for {name!r}: {exc}") from exc
    return listing, statuses
