"""Exchange Server mail over EWS SyncFolderItems.

Each folder is synchronised with its own EWS SyncState. exchangelib's
``folder.sync_items`` only reveals the new state after its generator is fully
consumed, so a long first sync would checkpoint nothing; this module drives
the ``SyncFolderItems`` service one page (``MaxChangesReturned``) at a time
instead, and every page becomes a `MailBatch` carrying the state after it.

SyncFolderItems returns ids (and here the received time, to skip mail older
than `since` without fetching it); one GetItem per page then fetches only the
fields nurture needs (addresses, threading, rule headers, OWA link), because
SyncFolderItems, like FindItem, cannot return recipients or Internet headers.

Bodies are fetched as text, never as MIME: a message's MimeContent carries its
attachments, so 50 messages with a 23 MB attachment each made one GetItem of
more than 1.1 GB. Exchange 2013 and later render every message as plain text
(``TextBody``); Exchange 2010 has no such field, so there the ``Body`` is read
as the server holds it (HTML or text) and nurture converts HTML itself. Either
way no attachment byte is requested, and at most `TEXT_BUDGET` characters of a
message are kept, as the local and IMAP readers keep.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from exchangelib import Account
from exchangelib.errors import ErrorInvalidSyncStateData
from exchangelib.fields import FieldPath
from exchangelib.folders import Folder
from exchangelib.items import ID_ONLY, Message
from exchangelib.properties import HTMLBody, ItemId, Mailbox
from exchangelib.services import SyncFolderItems
from exchangelib.version import EXCHANGE_2013

from nurture.bodies import TEXT_BUDGET
from nurture.connector import MailBatch, MailSource
from nurture.errors import CursorExpired
from nurture.headers import decode, display_name, message_ids
from nurture.model import RULE_HEADERS, UTC, Address, Body, FolderRole
from nurture.model import Message as Mail

from .ews import Session, to_utc

log = logging.getLogger(__name__)

PAGE_SIZE = 256
CURSOR_VERSION = 1
MESSAGE_FIELDS = (
    "message_id",
    "datetime_received",
    "datetime_sent",
    "author",
    "sender",
    "to_recipients",
    "cc_recipients",
    "reply_to",
    "subject",
    "in_reply_to",
    "references",
    "headers",
    "web_client_read_form_query_string",
    "is_draft",
)


def _listed(call: Callable[[], Iterable[Any]]) -> list[Any]:
    return list(call())


def _address(mailbox: Mailbox | None) -> Address | None:
    if mailbox is None or not mailbox.email_address or "@" not in mailbox.email_address:
        return None
    return Address(mailbox.email_address, display_name(mailbox.name or "", mailbox.email_address))


def _addresses(mailboxes: Sequence[Mailbox] | None) -> tuple[Address, ...]:
    return tuple(a for a in (_address(m) for m in mailboxes or ()) if a is not None)


def _utc(value: Any) -> datetime | None:
    return to_utc(value) if value is not None else None


def to_message(item: Message, role: FolderRole) -> Mail | None:
    """An exchangelib Message as nurture's `Message`; None for drafts."""
    if item.is_draft:
        return None
    headers: dict[str, str] = {}
    for header in item.headers or ():
        name = str(header.name or "").lower()
        if name in RULE_HEADERS and name not in headers:
            headers[name] = decode(header.value)[:500]
    reply_to = _addresses(item.reply_to)
    if reply_to and "reply-to" not in headers:
        headers["reply-to"] = ", ".join(a.email for a in reply_to)
    refs = message_ids(item.references)
    answers = message_ids(item.in_reply_to)
    own = message_ids(item.message_id)
    when = _utc(item.datetime_sent if role is FolderRole.SENT else item.datetime_received)
    when = when or _utc(item.datetime_received) or datetime.now(UTC)
    sender = _address(item.author) or _address(item.sender) or Address("unknown@invalid")
    return Mail(
        id=str(item.id),
        message_id=own[0] if own else f"{item.id}@nurture.invalid",
        date=when,
        sender=sender,
        to=_addresses(item.to_recipients),
        cc=_addresses(item.cc_recipients),
        subject=str(item.subject or "")[:500],
        in_reply_to=answers[-1] if answers else (refs[-1] if refs else ""),
        references=refs,
        folder=role,
        headers=headers,
        link=str(item.web_client_read_form_query_string or ""),
    )


