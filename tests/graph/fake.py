"""A small stateful Microsoft Graph, for httpx.MockTransport.

Shaped after the Graph v1.0 reference for the endpoints nurture uses:
message and calendarView delta (paging by ``Prefer: odata.maxpagesize``,
``@odata.nextLink`` then ``@odata.deltaLink``, ``@removed`` rows, 410 for a
forgotten token), events with single-value extended properties, ``$filter``
on a category or an extended property, ``transactionId``, ``If-Match``,
``$batch``, bearer tokens (401) and injected throttling (429 + Retry-After).

Delta tokens hold a snapshot {id: version}; a later call reports what differs.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import itertools
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from dateutil.rrule import rrulestr  # type: ignore[import-untyped]

UTC = UTC
BASE = "https://graph.microsoft.com/v1.0"
DEFAULT_PAGE = 10


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dtz(value: datetime) -> dict[str, str]:
    return {
        "dateTime": value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"),
        "timeZone": "UTC",
    }


def _from_dtz(value: dict[str, str]) -> datetime:
    assert value["timeZone"] == "UTC", "the fake only takes UTC times"
    return datetime.fromisoformat(value["dateTime"][:19]).replace(tzinfo=UTC)


def _error(status: int, code: str, message: str = "", headers: dict[str, str] | None = None):
    return httpx.Response(
        status, json={"error": {"code": code, "message": message or code}}, headers=headers
    )


def _canonical(pid: str) -> str:
    """A property id as Graph compares them: case-blind, tags by number (0x7D == 0x007D)."""
    kind, _, rest = pid.partition(" ")
    if rest.lower().startswith("0x"):
        return f"{kind.lower()} 0x{int(rest, 16):04x}"
    return pid.lower()


def _recipient(name: str, address: str) -> dict[str, Any]:
    return {"emailAddress": {"name": name or address, "address": address}}


def _prefer(request_headers: Any) -> dict[str, str]:
    found = {}
    for part in ",".join(request_headers.get_list("Prefer")).split(","):
        name, _, value = part.strip().partition("=")
        if name:
            found[name.lower()] = value.strip('"')
    return found


@dataclass
class StoredMessage:
    folder: str
    data: dict[str, Any]
    body: str
    version: int = 1


@dataclass
class StoredEvent:
    data: dict[str, Any]
    rrule: str | None = None
    props: dict[str, str] = field(default_factory=dict)
    version: int = 1


@dataclass
class Injected:
    status: int
    headers: dict[str, str]
    match: str
    times: int


class FakeGraph:
    """The server. `transport()` plugs it into httpx; `log` keeps every request."""

    def __init__(self, *, page_size: int = DEFAULT_PAGE) -> None:
        self.default_page = page_size
        self.messages: dict[str, StoredMessage] = {}
        self.events: dict[str, StoredEvent] = {}
        self.folders: dict[str, str] = {}  # id -> display name of the user's own folders
        self.refuse_expand = False  # act as a server that rejects $expand on message delta
        self.todo_lists: dict[str, str] = {}  # id -> display name
        self.todo_tasks: dict[str, dict[str, Any]] = {}  # id -> todoTask (with "listId")
        self.tokens: dict[str, dict[str, Any]] = {}
        self.valid_tokens = {"access-1"}
        self.log: list[httpx.Request] = []
        self.injected: list[Injected] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.hold: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    # -- plumbing -----------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def inject(
        self, status: int, *, retry_after: str | None = None, match: str = "", times: int = 1
    ) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.injected.append(Injected(status, headers, match, times))

    def expire_tokens(self) -> None:
        """Forget every delta and skip token (as after a mailbox move)."""
        self.tokens.clear()

    def _new_id(self, prefix: str) -> str:
        raw = f"{prefix}-{next(self._ids):06d}".encode()
        return "AAMkAG" + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.log.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.hold is not None:
                self.hold()
            with self._lock:
                return self._handle(request)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _handle(self, request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in self.valid_tokens:
            return _error(401, "InvalidAuthenticationToken", "Access token has expired.")
        for rule in self.injected:
            if rule.times > 0 and rule.match in str(request.url):
                rule.times -= 1
                return _error(rule.status, "ApplicationThrottled", headers=rule.headers)
        url = urlsplit(str(request.url))
        path = url.path.removeprefix("/v1.0")
        params = dict(parse_qsl(url.query))
        body = json.loads(request.content) if request.content else None
        return self.route(request.method, path, params, body, request.headers)

    def route(
        self, method: str, path: str, params: dict[str, str], body: Any, headers: Any
    ) -> httpx.Response:
        prefer = _prefer(headers)
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/$batch":
            return self._batch(body)
        if parts[:2] == ["me", "todo"]:
            return self._todo(method, parts[2:], params, body, headers)
        if parts == ["me", "mailFolders"] and method == "GET":
            return self._list_folders(params)
        if parts[:2] == ["me", "mailFolders"] and parts[3:] == ["messages", "delta"]:
            return self._message_delta(parts[2], params, prefer)
        if parts[:2] == ["me", "messages"] and len(parts) == 3 and method == "GET":
            return self._get_message(parts[2], params, prefer)
        if parts == ["me", "calendarView", "delta"]:
            return self._calendar_delta(params, prefer)
        if parts == ["me", "events"] and method == "GET":
            return self._list_events(params, prefer)
        if parts == ["me", "events"] and method == "POST":
            return self._create_event(body)
        if parts[:2] == ["me", "events"] and len(parts) == 3:
            if method == "GET":
                return self._get_event(parts[2], params)
            if method == "PATCH":
                return self._patch_event(parts[2], body, headers.get("If-Match"))
            if method == "DELETE":
                return self._delete_event(parts[2])
        return _error(400, "BadRequest", f"fake Graph has no {method} {path}")

    # -- paging -------------------------------------------------------------

    def _page(
        self, base: str, rows: list[dict[str, Any]], size: int, final: dict[str, Any] | None
    ) -> httpx.Response:
        """First page of `rows`; the rest wait under a skip token."""
        token = f"t{next(self._ids)}"
        self.tokens[token] = {
            "kind": "page",
            "base": base,
            "rows": rows,
            "size": size,
            "final": final,
        }
        return self._next_page(token)

    def _next_page(self, token: str) -> httpx.Response:
        # Skip tokens stay valid: a sync that crashed after fetching a page asks again.
        state = self.tokens[token]
        rows, size, base = state["rows"], state["size"], state["base"]
        body: dict[str, Any] = {"@odata.context": f"{BASE}/$metadata", "value": rows[:size]}
        if len(rows) > size:
            nxt = f"t{next(self._ids)}"
            self.tokens[nxt] = {**state, "rows": rows[size:]}
            body["@odata.nextLink"] = f"{BASE}{base}?$skiptoken={nxt}"
        elif state["final"] is not None:
            delta = f"t{next(self._ids)}"
            self.tokens[delta] = state["final"]
            body["@odata.deltaLink"] = f"{BASE}{base}?$deltatoken={delta}"
        return httpx.Response(200, json=body)

    def _resume(self, params: dict[str, str]) -> tuple[str | None, dict[str, Any] | None]:
        """(skip token to continue, or None; delta state, or None for a new round)."""
        if "$skiptoken" in params:
            return params["$skiptoken"], None
        if "$deltatoken" in params:
            return None, self.tokens.get(params["$deltatoken"], {"kind": "gone"})
        return None, None

    def _page_size(self, prefer: dict[str, str]) -> int:
        return int(prefer.get("odata.maxpagesize", self.default_page))

    # -- mail ---------------------------------------------------------------

    def _message_delta(
        self, folder: str, params: dict[str, str], prefer: dict[str, str]
    ) -> httpx.Response:
        if self.refuse_expand and "$expand" in params:
            return _error(400, "BadRequest", "$expand is not supported on this delta query")
        base = f"/me/mailFolders/{folder}/messages/delta"
        skip, state = self._resume(params)
        if skip is not None:
            if skip not in self.tokens:
                return _error(410, "SyncStateNotFound", "The sync state is no longer valid.")
            return self._next_page(skip)
        if state is not None and state.get("kind") == "gone":
            return _error(410, "SyncStateNotFound", "The sync state is no longer valid.")
        if state is None:
            since = None
            match = re.fullmatch(r"receivedDateTime ge (\S+)", params.get("$filter", ""))
            if "$filter" in params and not match:
                return _error(400, "ErrorInvalidUrlQueryFilter")
            if match:
                since = datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))
            state = {
                "kind": "mail",
                "folder": folder,
                "since": since,
                "snapshot": {},
                "select": params.get("$select"),
                "expand": params.get("$expand"),
            }
        current = {
            mid: m
            for mid, m in self.messages.items()
            if m.folder == folder
            and (
                state["since"] is None
                or datetime.fromisoformat(m.data["receivedDateTime"].replace("Z", "+00:00"))
                >= state["since"]
            )
        }
        rows: list[dict[str, Any]] = []
        for mid, stored in sorted(current.items()):
            if state["snapshot"].get(mid) != stored.version:
                rows.append(self._shape_message(stored, state["select"], state["expand"]))
        for mid in sorted(set(state["snapshot"]) - set(current)):
            rows.append(
                {
                    "@odata.type": "#microsoft.graph.message",
                    "id": mid,
                    "@removed": {"reason": "deleted"},
                }
            )
        final = {**state, "snapshot": {mid: m.version for mid, m in current.items()}}
        return self._page(base, rows, self._page_size(prefer), final)

    @staticmethod
    def _expanded_ids(expand: str | None) -> set[str]:
        if not expand:
            return set()
        return {_canonical(i) for i in re.findall(r"id eq '([^']+)'", expand)}

    def _shape_message(
        self, stored: StoredMessage, select: str | None, expand: str | None
    ) -> dict[str, Any]:
        data = dict(stored.data)
        props = data.pop("props")
        if select:
            keep = {s.strip() for s in select.split(",")} | {"id"}
            data = {k: v for k, v in data.items() if k in keep or k.startswith("@odata")}
        wanted = self._expanded_ids(expand)
        if wanted:
            data["singleValueExtendedProperties"] = [
                {"id": pid, "value": value}
                for pid, value in props.items()
                if _canonical(pid) in wanted
            ]
        return data

    def add_folder(self, name: str) -> str:
        fid = self._new_id("folder")
        self.folders[fid] = name
        return fid

    def _list_folders(self, params: dict[str, str]) -> httpx.Response:
        match = re.fullmatch(r"displayName eq '((?:[^']|'')*)'", params.get("$filter", ""))
        if match is None:
            return _error(400, "ErrorInvalidUrlQueryFilter")
        name = match.group(1).replace("''", "'")
        rows = [{"id": fid, "displayName": n} for fid, n in self.folders.items() if n == name]
        return httpx.Response(200, json={"value": rows})

    def _get_message(
        self, message_id: str, params: dict[str, str], prefer: dict[str, str]
    ) -> httpx.Response:
        stored = self.messages.get(message_id)
        if stored is None:
            return _error(404, "ErrorItemNotFound", "The specified object was not found.")
        data = self._shape_message(stored, params.get("$select"), None)
        if "body" in (params.get("$select") or ""):
            as_text = prefer.get("outlook.body-content-type") == "text"
            data["body"] = {
                "contentType": "text" if as_text else "html",
                "content": stored.body if as_text else f"<p>{stored.body}</p>",
            }
        return httpx.Response(200, json=data)

    def add_message(self, raw: bytes, folder: str) -> str:
        """Store `raw` as Exchange Online would after delivery (or after sending)."""
        # The server reads headers as a modern client does: RFC 2047 and raw UTF-8 decoded.
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        header_block = raw.split(b"\n\n", 1)[0].decode("utf-8", "replace")
        when = parsedate_to_datetime(parsed["Date"]) if parsed["Date"] else datetime.now(UTC)
        mid = self._new_id("msg")

        def people(name: str) -> list[dict[str, Any]]:
            return [_recipient(n, a) for n, a in getaddresses(parsed.get_all(name, []))]

        sender = people("From")
        props: dict[str, str] = {}
        if folder == "inbox":
            props["String 0x7D"] = header_block
        if parsed["In-Reply-To"]:
            props["String 0x1042"] = str(parsed["In-Reply-To"])
        if parsed["References"]:
            props["String 0x1039"] = str(parsed["References"])
        payload = parsed.get_payload(decode=True) if not parsed.is_multipart() else b""
        assert isinstance(payload, bytes | None)
        self.messages[mid] = StoredMessage(
            folder=folder,
            body=(payload or b"").decode("utf-8", "replace").strip(),
            data={
                "@odata.etag": f'W/"CQAAAB{mid[-6:]}"',
                "id": mid,
                "createdDateTime": _iso(when),
                "receivedDateTime": _iso(when),
                "sentDateTime": _iso(when),
                "subject": str(parsed["Subject"] or ""),
                "internetMessageId": str(parsed["Message-ID"] or ""),
                "from": sender[0] if sender else None,
                "sender": sender[0] if sender else None,
                "toRecipients": people("To"),
                "ccRecipients": people("Cc"),
                "replyTo": people("Reply-To"),
                "isDraft": False,
                "isRead": folder != "inbox",
                "webLink": f"https://outlook.office365.com/owa/?ItemID={mid}&viewmodel=ReadMessageItem",
                "props": props,
            },
        )
        return mid

    def remove_message(self, message_id_header: str) -> None:
        for mid, stored in list(self.messages.items()):
            if stored.data["internetMessageId"].strip("<>") == message_id_header:
                del self.messages[mid]

    # -- calendar -----------------------------------------------------------

    def _instances(self, start: datetime, end: datetime) -> dict[str, tuple[int, dict[str, Any]]]:
        """Every instance overlapping [start, end): id -> (version, event resource)."""
        found: dict[str, tuple[int, dict[str, Any]]] = {}
        for eid, stored in self.events.items():
            if not stored.data.get("start"):
                continue  # an event without a start shows in no calendar view
            first = _from_dtz(stored.data["start"])
            length = _from_dtz(stored.data["end"]) - first
            if stored.rrule is None:
                if first < end and first + length > start:
                    found[eid] = (stored.version, {**stored.data, "type": "singleInstance"})
                continue
            for when in rrulestr(stored.rrule, dtstart=first).between(
                start - length, end, inc=True
            ):
                if when < end and when + length > start:
                    iid = f"{eid}_{when:%Y%m%d}"
                    found[iid] = (
                        stored.version,
                        {
                            **stored.data,
                            "id": iid,
                            "type": "occurrence",
                            "seriesMasterId": eid,
                            "iCalUId": hashlib.sha1(f"{iid}".encode()).hexdigest().upper(),
                            "start": _dtz(when),
                            "end": _dtz(when + length),
                        },
                    )
        return found

    def _calendar_delta(self, params: dict[str, str], prefer: dict[str, str]) -> httpx.Response:
        base = "/me/calendarView/delta"
        skip, state = self._resume(params)
        if skip is not None:
            if skip not in self.tokens:
                return _error(410, "SyncStateNotFound")
            return self._next_page(skip)
        if state is not None and state.get("kind") == "gone":
            return _error(410, "SyncStateNotFound")
        if state is None:
            if "startDateTime" not in params or "endDateTime" not in params:
                return _error(400, "ErrorInvalidParameter", "startDateTime and endDateTime")
            if "$select" in params:
                return _error(400, "ErrorInvalidUrlQuery", "$select is not supported on delta")
            state = {
                "kind": "calendar",
                "snapshot": {},
                "start": datetime.fromisoformat(params["startDateTime"].replace("Z", "+00:00")),
                "end": datetime.fromisoformat(params["endDateTime"].replace("Z", "+00:00")),
            }
        current = self._instances(state["start"], state["end"])
        rows = [
            self._public(event)
            for iid, (version, event) in sorted(current.items())
            if state["snapshot"].get(iid) != version
        ]
        rows += [
            {"@odata.type": "#microsoft.graph.event", "id": iid, "@removed": {"reason": "deleted"}}
            for iid in sorted(set(state["snapshot"]) - set(current))
        ]
        final = {**state, "snapshot": {iid: v for iid, (v, _) in current.items()}}
        return self._page(base, rows, self._page_size(prefer), final)

    @staticmethod
    def _public(event: dict[str, Any], select: str | None = None) -> dict[str, Any]:
        data = {k: v for k, v in event.items() if k != "transactionId"}
        if select:
            keep = {s.strip() for s in select.split(",")} | {"id"}
            data = {k: v for k, v in data.items() if k in keep or k.startswith("@odata")}
        return data

    def _with_props(self, stored: StoredEvent, params: dict[str, str]) -> dict[str, Any]:
        data = self._public(stored.data, params.get("$select"))
        wanted = self._expanded_ids(params.get("$expand"))
        if wanted:
            data["singleValueExtendedProperties"] = [
                {"id": pid, "value": value}
                for pid, value in stored.props.items()
                if _canonical(pid) in wanted
            ]
        return data

    def _list_events(self, params: dict[str, str], prefer: dict[str, str]) -> httpx.Response:
        if "$skiptoken" in params:
            return self._next_page(params["$skiptoken"])
        flt = params.get("$filter", "")
        if m := re.fullmatch(r"categories/any\(c:c eq '([^']+)'\)", flt):
            matches = [s for s in self.events.values() if m.group(1) in s.data["categories"]]
        elif m := re.fullmatch(
            r"singleValueExtendedProperties/Any\(ep: ep/id eq '([^']+)'"
            r" and ep/value eq '([^']*)'\)",
            flt,
        ):
            pid, value = m.group(1).lower(), m.group(2).replace("''", "'")
            matches = [
                s
                for s in self.events.values()
                if any(k.lower() == pid and v == value for k, v in s.props.items())
            ]
        elif not flt:
            matches = list(self.events.values())
        else:
            return _error(400, "ErrorInvalidUrlQueryFilter", flt)
        rows = [self._with_props(s, params) for s in matches]
        return self._page("/me/events", rows, self._page_size(prefer), None)

    def _get_event(self, eid: str, params: dict[str, str]) -> httpx.Response:
        stored = self.events.get(eid)
        if stored is None:
            return _error(404, "ErrorItemNotFound")
        return httpx.Response(200, json=self._with_props(stored, params))

    def _bump(self, stored: StoredEvent) -> None:
        stored.version += 1
        key = f"DwAAABYAAA{stored.version:04d}{stored.data['id'][-4:]}"
        stored.data["changeKey"] = key
        stored.data["@odata.etag"] = f'W/"{key}"'

    def _create_event(self, body: dict[str, Any]) -> httpx.Response:
        for need in ("subject", "start", "end"):
            if need not in body:
                return _error(400, "ErrorInvalidRequest", f"{need} is required")
        tx = body.get("transactionId")
        if tx:
            for stored in self.events.values():
                if stored.data.get("transactionId") == tx:
                    return httpx.Response(201, json=self._public(stored.data))
        eid = self._new_id("evt")
        props = {p["id"]: p["value"] for p in body.get("singleValueExtendedProperties", ())}
        data = {k: v for k, v in body.items() if k != "singleValueExtendedProperties"}
        data.update(
            id=eid,
            iCalUId="040000008200E00074C5B7101A82E00800000000" + eid[-8:].encode().hex(),
            isAllDay=False,
            isCancelled=False,
            isOrganizer=True,
            attendees=[],
            organizer=None,
        )
        data["start"], data["end"] = _dtz(_from_dtz(body["start"])), _dtz(_from_dtz(body["end"]))
        data.setdefault("categories", [])
        data.setdefault("showAs", "busy")
        stored = StoredEvent(data=data, props=props)
        self._bump(stored)
        self.events[eid] = stored
        return httpx.Response(201, json=self._public(stored.data))

    def _patch_event(self, eid: str, body: dict[str, Any], if_match: str | None) -> httpx.Response:
        stored = self.events.get(eid)
        if stored is None:
            return _error(404, "ErrorItemNotFound")
        if if_match and if_match != stored.data["@odata.etag"]:
            return _error(
                412,
                "ErrorIrresolvableConflict",
                "The change key passed in the request does not match the current one.",
            )
        for prop in body.get("singleValueExtendedProperties", ()):
            stored.props[prop["id"]] = prop["value"]
        for k, v in body.items():
            if k not in ("singleValueExtendedProperties", "id", "transactionId"):
                stored.data[k] = v
        self._bump(stored)
        return httpx.Response(200, json=self._public(stored.data))

    def _delete_event(self, eid: str) -> httpx.Response:
        if self.events.pop(eid, None) is None:
            return _error(404, "ErrorItemNotFound")
        return httpx.Response(204)

    def add_event(
        self,
        uid: str,
        summary: str,
        start: datetime,
        end: datetime,
        attendees: Iterable[str] = (),
        rrule: str | None = None,
    ) -> str:
        eid = self._new_id("evt")
        stored = StoredEvent(
            rrule=rrule,
            data={
                "id": eid,
                "iCalUId": uid,
                "subject": summary,
                "start": _dtz(start),
                "end": _dtz(end),
                "isAllDay": False,
                "isCancelled": False,
                "showAs": "busy",
                "categories": [],
                "type": "seriesMaster" if rrule else "singleInstance",
                "isOrganizer": True,
                "organizer": _recipient("Alex Morgan", "alex@brightpath.example"),
                "attendees": [{"type": "required", **_recipient("", a)} for a in attendees],
            },
        )
        self._bump(stored)
        self.events[eid] = stored
        return eid

    def touch_event(self, eid: str, **changes: Any) -> None:
        stored = self.events[eid]
        for k, v in changes.items():
            stored.data[k] = _dtz(v) if isinstance(v, datetime) else v
        self._bump(stored)

    # -- Microsoft To Do ----------------------------------------------------

    def _todo(
        self, method: str, rest: list[str], params: dict[str, str], body: Any, headers: Any
    ) -> httpx.Response:
        if rest == ["lists"] and method == "GET":
            match = re.fullmatch(r"displayName eq '((?:[^']|'')*)'", params.get("$filter", ""))
            name = match.group(1).replace("''", "'") if match else None
            rows = [
                {"id": lid, "displayName": n}
                for lid, n in self.todo_lists.items()
                if name is None or n == name
            ]
            return httpx.Response(200, json={"value": rows})
        if rest == ["lists"] and method == "POST":
            lid = self._new_id("list")
            self.todo_lists[lid] = body["displayName"]
            return httpx.Response(201, json={"id": lid, "displayName": body["displayName"]})
        if len(rest) < 3 or rest[0] != "lists" or rest[1] not in self.todo_lists:
            return _error(404, "ErrorItemNotFound")
        lid = rest[1]
        if rest[2:] == ["tasks"] and method == "GET":
            expand = params.get("$expand") == "linkedResources"
            rows = [
                self._public_todo(t, expand) for t in self.todo_tasks.values() if t["listId"] == lid
            ]
            return self._page(f"/me/todo/lists/{lid}/tasks", rows, self.default_page, None)
        if rest[2:] == ["tasks"] and method == "POST":
            tid = self._new_id("todo")
            links = [{"id": self._new_id("link"), **r} for r in body.pop("linkedResources", ())]
            task = {
                **body,
                "id": tid,
                "listId": lid,
                "status": "notStarted",
                "linkedResources": links,
                "version": 1,
            }
            task["@odata.etag"] = f'W/"todo-{tid[-6:]}-1"'
            self.todo_tasks[tid] = task
            return httpx.Response(201, json=self._public_todo(task, False))
        tid = rest[3] if len(rest) == 4 else ""
        found = self.todo_tasks.get(tid)
        if found is None or found["listId"] != lid:
            return _error(404, "ErrorItemNotFound")
        task = found
        if method == "PATCH":
            if headers.get("If-Match") and headers.get("If-Match") != task["@odata.etag"]:
                return _error(412, "PreconditionFailed")
            task.update(body)
            self.touch_todo(tid)
            return httpx.Response(200, json=self._public_todo(task, False))
        if method == "DELETE":
            del self.todo_tasks[tid]
            return httpx.Response(204)
        return _error(400, "BadRequest")

    @staticmethod
    def _public_todo(task: dict[str, Any], expand: bool) -> dict[str, Any]:
        data = {k: v for k, v in task.items() if k not in ("listId", "version")}
        if not expand:
            data.pop("linkedResources", None)
        return data

    def touch_todo(self, tid: str, **changes: Any) -> None:
        task = self.todo_tasks[tid]
        task.update(changes)
        task["version"] += 1
        task["@odata.etag"] = f'W/"todo-{tid[-6:]}-{task["version"]}"'

    # -- $batch -------------------------------------------------------------

    def _batch(self, body: dict[str, Any]) -> httpx.Response:
        requests = body.get("requests", [])
        if len(requests) > 20:
            return _error(400, "BadRequest", "a batch takes at most 20 requests")
        responses = []
        for sub in requests:
            url = urlsplit(sub["url"])
            headers = httpx.Headers(sub.get("headers") or {})
            answer = self.route(
                sub["method"], url.path, dict(parse_qsl(url.query)), sub.get("body"), headers
            )
            responses.append(
                {
                    "id": sub["id"],
                    "status": answer.status_code,
                    "headers": dict(answer.headers),
                    "body": answer.json() if answer.content else None,
                }
            )
        return httpx.Response(200, json={"responses": responses})
