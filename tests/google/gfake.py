"""A stateful fake of Gmail and Google Calendar behind an httplib2-compatible `request()`.

The real google-api-python-client talks to it (``build(..., http=...)``), so
what is tested is the request the library really sends. Every request is
routed and validated by the shipped discovery documents; a violation is
recorded in `FakeGoogle.violations` (the fixture fails the test on teardown)
and answered 400, as Google would.

It models what the connector depends on: Gmail paging, historyIds with an
expiry floor (404), Calendar sync tokens with an expiry floor (410), event ids
that can never be reused (409), etags (412), batch requests with per-call
answers, injected faults (429 with Retry-After, 403 rateLimitExceeded, 500),
bearer tokens and OAuth scopes. It counts calls, Gmail quota units and HTTP
round trips.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import itertools
import json
import re
import urllib.parse
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httplib2
from dateutil.rrule import rrulestr  # type: ignore[import-untyped]

from .gdiscovery import Match, discovery
from .gfactories import api_error

GMAIL_UNITS = {
    "gmail.users.getProfile": 1,
    "gmail.users.messages.list": 5,
    "gmail.users.messages.get": 5,
    "gmail.users.history.list": 2,
}
EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
HOSTS = {"gmail.googleapis.com": "gmail.v1", "www.googleapis.com": "calendar.v3"}
BATCH_PATHS = {
    "/batch": "gmail.v1",
    "/batch/gmail/v1": "gmail.v1",
    "/batch/calendar/v3": "calendar.v3",
}
ME = "me@example.org"


class Reply(Exception):
    """Raised inside a handler to answer with an HTTP error."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _error(code: int, message: str, reason: str) -> Reply:
    return Reply(code, api_error(code, message, reason))


@dataclass(slots=True)
class StoredMessage:
    id: str
    thread_id: str
    labels: set[str]
    raw: bytes
    headers: list[tuple[str, str]]
    internal_date: int
    history_id: int


@dataclass(slots=True)
class Fault:
    method_id: str
    status: int
    times: int
    retry_after: float | None = None
    reason: str = ""


@dataclass(slots=True)
class Calendar:
    id: str
    summary: str
    time_zone: str = "UTC"
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    seq: dict[str, int] = field(default_factory=dict)