class ExchangeMailSource(MailSource):
    """Inbox and Sent Items of one Exchange mailbox, by SyncFolderItems."""

    def __init__(
        self,
        session: Session,
        page_size: int = PAGE_SIZE,
        extra: Sequence[str] = (),
    ) -> None:
        self._session = session
        self._extra = tuple(extra)
        self._guard = session.guard
        self._page_size = page_size

    @property
    def _account(self) -> Account:
        return self._session.account

    @property
    def _folders(self) -> tuple[tuple[str, Folder, FolderRole], ...]:
        folders = self._session.folders
        found: list[tuple[str, Folder, FolderRole]] = [
            ("inbox", folders.inbox, FolderRole.INBOX),
            ("sent", folders.sent, FolderRole.SENT),
        ]
        for name, folder in self._session.named(self._extra).items():
            role = FolderRole.ARCHIVE if name.casefold() == "archive" else FolderRole.OTHER
            found.append((f"folder:{name}", folder, role))
        return tuple(found)

    def changes(self, cursor: str | None, since: datetime) -> Iterator[MailBatch]:
        states = self._states(cursor)
        for name, folder, role in self._folders:
            state = states.get(name)
            while True:
                service = SyncFolderItems(account=self._account)
                try:
                    changes = self._guard(partial(self._page, service, folder, state))
                except ErrorInvalidSyncStateData as exc:
                    raise CursorExpired(f"Exchange refused the {name} sync state") from exc
                wanted, deleted = [], []
                for change, item in changes:
                    if change == SyncFolderItems.DELETE:
                        deleted.append(str(item.id))
                    elif change in (SyncFolderItems.CREATE, SyncFolderItems.UPDATE):
                        if not isinstance(item, Message):
                            continue
                        when = _utc(item.datetime_received)
                        if when is None or when >= since:
                            wanted.append((item.id, item.changekey))
                messages = self._fetch(folder, wanted, role)
                states[name] = service.sync_state
                yield MailBatch(
                    tuple(messages),
                    tuple(deleted),
                    json.dumps({"v": CURSOR_VERSION, "states": states}, sort_keys=True),
                )
                if service.includes_last_item_in_range or service.sync_state == state:
                    break
                state = service.sync_state

    def _page(self, service: SyncFolderItems, folder: Folder, state: str | None) -> list[Any]:
        """One SyncFolderItems call: ids and received times of up to a page of changes."""
        received = {FieldPath(field=folder.get_item_field_by_fieldname("datetime_received"))}
        return list(
            service.call(
                folder=folder,
                shape=ID_ONLY,
                additional_fields=received,
                sync_state=state,
                ignore=None,
                max_changes_returned=self._page_size,
                sync_scope="NormalItems",
            )
        )

    def _fetch(self, folder: Folder, ids: list[tuple[str, str]], role: FolderRole) -> list[Mail]:
        if not ids:
            return []
        items = self._guard(
            lambda: list(
                self._account.fetch(
                    ids=ids, folder=folder, only_fields=MESSAGE_FIELDS, chunk_size=len(ids)
                )
            )
        )
        found = []
        for item in items:
            if isinstance(item, Message):
                message = to_message(item, role)
                if message is not None:
                    found.append(message)
        return found

    @staticmethod
    def _states(cursor: str | None) -> dict[str, str]:
        if not cursor:
            return {}
        try:
            state = json.loads(cursor)
        except ValueError as exc:
            raise CursorExpired("unreadable Exchange cursor") from exc
        if not isinstance(state, dict) or state.get("v") != CURSOR_VERSION:
            raise CursorExpired("Exchange cursor from another version")
        return {str(k): str(v) for k, v in (state.get("states") or {}).items()}

    def bodies(self, ids: Sequence[str]) -> Iterator[tuple[str, Body]]:
        """Each message's text, without its attachments (one GetItem for up to 50)."""
        wanted = list(dict.fromkeys(ids))
        folder = self._folders[0][1]
        # The version is known from the configured build or the first answer; asking
        # for it may probe the server, hence the guard.
        rendered = bool(self._guard(lambda: self._account.version.build >= EXCHANGE_2013))
        field = "text_body" if rendered else "body"
        for start in range(0, len(wanted), 50):
            chunk = wanted[start : start + 50]
            fetch = partial(
                self._account.fetch,
                ids=[ItemId(id=i) for i in chunk],
                folder=folder,
                only_fields=[field],
                chunk_size=len(chunk),
            )
            items: list[Any] = self._guard(partial(_listed, fetch))
            for message_id, item in zip(chunk, items, strict=True):
                if not isinstance(item, Message):
                    continue  # ErrorItemNotFound: deleted since, skipped
                body = _body(item.text_body if rendered else item.body)
                if body is not None:
                    yield message_id, body


def _body(content: str | None) -> Body | None:
    """A fetched body as nurture's `Body`, its first `TEXT_BUDGET` characters; None if empty.

    An `HTMLBody` (only Exchange 2010 sends one: later servers are asked for text) goes
    to nurture's own HTML-to-text conversion, which keeps quoted blocks recognisable.
    """
    if not content:
        return None
    if isinstance(content, HTMLBody):
        return Body(html=str(content[:TEXT_BUDGET]))
    return Body(text=str(content[:TEXT_BUDGET]))
