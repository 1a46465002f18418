"""Gmail as a nurture mail source: a resumable backfill, then history.

Cursor (opaque to the core, JSON, versioned):

- ``{"v": 1, "history": "123"}`` once the mailbox is in sync: the next
  `changes` asks ``history.list`` for what happened after historyId 123;
- ``{"v": 1, "start": "123", "after": 1700000000, "list": "backfill-123.json",
  "count": n, "pos": k}`` during the first sync. ``start`` is the mailbox's
  historyId taken before listing, so mail that arrives or changes during the
  backfill comes from history afterwards. The first sync lists every id in
  the window first (one ``messages.list`` per 500) into a checkpoint file in
  the cache folder, then fetches metadata in batches; ``pos`` counts the ids
  delivered. Listing everything up front means a message deleted while the
  backfill runs (or while the process is down) cannot shift a later page and
  hide a message, and a crash resumes at the last committed batch. A missing
  or mismatched checkpoint file only costs listing again.

Costs: the first sync spends one ``getProfile``, one ``messages.list`` per 500
messages and one ``messages.get`` (format=metadata) per message, sent in batch
requests; a no-change sync spends one ``history.list``.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from nurture.connector import MailBatch, MailSource
from nurture.errors import CursorExpired
from nurture.headers import display_name
from nurture.model import RULE_HEADERS, Address, Body, FolderRole, Message

from .calls import Caller, Missing

log = logging.getLogger(__name__)

CURSOR_VERSION = 1
PAGE_SIZE = 500
MAX_HEADER = 500  # a rule needs the start of a header; a huge one is noise
ADDRESS_HEADERS = ("from", "to", "cc", "subject", "message-id", "in-reply-to", "references")
METADATA_HEADERS: tuple[str, ...] = ADDRESS_HEADERS + tuple(
    h for h in RULE_HEADERS if h not in ADDRESS_HEADERS
)
# Labels whose change moves a message between folder roles; others (UNREAD,
# STARRED, IMPORTANT, user labels) change nothing nurture looks at.
ROLE_LABELS = frozenset({"INBOX", "SENT", "SPAM", "TRASH", "DRAFT"})
CATEGORIES = {
    "CATEGORY_PROMOTIONS": "promotions",
    "CATEGORY_UPDATES": "updates",
    "CATEGORY_SOCIAL": "social",
    "CATEGORY_FORUMS": "forums",
}
HISTORY_TYPES = ["messageAdded", "messageDeleted", "labelAdded", "labelRemoved"]


def folder_role(labels: Sequence[str]) -> FolderRole:
    """Gmail labels → nurture's folder role (trash and spam win over the rest)."""
    found = set(labels)
    if "TRASH" in found:
        return FolderRole.TRASH
    if "SPAM" in found:
        return FolderRole.JUNK
    if "SENT" in found:
        return FolderRole.SENT
    if "INBOX" in found:
        return FolderRole.INBOX
    return FolderRole.ARCHIVE


def _decode(value: str) -> str:
    """Unfold a header value and decode RFC 2047 words."""
    value = " ".join(value.split())
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError):
        return value


def _message_ids(value: str) -> tuple[str, ...]:
    return tuple(part.strip("<>") for part in value.split() if part.strip("<>"))


def _addresses(value: str) -> tuple[Address, ...]:
    return tuple(
        Address(email, display_name(_decode(name), email))
        for name, email in getaddresses([value])
        if email
    )


def to_message(data: dict[str, Any]) -> Message | None:
    """A Gmail ``messages.get`` (format=metadata) answer → `Message` (None for drafts, chats)."""
    labels = data.get("labelIds", [])
    if "DRAFT" in labels or "CHAT" in labels:
        return None
    headers: dict[str, str] = {}
    for item in data.get("payload", {}).get("headers", []):
        name = item["name"].lower()
        if name not in headers:
            headers[name] = _decode(item.get("value", ""))
    rule_headers = {k: v[:MAX_HEADER] for k, v in headers.items() if k in RULE_HEADERS}
    for label, category in CATEGORIES.items():
        if label in labels:
            # Gmail's tab is a strong bulk signal; header rules can match it.
            rule_headers["x-gmail-category"] = category
    senders = _addresses(headers.get("from", ""))
    message_ids = _message_ids(headers.get("message-id", ""))
    date = datetime.fromtimestamp(int(data.get("internalDate", "0")) / 1000, tz=UTC)
    in_reply_to = _message_ids(headers.get("in-reply-to", ""))
    return Message(
        id=data["id"],
        message_id=message_ids[0] if message_ids else f"{data['id']}@gmail.invalid",
        date=date,
        sender=senders[0] if senders else Address(""),
        to=_addresses(headers.get("to", "")),
        cc=_addresses(headers.get("cc", "")),
        subject=headers.get("subject", ""),
        in_reply_to=in_reply_to[0] if in_reply_to else "",
        references=_message_ids(headers.get("references", "")),
        folder=folder_role(labels),
        headers=rule_headers,
        link=f"https://mail.google.com/mail/#all/{data.get('threadId', data['id'])}",
    )