class FakeGoogle:
    """Gmail + Calendar for one user, in memory."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
        self.violations: list[str] = []
        self.check_responses = True
        # Gmail answers 429 to the calls of a batch beyond a per-user concurrency.
        self.concurrency: int | None = None  # the fake's own answers follow the schema too
        self.calls: Counter[str] = Counter()
        self.round_trips = 0
        self.batch_sizes: list[int] = []
        self.log: list[tuple[str, dict[str, list[str]]]] = []
        self.faults: list[Fault] = []
        self.tokens: dict[str, set[str]] = {}
        self.refresh_tokens: dict[str, set[str]] = {}
        # Gmail
        self.messages: dict[str, StoredMessage] = {}
        self.history: list[dict[str, Any]] = []
        self.history_id = 1000
        self.history_floor = 0
        self._ids = itertools.count(0x18C0000000000000)
        # Calendar
        self.calendars: dict[str, Calendar] = {"primary": Calendar("primary", ME)}
        self.sync_seq = 0
        self.sync_floor = 0
        self._etags = itertools.count(3_000_000_000_000_000)

    # -- accounting ------------------------------------------------------------

    @property
    def units(self) -> int:
        return sum(GMAIL_UNITS.get(m, 0) * n for m, n in self.calls.items())

    def reset_counts(self) -> None:
        self.calls.clear()
        self.log.clear()
        self.round_trips = 0
        self.batch_sizes.clear()

    def fail(
        self,
        method_id: str,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        reason: str = "",
    ) -> None:
        """Answer the next `times` calls of `method_id` with `status`."""
        self.faults.append(Fault(method_id, status, times, retry_after, reason))

    # -- auth ------------------------------------------------------------------

    def grant(self, refresh_token: str, scopes: list[str]) -> None:
        """The user signed in: `refresh_token` may get access tokens for `scopes`."""
        self.refresh_tokens[refresh_token] = set(scopes)

    def revoke(self, refresh_token: str) -> None:
        self.refresh_tokens.pop(refresh_token, None)
        self.tokens.clear()

    def issue(self, refresh_token: str) -> str | None:
        """The token endpoint: a new access token for `refresh_token`, or None."""
        scopes = self.refresh_tokens.get(refresh_token)
        if scopes is None:
            return None
        token = f"ya29.{uuid.uuid4().hex}"
        self.tokens[token] = scopes
        return token

    def expire_tokens(self) -> None:
        self.tokens.clear()

    # -- Gmail state -------------------------------------------------------------

    def _bump(self) -> int:
        self.history_id += 1 + len(self.history) % 3  # gaps, as Google's ids have
        return self.history_id

    def deliver(self, raw: bytes, labels: set[str] | None = None, thread_id: str = "") -> str:
        """A message arrives (or is sent, with label SENT); returns its Gmail id."""
        parsed = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        # Gmail gives header values as written, raw 8-bit text read as UTF-8 (RFC 6532).
        headers = [
            (k, v.encode("ascii", "surrogateescape").decode("utf-8", "replace"))
            for k, v in parsed.raw_items()
        ]
        try:
            when = parsedate_to_datetime(parsed["Date"])
        except (TypeError, ValueError):
            when = self.now
        message_id = f"{next(self._ids):016x}"
        labels = set(labels if labels is not None else {"INBOX", "UNREAD"})
        hid = self._bump()
        self.messages[message_id] = StoredMessage(
            message_id,
            thread_id or message_id,
            labels,
            raw,
            headers,
            int(when.timestamp() * 1000),
            hid,
        )
        self.history.append(
            {
                "id": str(hid),
                "messagesAdded": [{"message": self._summary(self.messages[message_id])}],
            }
        )
        return message_id

    def delete(self, message_id: str) -> None:
        stored = self.messages.pop(message_id)
        hid = self._bump()
        self.history.append(
            {
                "id": str(hid),
                "messagesDeleted": [{"message": {"id": stored.id, "threadId": stored.thread_id}}],
            }
        )

    def relabel(
        self,
        message_id: str,
        add: frozenset[str] = frozenset(),
        remove: frozenset[str] = frozenset(),
    ) -> None:  # type: ignore[assignment]
        stored = self.messages[message_id]
        hid = self._bump()
        stored.history_id = hid
        record: dict[str, Any] = {"id": str(hid)}
        if add:
            stored.labels |= add
            record["labelsAdded"] = [{"message": self._summary(stored), "labelIds": sorted(add)}]
        if remove:
            stored.labels -= remove
            record["labelsRemoved"] = [
                {"message": self._summary(stored), "labelIds": sorted(remove)}
            ]
        self.history.append(record)

    def expire_history(self) -> None:
        """Google pruned history: every historyId before now is too old (404)."""
        self.history.clear()
        self.history_floor = self._bump()

    @staticmethod
    def _summary(stored: StoredMessage) -> dict[str, Any]:
        return {"id": stored.id, "threadId": stored.thread_id, "labelIds": sorted(stored.labels)}

    # -- Calendar state ------------------------------------------------------------

    def _etag(self) -> str:
        return f'"{next(self._etags)}"'

    def _touch(self, calendar: Calendar, event: dict[str, Any]) -> None:
        self.sync_seq += 1
        calendar.seq[event["id"]] = self.sync_seq
        event["etag"] = self._etag()
        event["updated"] = self.now.isoformat().replace("+00:00", "Z")

    def store_event(
        self, calendar_id: str, event: dict[str, Any], rrule: str | None = None
    ) -> None:
        """Put an event on a calendar as Google stores it (recurrences as instances)."""
        calendar = self.calendars[calendar_id]
        base = {
            "kind": "calendar#event",
            "status": "confirmed",
            "htmlLink": f"https://www.google.com/calendar/event?eid={event['id']}",
            "iCalUID": f"{event['id']}@google.com",
            "creator": {"email": ME, "self": True},
            "organizer": {"email": ME, "self": True},
            "sequence": 0,
            **event,
        }
        if rrule is None:
            calendar.events[event["id"]] = base
            self._touch(calendar, base)
            return
        start = datetime.fromisoformat(event["start"]["dateTime"].replace("Z", "+00:00"))
        length = datetime.fromisoformat(event["end"]["dateTime"].replace("Z", "+00:00")) - start
        rule = rrulestr(rrule, dtstart=start)
        for begin in itertools.islice(rule, 400):
            stamp = begin.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
            instance = {
                **base,
                "id": f"{event['id']}_{stamp}",
                "recurringEventId": event["id"],
                "originalStartTime": {"dateTime": _z(begin)},
                "start": {"dateTime": _z(begin), "timeZone": "UTC"},
                "end": {"dateTime": _z(begin + length), "timeZone": "UTC"},
            }
            calendar.events[instance["id"]] = instance
            self._touch(calendar, instance)

    def cancel_event(self, calendar_id: str, event_id: str) -> None:
        """The user deletes an event (and every instance, for a recurring one)."""
        calendar = self.calendars[calendar_id]
        for key, event in calendar.events.items():
            if key == event_id or event.get("recurringEventId") == event_id:
                event["status"] = "cancelled"
                self._touch(calendar, event)

    def move_event(self, calendar_id: str, event_id: str, start: datetime, end: datetime) -> None:
        calendar = self.calendars[calendar_id]
        event = calendar.events[event_id]
        event["start"] = {"dateTime": _z(start), "timeZone": "UTC"}
        event["end"] = {"dateTime": _z(end), "timeZone": "UTC"}
        self._touch(calendar, event)

    def expire_sync_tokens(self) -> None:
        self.sync_floor = self.sync_seq

    # -- HTTP ----------------------------------------------------------------------

    def request(
        self,
        uri: str,
        method: str = "GET",
        body: Any = None,
        headers: dict[str, str] | None = None,
        redirections: int = 5,
        connection_type: Any = None,
    ) -> tuple[httplib2.Response, bytes]:
        """httplib2.Http.request, answered from memory."""
        self.round_trips += 1
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        parts = urllib.parse.urlsplit(uri)
        if isinstance(body, bytes):
            body = body.decode()
        if parts.path in BATCH_PATHS:
            return self._batch(BATCH_PATHS[parts.path], headers, body or "")
        api = HOSTS.get(parts.netloc)
        if api is None:
            self.violations.append(f"request to unknown host {parts.netloc}")
            return _response(404, {"error": "unknown host"})
        status, answer, extra = self._call(api, method, parts.path, parts.query, headers, body)
        return _response(status, answer, extra)

    def _call(
        self,
        api: str,
        method: str,
        path: str,
        query_string: str,
        headers: dict[str, str],
        body: str | None,
        crowded: bool = False,
    ) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        doc = discovery(api)
        match = doc.match(method, path)
        if match is None:
            self.violations.append(f"no {api} method for {method} {path}")
            return 404, api_error(404, "Not Found", "notFound"), {}
        self.calls[match.method_id] += 1
        self.log.append((match.method_id, urllib.parse.parse_qs(query_string)))
        token = headers.get("authorization", "").removeprefix("Bearer ")
        scopes = self.tokens.get(token)
        if scopes is None:
            return (
                401,
                api_error(401, "Request had invalid authentication credentials.", "authError"),
                {},
            )
        if not scopes.intersection(match.spec.get("scopes", [])):
            self.violations.append(f"{match.method_id} not allowed by scopes {sorted(scopes)}")
            return (
                403,
                api_error(
                    403,
                    "Request had insufficient authentication scopes.",
                    "insufficientPermissions",
                ),
                {},
            )
        query = urllib.parse.parse_qs(query_string, keep_blank_values=True)
        parsed_body = json.loads(body) if body else None
        problems = doc.validate(match, query, parsed_body)
        if problems:
            self.violations.extend(problems)
            return 400, api_error(400, "; ".join(problems), "invalid"), {}
        if crowded:
            return (
                429,
                api_error(429, "Too many concurrent requests for user.", "rateLimitExceeded"),
                {},
            )
        for fault in self.faults:
            if fault.method_id == match.method_id and fault.times > 0:
                fault.times -= 1
                reason = fault.reason or {
                    429: "rateLimitExceeded",
                    403: "rateLimitExceeded",
                    500: "backendError",
                }.get(fault.status, "failed")
                extra = {"retry-after": str(fault.retry_after)} if fault.retry_after else {}
                return fault.status, api_error(fault.status, "injected", reason), extra
        handler = getattr(self, "_" + match.method_id.replace(".", "_"), None)
        if handler is None:
            self.violations.append(f"the fake does not implement {match.method_id}")
            return 501, api_error(501, "not implemented", "notImplemented"), {}
        try:
            answer = handler(
                match,
                {k: v if len(v) > 1 or _repeated(match, k) else v[0] for k, v in query.items()},
                parsed_body,
                headers,
            )
        except Reply as reply:
            return reply.status, reply.body, reply.headers
        if self.check_responses:
            self.violations.extend(f"fake: {p}" for p in doc.validate_response(match, answer))
        return (200 if answer is not None else 204), answer, {}

    def _batch(
        self, api: str, headers: dict[str, str], body: str
    ) -> tuple[httplib2.Response, bytes]:
        outer = email.parser.Parser().parsestr(
            f"Content-Type: {headers.get('content-type', '')}\n\n{body}"
        )
        parts: list[Any] = list(outer.get_payload()) if outer.is_multipart() else []
        self.batch_sizes.append(len(parts))
        if len(parts) > 100:
            self.violations.append(f"batch of {len(parts)} calls (Google allows 100)")
            return _response(400, api_error(400, "Too many requests in batch.", "invalid"))
        if len(parts) > 50:
            self.violations.append(f"batch of {len(parts)} calls (Gmail advises at most 50)")
        boundary = f"batch_{uuid.uuid4().hex}"
        out: list[str] = []
        for index, part in enumerate(parts):
            content_id = part["Content-ID"].strip()
            request = str(part.get_payload())
            first, _, rest = request.partition("\n")
            method, target, _ = first.split(" ", 2)
            inner = email.parser.Parser().parsestr(rest)
            inner_headers = {k.lower(): v for k, v in inner.items()}
            inner_headers.setdefault("authorization", headers.get("authorization", ""))
            split = urllib.parse.urlsplit(target)
            payload = str(inner.get_payload()) or None
            crowded = self.concurrency is not None and index >= self.concurrency
            status, answer, extra = self._call(
                api, method, split.path, split.query, inner_headers, payload, crowded
            )
            lines = [
                f"HTTP/1.1 {status} {'OK' if status < 300 else 'Error'}",
                "Content-Type: application/json; charset=UTF-8",
            ]
            lines += [f"{k}: {v}" for k, v in extra.items()]
            text = json.dumps(answer) if answer is not None else ""
            out.append(
                f"--{boundary}\r\nContent-Type: application/http\r\n"
                f"Content-ID: <response-{content_id[1:-1]}>\r\n\r\n"
                + "\r\n".join(lines)
                + "\r\n\r\n"
                + text
                + "\r\n"
            )
        out.append(f"--{boundary}--\r\n")
        resp = httplib2.Response(
            {"status": "200", "content-type": f"multipart/mixed; boundary={boundary}"}
        )
        return resp, "".join(out).encode()

    # -- Gmail handlers ----------------------------------------------------------------

    def _gmail_users_getProfile(
        self, match: Match, q: dict[str, Any], body: Any, headers: dict[str, str]
    ) -> dict[str, Any]:
        return {
            "emailAddress": ME,
            "messagesTotal": len(self.messages),
            "threadsTotal": len({m.thread_id for m in self.messages.values()}),
            "historyId": str(self.history_id),
        }

    def _gmail_users_messages_list(
        self, match: Match, q: dict[str, Any], body: Any, headers: dict[str, str]
    ) -> dict[str, Any]:
        after = 0
        for term in q.get("q", "").split():
            if term.startswith("after:"):
                after = int(term[6:]) * 1000
            else:
                self.violations.append(f"the fake does not understand the search term {term!r}")
        spam_trash = q.get("includeSpamTrash") == "true"
        found = sorted(
            (
                m
                for m in self.messages.values()
                if m.internal_date > after and (spam_trash or not m.labels & {"SPAM", "TRASH"})
            ),
            key=lambda m: (-m.internal_date, m.id),
        )
        size = int(q.get("maxResults", "100"))
        if size > 500:
            raise _error(400, "maxResults above 500", "invalid")
        offset = _page(q.get("pageToken"))
        page = found[offset : offset + size]
        answer: dict[str, Any] = {"resultSizeEstimate": len(found)}
        if page:
            answer["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
        if offset + size < len(found):
            answer["nextPageToken"] = _token(offset + size)
        return answer

    def _gmail_users_messages_get(
        self, match: Match, q: dict[str, Any], body: Any, headers: dict[str, str]
    ) -> dict[str, Any]:
        stored = self.messages.get(match.path_params["id"])
        if stored is None:
            raise _error(404, "Requested entity was not found.", "notFound")
        answer: dict[str, Any] = {
            "id": stored.id,
            "threadId": stored.thread_id,
            "labelIds": sorted(stored.labels),
            "snippet": "",
            "historyId": str(stored.history_id),
            "internalDate": str(stored.internal_date),
            "sizeEstimate": len(stored.raw),
        }
        fmt = q.get("format", "full")
        if fmt == "raw":
            answer["raw"] = base64.urlsafe_b64encode(stored.raw).decode()
        elif fmt == "metadata":
            wanted = {h.lower() for h in _listed(q.get("metadataHeaders"))}
            answer["payload"] = {
                "mimeType": "text/plain",
                "headers": [
                    {"name": k, "value": v}
                    for k, v in stored.headers
                    if not wanted or k.lower() in wanted
                ],
            }
        elif fmt == "full":
            parsed = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(stored.raw)
            answer["payload"] = _part(parsed, "")
        return answer

    def _gmail_users_history_list(
        self, match: Match, q: dict[str, Any], body: Any, headers: dict[str, str]
    ) -> dict[str, Any]:
        start = int(q["startHistoryId"])
        if start < self.history_floor:
            raise _error(404, "Requested entity was not found.", "notFound")
        types = set(_listed(q.get("historyTypes"))) or {
            "messageAdded",
            "messageDeleted",
            "labelAdded",
            "labelRemoved",
        }
        keys = {
            "messageAdded": "messagesAdded",
            "messageDeleted": "messagesDeleted",
            "labelAdded": "labelsAdded",
            "labelRemoved": "labelsRemoved",
        }
        wanted = {keys[t] for t in types}
        records = []
        for record in self.history:
            if int(record["id"]) <= start:
                continue
            kept = {k: v for k, v in record.items() if k == "id" or k in wanted}
            if len(kept) > 1:
                kept["messages"] = [
                    item["message"] for k, v in kept.items() if k != "id" for item in v
                ]
                records.append(kept)
        size = int(q.get("maxResults", "100"))
        offset = _page(q.get("pageToken"))
        answer: dict[str, Any] = {"historyId": str(self.history_id)}
        if records[offset : offset + size]:
            answer["history"] = records[offset : offset + size]
        if offset + size < len(records):
            answer["nextPageToken"] = _token(offset + size)
        return answer

    # -- Calendar handlers -------------------------------------------------------------

    def _calendar(self, match: Match) -> Calendar:
        calendar = self.calendars.get(match.path_params["calendarId"])
        if calendar is None:
            raise _error(404, "Not Found", "notFound")
        return calendar

    def _calendar_events_list(
        self, match: Match, q: dict[str, Any], body: Any, headers: dict[str, str]
    ) -> dict[str, Any]:
        calendar = self._calendar(match)
        if q.get("singleEvents") != "true":
            self.violations.append("events.list without singleEvents=true")
        size = int(q.get("maxResults", "250"))
        if size > 2500:
            raise _error(400, "maxResults above 2500", "invalid")
        if "syncToken" in q:
            clash = {
                "timeMin",
                "timeMax",
                "privateExtendedProperty",
                "q",
                "iCalUID",
                "orderBy",
                "updatedMin",
                "sharedExtendedProperty",
            } & set(q)
            if clash:
                raise _error(400, f"syncToken cannot be combined with {sorted(clash)}", "invalid")
            since = int(q["syncToken"].removeprefix("sync"))
            if since < self.sync_floor:
                raise _error(
                    410,
                    "Sync token is no longer valid, a full sync is required.",
                    "fullSyncRequired",
                )
            items = [e for k, e in calendar.events.items() if calendar.seq[k] > since]
        else:
            low = _parse(q["timeMin"]) if "timeMin" in q else None
            high = _parse(q["timeMax"]) if "timeMax" in q else None
            show_deleted = q.get("showDeleted") == "true"
            wanted = dict(p.split("=", 1) for p in _listed(q.get("privateExtendedProperty")))
            items = []
            for event in calendar.events.values():
                if event.get("status") == "cancelled" and not show_deleted:
                    continue
                private = event.get("extendedProperties", {}).get("private", {})
                if any(private.get(k) != v for k, v in wanted.items()):
                    continue
                start, end = _span(event)
                if (low and end <= low) or (high and start >= high):
                    continue
                items.append(event)
        offset = _page(q.get("pageToken"))
        answer: dict[str, Any] = {
            "kind": "calendar#events",
            "summary": calendar.summary,
            "timeZone": calendar.time_zone,
            "items": items[offset : offset + size],
        }
        if offset + size < len(items):
            answer["nextPageToken"] = _token(offset + size)
        else:
            answer["nextSyncToken"] = f"sync{self.sync_seq}"
        return answer

    def _calendar_events_get(
        self, match: Match, q: dict[str, Any], body: Any, headers: dict[str, str]
    ) -> dict[str, Any]:
        event = self._calendar(match).events.get(match.path_params["eventId"])
        if event is None:
            raise _error(404, "Not Found", "notFound")
        return event

    def _calendar_events_insert(
        self, match: Match, q: dict[str, Any], body: Any, headers: dict[str, str]
    ) -> dict[str, Any]:
        calendar = self._calendar(match)
        event_id = body.get("id") or uuid.uuid4().hex
        if not EVENT_ID.match(event_id):
            raise _error(400, "Invalid resource id value.", "invalid")
        if event_id in calendar.events:
            raise _error(409, "The requested identifier already exists.", "duplicate")
        self.store_event(calendar.id, {**body, "id": event_id})
        return calendar.events[event_id]

    def _calendar_events_patch(
        self, match: Match, q: dict[str, Any], body: Any, headers: dict[str, str]
    ) -> dict[str, Any]:
        calendar = self._calendar(match)
        event = calendar.events.get(match.path_params["eventId"])
        if event is None:
            raise _error(404, "Not Found", "notFound")
        if "if-match" in headers and headers["if-match"] != event["etag"]:
            raise _error(412, "Precondition Failed", "conditionNotMet")
        for key, value in body.items():
            if isinstance(value, dict) and isinstance(event.get(key), dict):
                event[key] = {**event[key], **value}
            else:
                event[key] = value
        self._touch(calendar, event)
        return event

    def _calendar_events_delete(
        self, match: Match, q: dict[str, Any], body: Any, headers: dict[str, str]
    ) -> None:
        calendar = self._calendar(match)
        event = calendar.events.get(match.path_params["eventId"])
        if event is None:
            raise _error(404, "Not Found", "notFound")
        if event.get("status") == "cancelled":
            raise _error(410, "Resource has been deleted", "deleted")
        event["status"] = "cancelled"
        self._touch(calendar, event)
        return None

    def _calendar_freebusy_query(
        self, match: Match, q: dict[str, Any], body: Any, headers: dict[str, str]
    ) -> dict[str, Any]:
        low, high = _parse(body["timeMin"]), _parse(body["timeMax"])
        calendars: dict[str, Any] = {}
        for item in body.get("items", []):
            calendar = self.calendars.get(item["id"])
            if calendar is None:
                calendars[item["id"]] = {
                    "busy": [],
                    "errors": [{"domain": "global", "reason": "notFound"}],
                }
                continue
            busy = []
            for event in calendar.events.values():
                start, end = _span(event)
                if (
                    event.get("status") == "cancelled"
                    or event.get("transparency") == "transparent"
                    or end <= low
                    or start >= high
                ):
                    continue
                busy.append({"start": _z(max(start, low)), "end": _z(min(end, high))})
            calendars[item["id"]] = {"busy": sorted(busy, key=lambda b: b["start"])}
        return {
            "kind": "calendar#freeBusy",
            "timeMin": body["timeMin"],
            "timeMax": body["timeMax"],
            "calendars": calendars,
        }

    def _calendar_calendars_insert(
        self, match: Match, q: dict[str, Any], body: Any, headers: dict[str, str]
    ) -> dict[str, Any]:
        calendar_id = f"{uuid.uuid4().hex}@group.calendar.google.com"
        self.calendars[calendar_id] = Calendar(
            calendar_id, body["summary"], body.get("timeZone", "UTC")
        )
        return {
            "kind": "calendar#calendar",
            "id": calendar_id,
            "etag": self._etag(),
            "summary": body["summary"],
            "timeZone": body.get("timeZone", "UTC"),
        }

    def _calendar_calendars_get(
        self, match: Match, q: dict[str, Any], body: Any, headers: dict[str, str]
    ) -> dict[str, Any]:
        calendar = self._calendar(match)
        return {
            "kind": "calendar#calendar",
            "id": calendar.id,
            "summary": calendar.summary,
            "timeZone": calendar.time_zone,
        }


def _part(part: Any, part_id: str) -> dict[str, Any]:
    """One MIME part as Gmail's MessagePart: transfer encoding undone, charset kept."""
    answer: dict[str, Any] = {
        "partId": part_id,
        "mimeType": part.get_content_type(),
        "filename": part.get_filename() or "",
        "headers": [{"name": k, "value": str(v)} for k, v in part.items()],
    }
    if part.is_multipart():
        answer["body"] = {"size": 0}
        answer["parts"] = [
            _part(sub, f"{part_id}.{n}" if part_id else str(n))
            for n, sub in enumerate(part.get_payload())
        ]
        return answer
    data = part.get_payload(decode=True) or b""
    if answer["filename"]:
        answer["body"] = {"attachmentId": f"att-{part_id}", "size": len(data)}
    else:
        answer["body"] = {"size": len(data), "data": base64.urlsafe_b64encode(data).decode()}
    return answer


def _z(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _span(event: dict[str, Any]) -> tuple[datetime, datetime]:
    def one(value: dict[str, str]) -> datetime:
        if "dateTime" in value:
            return _parse(value["dateTime"])
        return datetime.fromisoformat(value["date"]).replace(tzinfo=UTC)

    return one(event["start"]), one(event["end"])


def _repeated(match: Match, name: str) -> bool:
    return bool(match.spec.get("parameters", {}).get(name, {}).get("repeated"))


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _page(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("offset:"))
    except ValueError:
        raise _error(400, "Invalid pageToken", "invalid") from None


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _response(
    status: int, answer: dict[str, Any] | None, extra: dict[str, str] | None = None
) -> tuple[httplib2.Response, bytes]:
    resp = httplib2.Response(
        {"status": str(status), "content-type": "application/json; charset=UTF-8", **(extra or {})}
    )
    return resp, (json.dumps(answer).encode() if answer is not None else b"")
