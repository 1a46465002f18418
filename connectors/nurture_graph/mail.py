"""Microsoft 365 mail over Graph delta queries.

One delta query per folder (Inbox, Sent Items). Every page is a checkpoint:
the cursor stores, per folder, the ``@odata.nextLink`` of the page to fetch
next or, once the round is complete, the ``@odata.deltaLink``. A no-change
sync therefore costs one request per folder. A 410 means the server forgot
the state: `CursorExpired`, and the core backfills.

Message ids are Graph *immutable* ids (``Prefer: IdType="ImmutableId"``):
the default ids change when a message moves folder, which would break the
"stable per account" rule.

Header rules: Graph only returns ``internetMessageHeaders`` on a single GET,
which would cost a request per message. Instead each delta page expands three
MAPI properties in the same request: the transport headers (0x007D, present
on received mail; every RULE_HEADERS field comes from it), In-Reply-To (0x1042)
and References (0x1039) for sent mail, which has no transport headers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from datetime import datetime
from email.parser import HeaderParser
from email.policy import compat32
from typing import Any

from nurture.connector import MailBatch, MailSource
from nurture.errors import CursorExpired, Problem, UserError
from nurture.headers import decode, display_name, message_ids
from nurture.model import RULE_HEADERS, UTC, Address, Body, FolderRole, Message

from .client import Gone, GraphClient, GraphError
from .mapi import IN_REPLY_TO, REFERENCES, TRANSPORT_HEADERS

log = logging.getLogger(__name__)

FOLDERS: tuple[tuple[str, FolderRole], ...] = (
    ("inbox", FolderRole.INBOX),
    ("sentitems", FolderRole.SENT),
)
SELECT = ",".join(
    (
        "internetMessageId",
        "receivedDateTime",
        "sentDateTime",
        "from",
        "sender",
        "toRecipients",
        "ccRecipients",
        "replyTo",
        "subject",
        "webLink",
        "isDraft",
    )
)
EXPAND = (
    "singleValueExtendedProperties($filter="
    f"id eq '{TRANSPORT_HEADERS}' or id eq '{IN_REPLY_TO}' or id eq '{REFERENCES}')"
)
PAGE_SIZE = 200
# Graph's well-known folder names usable in place of an id; their roles.
WELL_KNOWN = frozenset(
    {"archive", "deleteditems", "drafts", "inbox", "junkemail", "sentitems", "conversationhistory"}
)
EXTRA_ROLES = {
    "archive": FolderRole.ARCHIVE,
    "junkemail": FolderRole.JUNK,
    "deleteditems": FolderRole.TRASH,
}
BATCH_LIMIT = 20
_HEADERS = HeaderParser(policy=compat32)
CURSOR_VERSION = 1


def immutable_ids(extra: str = "") -> dict[str, str]:
    prefer = 'IdType="ImmutableId"'
    return {"Prefer": f"{prefer}, {extra}" if extra else prefer}


def graph_time(value: str | None) -> datetime | None:
    """A Graph timestamp ("2026-11-02T09:30:00Z") as an aware UTC datetime."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def address(value: dict[str, Any] | None) -> Address | None:
    email = ((value or {}).get("emailAddress") or {}).get("address") or ""
    if "@" not in email:
        return None
    name = ((value or {}).get("emailAddress") or {}).get("name") or ""
    return Address(email, display_name(name, email))


def addresses(values: list[dict[str, Any]] | None) -> tuple[Address, ...]:
    return tuple(a for a in (address(v) for v in values or ()) if a is not None)


def extended(item: dict[str, Any]) -> dict[str, str]:
    """The expanded MAPI properties of `item`, by canonical tag ("String 0x007D")."""
    found = {}
    for prop in item.get("singleValueExtendedProperties") or ():
        kind, _, tag = str(prop.get("id", "")).partition(" ")
        if tag.lower().startswith("0x"):
            found[f"{kind} 0x{int(tag, 16):04X}"] = str(prop.get("value") or "")
    return found


def to_message(item: dict[str, Any], role: FolderRole) -> Message | None:
    """A Graph message resource as a nurture `Message`; None for drafts."""
    if item.get("isDraft"):
        return None
    props = extended(item)
    headers: dict[str, str] = {}
    parsed = _HEADERS.parsestr(props[TRANSPORT_HEADERS]) if props.get(TRANSPORT_HEADERS) else None
    if parsed is not None:
        for name in RULE_HEADERS:
            value = parsed.get(name)
            if value is not None:
                headers[name] = decode(value)[:500]
    reply_to = addresses(item.get("replyTo"))
    if reply_to and "reply-to" not in headers:
        headers["reply-to"] = ", ".join(a.email for a in reply_to)
    refs = message_ids(props.get(REFERENCES) or (parsed.get("references") if parsed else None))
    answers = message_ids(props.get(IN_REPLY_TO) or (parsed.get("in-reply-to") if parsed else None))
    own = message_ids(item.get("internetMessageId"))
    when = graph_time(
        item.get("sentDateTime") if role is FolderRole.SENT else item.get("receivedDateTime")
    ) or graph_time(item.get("receivedDateTime"))
    sender = address(item.get("from")) or address(item.get("sender")) or Address("unknown@invalid")
    return Message(
        id=str(item["id"]),
        message_id=own[0] if own else f"{item['id']}@nurture.invalid",
        date=when or datetime.now(UTC),
        sender=sender,
        to=addresses(item.get("toRecipients")),
        cc=addresses(item.get("ccRecipients")),
        subject=str(item.get("subject") or "")[:500],
        in_reply_to=answers[-1] if answers else (refs[-1] if refs else ""),
        references=refs,
        folder=role,
        headers=headers,
        link=str(item.get("webLink") or ""),
    )