def encode_cursor(**fields: Any) -> str:
    return json.dumps({"v": CURSOR_VERSION, **fields}, separators=(",", ":"))


def decode_cursor(cursor: str) -> dict[str, Any]:
    """Parse a cursor; a foreign or older format counts as expired."""
    try:
        data = json.loads(cursor)
    except ValueError:
        raise CursorExpired(f"unreadable Gmail cursor {cursor[:40]!r}") from None
    if not isinstance(data, dict) or data.get("v") != CURSOR_VERSION:
        raise CursorExpired("Gmail cursor from another version")
    return data


class GmailSource(MailSource):
    """One Gmail account's mail, read with the ``gmail.readonly`` scope."""

    def __init__(
        self,
        service: Any,
        caller: Caller,
        progress: Callable[[int, int | None], None] = lambda _d, _t: None,
        page_size: int = PAGE_SIZE,
        earliest: Callable[[], datetime | None] = lambda: None,
        checkpoints: Path | None = None,
    ) -> None:
        """`earliest` bounds the first sync (the account's ``window_months``);
        `checkpoints` is the folder for the backfill's id list (None: memory only)."""
        self._service = service
        self._caller = caller
        self._progress = progress
        self._page_size = page_size
        self._earliest = earliest
        self._checkpoints = checkpoints
        self._listed: dict[str, list[str]] = {}
        # Building resource objects is costly in google-api-python-client: once.
        self._messages = service.users().messages()
        self._histories = service.users().history()

    def changes(self, cursor: str | None, since: datetime) -> Iterator[MailBatch]:
        if cursor is None:
            profile = self._caller.execute(self._service.users().getProfile(userId="me"))
            state: dict[str, Any] = {
                "start": str(profile["historyId"]),
                "after": int(max(since, self._earliest() or since).timestamp()),
            }
            yield from self._backfill(state)
            return
        state = decode_cursor(cursor)
        if "history" in state:
            yield from self._history(str(state["history"]))
        else:
            yield from self._backfill(state)

    # -- first sync -------------------------------------------------------

    def _backfill(self, state: dict[str, Any]) -> Iterator[MailBatch]:
        ids = self._load(state)
        if ids is None:
            ids = self._list_all(state["after"])
            state.update(list=f"backfill-{state['start']}.json", count=len(ids), pos=0)
            self._save(state["list"], ids)
        pos, total = int(state["pos"]), len(ids)
        while pos < total:
            chunk = ids[pos : pos + self._caller.batch_size]
            messages = self._metadata(chunk)
            pos += len(chunk)
            self._progress(pos, total)
            yield MailBatch(
                messages=tuple(messages),
                cursor=encode_cursor(
                    start=state["start"],
                    after=state["after"],
                    list=state["list"],
                    count=total,
                    pos=pos,
                ),
                total=total,
            )
        yield MailBatch(cursor=encode_cursor(history=state["start"]), total=total)

    def _list_all(self, after: int) -> list[str]:
        """Every message id in the window, newest first."""
        ids: dict[str, None] = {}
        page: str | None = None
        while True:
            listing = self._caller.execute(
                self._messages.list(
                    userId="me",
                    q=f"after:{after}",
                    maxResults=self._page_size,
                    includeSpamTrash=True,
                    pageToken=page,
                )
            )
            ids.update(dict.fromkeys(m["id"] for m in listing.get("messages", [])))
            page = listing.get("nextPageToken")
            if not page:
                return list(ids)

    def _load(self, state: dict[str, Any]) -> list[str] | None:
        """The checkpointed id list named in `state`, if it is still there and whole."""
        name = state.get("list")
        if not name:
            return None
        ids = self._listed.get(name)
        if ids is None and self._checkpoints is not None:
            try:
                ids = json.loads((self._checkpoints / name).read_text())
            except (OSError, ValueError):
                ids = None
        if not isinstance(ids, list) or len(ids) != state.get("count"):
            log.info("Gmail backfill checkpoint %s is gone; listing the mailbox again", name)
            return None
        return ids

    def _save(self, name: str, ids: list[str]) -> None:
        self._listed = {name: ids}
        if self._checkpoints is None:
            return
        self._checkpoints.mkdir(parents=True, exist_ok=True)
        for old in self._checkpoints.glob("backfill-*.json"):
            old.unlink(missing_ok=True)
        tmp = self._checkpoints / f".{name}.tmp"
        tmp.write_text(json.dumps(ids))
        tmp.replace(self._checkpoints / name)

    def _metadata(self, ids: Sequence[str]) -> list[Message]:
        """Fetch metadata for `ids` in batches; skip those gone and drafts."""
        factories = {
            i: (
                lambda i=i: self._messages.get(
                    userId="me", id=i, format="metadata", metadataHeaders=list(METADATA_HEADERS)
                )
            )
            for i in dict.fromkeys(ids)
        }
        found: list[Message] = []
        for _key, data in self._caller.batch(self._service, factories):
            if isinstance(data, Missing):
                continue
            message = to_message(data)
            if message is not None:
                found.append(message)
        return found

    # -- incremental ------------------------------------------------------

    def _history(self, start: str) -> Iterator[MailBatch]:
        if self._checkpoints is not None:  # the backfill is over: drop its id list
            for done in self._checkpoints.glob("backfill-*.json"):
                done.unlink(missing_ok=True)
        added: dict[str, None] = {}
        deleted: dict[str, None] = {}
        page: str | None = None
        latest = start
        while True:
            request = self._histories.list(
                userId="me",
                startHistoryId=start,
                historyTypes=HISTORY_TYPES,
                maxResults=self._page_size,
                pageToken=page,
            )
            try:
                answer = self._caller.execute(request)
            except Missing:
                raise CursorExpired(f"Gmail history {start} is too old") from None
            for record in answer.get("history", []):
                self._apply(record, added, deleted)
            latest = str(answer.get("historyId", latest))
            page = answer.get("nextPageToken")
            if not page:
                break
        ids = [i for i in added if i not in deleted]
        if not ids:
            yield MailBatch(deleted=tuple(deleted), cursor=encode_cursor(history=latest))
            return
        # Deletions go with the first batch; the history cursor only with the last.
        chunks = [ids[i : i + PAGE_SIZE] for i in range(0, len(ids), PAGE_SIZE)]
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            messages = self._metadata(chunk)
            cursor = encode_cursor(history=latest if last else start)
            yield MailBatch(
                messages=tuple(messages),
                deleted=tuple(deleted) if index == 0 else (),
                cursor=cursor,
            )

    @staticmethod
    def _apply(record: dict[str, Any], added: dict[str, None], deleted: dict[str, None]) -> None:
        for item in record.get("messagesAdded", []):
            message = item["message"]
            if "DRAFT" not in message.get("labelIds", []):
                added[message["id"]] = None
                deleted.pop(message["id"], None)
        for item in record.get("messagesDeleted", []):
            deleted[item["message"]["id"]] = None
            added.pop(item["message"]["id"], None)
        for kind in ("labelsAdded", "labelsRemoved"):
            for item in record.get(kind, []):
                if ROLE_LABELS.intersection(item.get("labelIds", [])):
                    added[item["message"]["id"]] = None

    # -- bodies -----------------------------------------------------------

    def bodies(self, ids: Sequence[str]) -> Iterator[tuple[str, Body]]:
        """Text and HTML parts (``format=full``): attachments stay on Google's side."""
        factories = {
            i: (lambda i=i: self._messages.get(userId="me", id=i, format="full"))
            for i in dict.fromkeys(ids)
        }
        for key, data in self._caller.batch(self._service, factories):
            if isinstance(data, Missing) or "payload" not in data:
                continue
            yield key, body_of(data["payload"])


def _unb64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def _charset(part: dict[str, Any]) -> str:
    for header in part.get("headers", []):
        if header["name"].lower() == "content-type":
            found = re.search(r'charset="?([\w.:-]+)"?', header["value"], re.IGNORECASE)
            if found:
                return found.group(1)
    return "utf-8"


def body_of(payload: dict[str, Any]) -> Body:
    """The first text/plain and text/html parts of a ``format=full`` payload.

    Gmail undoes the transfer encoding but not the charset; parts with a file
    name are attachments and are skipped.
    """
    found: dict[str, str] = {}
    stack = [payload]
    while stack:
        part = stack.pop(0)
        mime = part.get("mimeType", "")
        if mime.startswith("multipart/"):
            stack = list(part.get("parts", [])) + stack
            continue
        data = part.get("body", {}).get("data")
        if part.get("filename") or not data or mime not in ("text/plain", "text/html"):
            continue
        if mime not in found:
            raw = _unb64(data)
            try:
                found[mime] = raw.decode(_charset(part), "replace")
            except LookupError:
                found[mime] = raw.decode("utf-8", "replace")
    return Body(text=found.get("text/plain"), html=found.get("text/html"))