class GraphMailSource(MailSource):
    """Inbox and Sent Items of one Microsoft 365 mailbox, by delta query."""

    def __init__(
        self, client: GraphClient, page_size: int = PAGE_SIZE, extra: Sequence[str] = ()
    ) -> None:
        self._client = client
        self._page_size = page_size
        self._extra = tuple(extra)

    def _folders(self) -> list[tuple[str, FolderRole]]:
        """(cursor key, role) of every folder read: Inbox, Sent Items, the user's."""
        found = list(FOLDERS)
        for name in self._extra:
            role = EXTRA_ROLES.get(name.casefold(), FolderRole.OTHER)
            found.append((f"folder:{name}", role))
        return found

    def _folder_id(self, key: str) -> str:
        """The path segment of a folder: its well-known name, or its id looked up by name."""
        if not key.startswith("folder:"):
            return key
        name = key.removeprefix("folder:")
        if name.casefold() in WELL_KNOWN:
            return name.casefold()
        quoted = name.replace("'", "''")
        found = self._client.get(
            "/me/mailFolders",
            params={"$filter": f"displayName eq '{quoted}'", "$select": "id,displayName"},
            headers=immutable_ids(),
        ).get("value", [])
        if not found:
            raise UserError(
                f"no top-level mail folder called {name!r}",
                [
                    Problem(
                        "folders",
                        "Graph looks folders up by their display name",
                        "use the name Outlook shows, or a well-known name such as archive",
                    )
                ],
            )
        return str(found[0]["id"])

    def _start(self, key: str, since: datetime) -> tuple[str, dict[str, str]]:
        stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        folder = self._folder_id(key)
        return f"/me/mailFolders/{folder}/messages/delta", {
            "$select": SELECT,
            "$expand": EXPAND,
            "$filter": f"receivedDateTime ge {stamp}",
        }

    def _first_page(
        self, key: str, path: str, params: dict[str, str], headers: dict[str, str]
    ) -> dict[str, Any]:
        """The first delta page; without the MAPI expansion if the server refuses it.

        Insurance, not the plan: should a mailbox refuse ``$expand`` on a delta
        query, mail still flows, with fewer header hints (a warning says so).
        """
        try:
            return self._client.get(path, params=params, headers=headers)
        except GraphError as exc:
            if exc.status != 400:
                raise
            log.warning(
                "Graph refused the header expansion on %s; header rules see fewer headers", key
            )
            plain = {k: v for k, v in params.items() if k != "$expand"}
            return self._client.get(path, params=plain, headers=headers)

    def changes(self, cursor: str | None, since: datetime) -> Iterator[MailBatch]:
        links = self._links(cursor)
        headers = immutable_ids(f"odata.maxpagesize={self._page_size}")
        for folder, role in self._folders():
            link = links.get(folder)
            path, params = (link, None) if link else self._start(folder, since)
            while True:
                try:
                    if params is None:
                        page = self._client.get(path, headers=headers)
                    else:
                        page = self._first_page(folder, path, params, headers)
                except Gone as exc:
                    raise CursorExpired(f"Graph forgot the {folder} delta state") from exc
                messages, deleted = [], []
                for item in page.get("value", ()):
                    if "@removed" in item:
                        deleted.append(str(item["id"]))
                        continue
                    message = to_message(item, role)
                    if message is not None:
                        messages.append(message)
                following = page.get("@odata.nextLink")
                links[folder] = following or page.get("@odata.deltaLink") or path
                yield MailBatch(
                    tuple(messages),
                    tuple(deleted),
                    json.dumps({"v": CURSOR_VERSION, "links": links}, sort_keys=True),
                )
                if not following:
                    break
                path, params = following, None

    @staticmethod
    def _links(cursor: str | None) -> dict[str, str]:
        if not cursor:
            return {}
        try:
            state = json.loads(cursor)
        except ValueError as exc:
            raise CursorExpired("unreadable Graph cursor") from exc
        if not isinstance(state, dict) or state.get("v") != CURSOR_VERSION:
            raise CursorExpired("Graph cursor from another version")
        return {str(k): str(v) for k, v in (state.get("links") or {}).items()}

    def bodies(self, ids: Sequence[str]) -> Iterator[tuple[str, Body]]:
        """Bodies as plain text (Graph converts HTML), 20 messages per ``$batch``."""
        wanted = list(dict.fromkeys(ids))
        headers = immutable_ids('outlook.body-content-type="text"')
        for start in range(0, len(wanted), BATCH_LIMIT):
            chunk = wanted[start : start + BATCH_LIMIT]
            requests = [
                {
                    "id": str(n),
                    "method": "GET",
                    "url": f"/me/messages/{message_id}?$select=body",
                    "headers": headers,
                }
                for n, message_id in enumerate(chunk)
            ]
            answers = self._client.batch(requests)
            for n, message_id in enumerate(chunk):
                answer = answers.get(str(n))
                if not answer or answer.get("status") != 200:
                    continue  # gone since: skipped, as the contract says
                body = (answer.get("body") or {}).get("body") or {}
                content = str(body.get("content") or "")
                if str(body.get("contentType", "text")).lower() == "html":
                    yield message_id, Body(html=content)
                else:
                    yield message_id, Body(text=content)
