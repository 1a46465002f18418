"""A small stateful Exchange Web Services endpoint, for requests-mock.

Answers the SOAP operations nurture sends, with envelopes shaped like Exchange
Server 2016/2019 responses: SyncFolderItems (paging by MaxChangesReturned,
SyncState, IncludesLastItemInRange, ErrorInvalidSyncStateData), GetItem,
FindItem (CalendarView expansion; IndexedPageItemView with an Exists or
IsEqualTo restriction on an ExtendedFieldURI), CreateItem, UpdateItem (change
keys, ConflictResolution), DeleteItem, basic auth (401) and ErrorServerBusy
faults with BackOffMilliseconds. Only the properties asked for in
AdditionalProperties are returned, as Exchange does with an IdOnly shape.

A delivered message keeps its MIME (with its attachments), its Body as the
server holds it (the HTML part if there is one, else the text) and a TextBody
rendering. `FakeEWS(version="2010")` answers as Exchange 2010 SP2, which has
no TextBody and fails a request naming it schema validation, as 2010 does.
"""

from __future__ import annotations

import base64
import email
import email.message
import email.policy
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any, cast
from xml.sax.saxutils import escape, quoteattr

import lxml.html
from dateutil.rrule import rrulestr  # type: ignore[import-untyped]
from lxml import etree

UTC = UTC
ENDPOINT = "https://ex.example/EWS/Exchange.asmx"
S = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
NS = {"s": S, "m": M, "t": T}

HEADER = (
    '<s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507"'
    ' MinorBuildNumber="6" Version="V2017_07_11"'
    ' xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types"'
    ' xmlns="http://schemas.microsoft.com/exchange/services/2006/types"'
    ' xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/></s:Header>'
)


def envelope(body: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{S}">{HEADER}'
        '<s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        ' xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        f"{body}</s:Body></s:Envelope>"
    )


def response(op: str, messages: Iterable[str]) -> str:
    return envelope(
        f'<m:{op}Response xmlns:m="{M}" xmlns:t="{T}"><m:ResponseMessages>'
        + "".join(messages)
        + f"</m:ResponseMessages></m:{op}Response>"
    )


def ok(op: str, inner: str) -> str:
    return (
        f'<m:{op}ResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>'
        f"{inner}</m:{op}ResponseMessage>"
    )


def error(op: str, code: str, text: str, inner: str = "") -> str:
    return (
        f'<m:{op}ResponseMessage ResponseClass="Error">'
        f"<m:MessageText>{escape(text)}</m:MessageText>"
        f"<m:ResponseCode>{code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>"
        f"{inner}</m:{op}ResponseMessage>"
    )


EXCHANGE_2010_HEADER = (
    '<s:Header><h:ServerVersionInfo MajorVersion="14" MinorVersion="3" MajorBuildNumber="123"'
    ' MinorBuildNumber="4" Version="Exchange2010_SP2"'
    ' xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types"'
    ' xmlns="http://schemas.microsoft.com/exchange/services/2006/types"'
    ' xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/></s:Header>'
)


def schema_invalid(uri: str) -> str:
    """The SOAP fault Exchange answers a FieldURI its schema version does not have."""
    return envelope(
        "<s:Fault>"
        f'<faultcode xmlns:a="{T}">a:ErrorSchemaValidation</faultcode>'
        '<faultstring xml:lang="en-US">The request failed schema validation: The'
        f" 'FieldURI' attribute is invalid - The value '{uri}' is invalid according to its"
        " datatype 'http://schemas.microsoft.com/exchange/services/2006/types:UnindexedFieldURIType'"
        " - The Enumeration constraint failed.</faultstring><detail>"
        '<e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">'
        "ErrorSchemaValidation</e:ResponseCode>"
        '<e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">'
        "The request failed schema validation.</e:Message></detail></s:Fault>"
    )


def server_busy(back_off_ms: int) -> str:
    return envelope(
        "<s:Fault>"
        f'<faultcode xmlns:a="{T}">a:ErrorServerBusy</faultcode>'
        '<faultstring xml:lang="en-US">The server cannot service this request right now.'
        " Try again later.</faultstring><detail>"
        '<e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">'
        "ErrorServerBusy</e:ResponseCode>"
        '<e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">'
        "The server cannot service this request right now. Try again later.</e:Message>"
        f'<t:MessageXml xmlns:t="{T}"><t:Value Name="BackOffMilliseconds">{back_off_ms}'
        "</t:Value></t:MessageXml></detail></s:Fault>"
    )


def stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def mailbox(name: str, address: str, kind: str = "OneOff") -> str:
    return (
        f"<t:Mailbox><t:Name>{escape(name or address)}</t:Name>"
        f"<t:EmailAddress>{escape(address)}</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType>"
        f"<t:MailboxType>{kind}</t:MailboxType></t:Mailbox>"
    )


# FieldURI → (element name, kind) in the order Exchange's schema lists them.
FIELDS: dict[str, tuple[str, str]] = {
    "item:MimeContent": ("MimeContent", "mime"),
    "item:Subject": ("Subject", "text"),
    "item:Sensitivity": ("Sensitivity", "text"),
    "item:Body": ("Body", "body"),
    "item:DateTimeReceived": ("DateTimeReceived", "time"),
    "item:Categories": ("Categories", "strings"),
    "item:InReplyTo": ("InReplyTo", "text"),
    "item:InternetMessageHeaders": ("InternetMessageHeaders", "headers"),
    "item:DateTimeSent": ("DateTimeSent", "time"),
    "item:IsDraft": ("IsDraft", "bool"),
    "item:ReminderIsSet": ("ReminderIsSet", "bool"),
    "item:ReminderMinutesBeforeStart": ("ReminderMinutesBeforeStart", "text"),
    "item:WebClientReadFormQueryString": ("WebClientReadFormQueryString", "text"),
    "item:TextBody": ("TextBody", "textbody"),
    "message:Sender": ("Sender", "mailbox"),
    "message:ToRecipients": ("ToRecipients", "mailboxes"),
    "message:CcRecipients": ("CcRecipients", "mailboxes"),
    "message:InternetMessageId": ("InternetMessageId", "text"),
    "message:From": ("From", "mailbox"),
    "message:References": ("References", "text"),
    "message:ReplyTo": ("ReplyTo", "mailboxes"),
    "calendar:UID": ("UID", "text"),
    "calendar:Start": ("Start", "time"),
    "calendar:End": ("End", "time"),
    "calendar:IsAllDayEvent": ("IsAllDayEvent", "bool"),
    "calendar:LegacyFreeBusyStatus": ("LegacyFreeBusyStatus", "text"),
    "calendar:IsMeeting": ("IsMeeting", "bool"),
    "calendar:IsCancelled": ("IsCancelled", "bool"),
    "calendar:Organizer": ("Organizer", "mailbox"),
    "calendar:RequiredAttendees": ("RequiredAttendees", "attendees"),
    "calendar:OptionalAttendees": ("OptionalAttendees", "attendees"),
}
BY_ELEMENT = {element: uri for uri, (element, _) in FIELDS.items()}


@dataclass
class Item:
    id: str
    folder: str
    kind: str
    values: dict[str, Any]
    ext: dict[tuple[str, str], str] = field(default_factory=dict)
    rrule: str | None = None
    version: int = 1

    @property
    def changekey(self) -> str:
        return f"CQAAABYAAA{self.version:04d}{self.id[-6:]}"


@dataclass
class Call:
    """One SOAP request as received: operation name and parsed body element."""

    operation: str
    element: Any
    text: str
    answered: int = 0  # characters of the response


class FakeEWS:
    """The server; `handle` is a requests-mock callback for POST ENDPOINT."""

    def __init__(
        self,
        *,
        username: str = "alex",
        password: str = "secret",
        token: str = "token-1",
        version: str = "2016",
    ) -> None:
        self.version = version
        self.credentials = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.token = token  # a bearer token the server accepts (modern auth)
        self.items: dict[str, Item] = {}
        self.states: dict[str, dict[str, int]] = {}
        self.calls: list[Call] = []
        self.busy: list[tuple[str, int]] = []
        self.folders: dict[str, str] = {}  # folder id -> display name, under msgfolderroot
        self._ids = itertools.count(1)

    # -- plumbing -----------------------------------------------------------

    def _new_id(self) -> str:
        raw = f"nurture-fake-item-{next(self._ids):06d}".encode()
        return "AAMkADk" + base64.b64encode(raw).decode()

    def inject_busy(self, operation: str, back_off_ms: int, times: int = 1) -> None:
        self.busy.extend([(operation, back_off_ms)] * times)

    def forget_states(self) -> None:
        self.states.clear()

    def operations(self) -> list[str]:
        return [c.operation for c in self.calls]

    def handle(self, request: Any, context: Any) -> str:
        auth = request.headers.get("Authorization", "")
        if auth not in (f"Basic {self.credentials}", f"Bearer {self.token}"):
            context.status_code = 401
            context.headers["WWW-Authenticate"] = 'Basic realm="ex.example"'
            return ""
        root = etree.fromstring(
            request.body if isinstance(request.body, bytes) else request.body.encode()
        )
        op_elem = root.find("s:Body", NS)[0]
        op = etree.QName(op_elem).localname
        self.calls.append(
            Call(
                op,
                op_elem,
                request.body.decode() if isinstance(request.body, bytes) else request.body,
            )
        )
        for n, (busy_op, back_off) in enumerate(self.busy):
            if busy_op == op:
                del self.busy[n]
                context.status_code = 500
                return server_busy(back_off)
        context.headers["Content-Type"] = "text/xml; charset=utf-8"
        if self.version == "2010":
            if "item:TextBody" in self._wanted(op_elem)[0]:
                context.status_code = 500
                return self._answered(schema_invalid("item:TextBody"))
            return self._answered(
                getattr(self, f"_{op}")(op_elem).replace(HEADER, EXCHANGE_2010_HEADER, 1)
            )
        return self._answered(getattr(self, f"_{op}")(op_elem))

    def _answered(self, text: str) -> str:
        self.calls[-1].answered = len(text)
        return text

    # -- rendering ----------------------------------------------------------

    @staticmethod
    def _wanted(op_elem: Any) -> tuple[list[str], list[tuple[str, str]]]:
        """The FieldURIs and extended properties asked for in the item shape."""
        shape = op_elem.find("m:ItemShape", NS)
        if shape is None:
            return [], []
        uris = [f.get("FieldURI") for f in shape.iter(f"{{{T}}}FieldURI")]
        ext = [
            (f.get("PropertySetId"), f.get("PropertyName"))
            for f in shape.iter(f"{{{T}}}ExtendedFieldURI")
        ]
        return uris, ext

    def render(
        self,
        item: Item,
        uris: list[str],
        ext: list[tuple[str, str]],
        override: dict[str, Any] | None = None,
    ) -> str:
        values = {**item.values, **(override or {})}
        parts = [f'<t:ItemId Id="{item.id}" ChangeKey="{item.changekey}"/>']
        for uri, (element, kind) in FIELDS.items():
            if uri not in uris or values.get(uri) is None:
                continue
            value = values[uri]
            if kind == "text":
                parts.append(f"<t:{element}>{escape(str(value))}</t:{element}>")
            elif kind == "bool":
                parts.append(f"<t:{element}>{'true' if value else 'false'}</t:{element}>")
            elif kind == "time":
                parts.append(f"<t:{element}>{stamp(value)}</t:{element}>")
            elif kind == "mime":
                data = base64.b64encode(value).decode()
                parts.append(f'<t:MimeContent CharacterSet="UTF-8">{data}</t:MimeContent>')
            elif kind == "body":
                # A str is a text body; a (BodyType, content) pair says which it is.
                body_type, content = value if isinstance(value, tuple) else ("Text", value)
                parts.append(f'<t:Body BodyType="{body_type}">{escape(content)}</t:Body>')
            elif kind == "textbody":
                parts.append(f'<t:TextBody BodyType="Text">{escape(value)}</t:TextBody>')
            elif kind == "strings":
                inner = "".join(f"<t:String>{escape(v)}</t:String>" for v in value)
                parts.append(f"<t:{element}>{inner}</t:{element}>")
            elif kind == "headers":
                inner = "".join(
                    f"<t:InternetMessageHeader HeaderName={quoteattr(k)}>{escape(v)}"
                    "</t:InternetMessageHeader>"
                    for k, v in value
                )
                parts.append(f"<t:{element}>{inner}</t:{element}>")
            elif kind == "mailbox":
                parts.append(f"<t:{element}>{mailbox(*value)}</t:{element}>")
            elif kind == "mailboxes":
                inner = "".join(mailbox(*v) for v in value)
                parts.append(f"<t:{element}>{inner}</t:{element}>")
            elif kind == "attendees":
                inner = "".join(
                    f"<t:Attendee>{mailbox(v[0], v[1], 'Mailbox')}<t:ResponseType>Unknown"
                    "</t:ResponseType></t:Attendee>"
                    for v in value
                )
                parts.append(f"<t:{element}>{inner}</t:{element}>")
        for key in ext:
            if key in item.ext:
                parts.append(
                    f'<t:ExtendedProperty><t:ExtendedFieldURI PropertySetId="{key[0]}"'
                    f' PropertyName="{key[1]}" PropertyType="String"/>'
                    f"<t:Value>{escape(item.ext[key])}</t:Value></t:ExtendedProperty>"
                )
        return f"<t:{item.kind}>{''.join(parts)}</t:{item.kind}>"

    # -- operations ---------------------------------------------------------

    def _SyncFolderItems(self, op: Any) -> str:
        target = op.find("m:SyncFolderId", NS)[0]
        folder = target.get("Id")
        if etree.QName(target).localname == "FolderId" and folder not in self.folders:
            return response(
                "SyncFolderItems",
                [
                    error(
                        "SyncFolderItems",
                        "ErrorFolderNotFound",
                        "The specified folder could not be found" " in the store.",
                    )
                ],
            )
        token = op.findtext("m:SyncState", default="", namespaces=NS)
        limit = int(op.findtext("m:MaxChangesReturned", namespaces=NS))
        if token and token not in self.states:
            return response(
                "SyncFolderItems",
                [
                    error(
                        "SyncFolderItems",
                        "ErrorInvalidSyncStateData",
                        "Synchronization state data is corrupt or otherwise invalid.",
                        # Exchange still sends the (empty) state elements on this error.
                        "<m:SyncState/><m:IncludesLastItemInRange>true</m:IncludesLastItemInRange>",
                    )
                ],
            )
        known = dict(self.states.get(token, {}))
        current = {i.id: i for i in self.items.values() if i.folder == folder}
        changes: list[tuple[str, str]] = [
            ("Create" if iid not in known else "Update", iid)
            for iid, item in sorted(current.items())
            if known.get(iid) != item.version
        ] + [("Delete", iid) for iid in sorted(set(known) - set(current))]
        page, rest = changes[:limit], changes[limit:]
        uris, ext = self._wanted(op)
        rendered = []
        for change, iid in page:
            if change == "Delete":
                known.pop(iid, None)
                rendered.append(f'<t:Delete><t:ItemId Id="{iid}" ChangeKey="x"/></t:Delete>')
            else:
                known[iid] = current[iid].version
                body = self.render(current[iid], uris, ext)
                rendered.append(f"<t:{change}>{body}</t:{change}>")
        new_token = base64.b64encode(f"state-{next(self._ids)}".encode()).decode()
        self.states[new_token] = known
        return response(
            "SyncFolderItems",
            [
                ok(
                    "SyncFolderItems",
                    f"<m:SyncState>{new_token}</m:SyncState>"
                    f"<m:IncludesLastItemInRange>{'false' if rest else 'true'}"
                    f"</m:IncludesLastItemInRange><m:Changes>{''.join(rendered)}</m:Changes>",
                )
            ],
        )

    def _FindFolder(self, op: Any) -> str:
        parent = op.find("m:ParentFolderIds/t:DistinguishedFolderId", NS).get("Id")
        assert parent == "msgfolderroot", parent
        assert op.get("Traversal") == "Deep"
        names = {
            c.get("Value")
            for c in op.iter(f"{{{T}}}Constant")
            if c.getparent().getparent().find("t:FieldURI", NS).get("FieldURI")
            == "folder:DisplayName"
        }
        found = [(fid, name) for fid, name in self.folders.items() if name in names]
        body = "".join(
            f'<t:Folder><t:FolderId Id="{fid}" ChangeKey="AQAAABYAAA"/>'
            f"<t:FolderClass>IPF.Note</t:FolderClass><t:DisplayName>{escape(name)}"
            "</t:DisplayName><t:TotalCount>0</t:TotalCount><t:ChildFolderCount>0"
            "</t:ChildFolderCount><t:UnreadCount>0</t:UnreadCount></t:Folder>"
            for fid, name in found
        )
        return response(
            "FindFolder",
            [
                ok(
                    "FindFolder",
                    f'<m:RootFolder IndexedPagingOffset="{len(found)}"'
                    f' TotalItemsInView="{len(found)}"'
                    f' IncludesLastItemInRange="true"><t:Folders>{body}</t:Folders></m:RootFolder>',
                )
            ],
        )

    def add_folder(self, name: str) -> str:
        fid = "AAMkADkFolder" + base64.b64encode(name.encode()).decode()
        self.folders[fid] = name
        return fid

    def _GetItem(self, op: Any) -> str:
        uris, ext = self._wanted(op)
        messages = []
        for ref in op.find("m:ItemIds", NS):
            item = self.items.get(ref.get("Id"))
            if item is None:
                messages.append(
                    error(
                        "GetItem",
                        "ErrorItemNotFound",
                        "The specified object was not found in the store., The process failed to"
                        " get the correct properties.",
                        "<m:Items/>",
                    )
                )
            else:
                messages.append(ok("GetItem", f"<m:Items>{self.render(item, uris, ext)}</m:Items>"))
        return response("GetItem", messages)

    def _matches(self, item: Item, restriction: Any) -> bool:
        if restriction is None:
            return True
        test = restriction[0]
        name = etree.QName(test).localname
        uri = test.find("t:ExtendedFieldURI", NS)
        key = (uri.get("PropertySetId"), uri.get("PropertyName"))
        if name == "Exists":
            return key in item.ext
        if name == "IsEqualTo":
            constant = test.find("t:FieldURIOrConstant/t:Constant", NS).get("Value")
            return item.ext.get(key) == constant
        raise AssertionError(f"fake EWS has no restriction {name}")

    def occurrences(self, start: datetime, end: datetime) -> list[tuple[Item, dict[str, Any]]]:
        found: list[tuple[Item, dict[str, Any]]] = []
        for item in self.items.values():
            if item.kind != "CalendarItem" or "calendar:Start" not in item.values:
                continue
            first, last = item.values["calendar:Start"], item.values["calendar:End"]
            length = last - first
            if item.rrule is None:
                if first < end and last > start:
                    found.append((item, {}))
                continue
            for when in rrulestr(item.rrule, dtstart=first).between(start - length, end, inc=True):
                if when < end and when + length > start:
                    found.append((item, {"calendar:Start": when, "calendar:End": when + length}))
        return sorted(
            found,
            key=lambda pair: pair[1].get("calendar:Start") or pair[0].values["calendar:Start"],
        )

    def _FindItem(self, op: Any) -> str:
        folder = op.find("m:ParentFolderIds/t:DistinguishedFolderId", NS).get("Id")
        uris, ext = self._wanted(op)
        view = op.find("m:CalendarView", NS)
        if view is not None:
            assert op.find("m:Restriction", NS) is None, "CalendarView takes no restriction"
            found = self.occurrences(
                parse_time(view.get("StartDate")), parse_time(view.get("EndDate"))
            )
            body = "".join(self.render(item, uris, ext, over) for item, over in found)
            return response(
                "FindItem",
                [
                    ok(
                        "FindItem",
                        f'<m:RootFolder TotalItemsInView="{len(found)}"'
                        ' IncludesLastItemInRange="true">'
                        f"<t:Items>{body}</t:Items></m:RootFolder>",
                    )
                ],
            )
        paging = op.find("m:IndexedPageItemView", NS)
        size, offset = int(paging.get("MaxEntriesReturned")), int(paging.get("Offset"))
        restriction = op.find("m:Restriction", NS)
        matches = [
            i for i in self.items.values() if i.folder == folder and self._matches(i, restriction)
        ]
        page = matches[offset : offset + size]
        last = offset + size >= len(matches)
        body = "".join(self.render(item, uris, ext) for item in page)
        return response(
            "FindItem",
            [
                ok(
                    "FindItem",
                    f'<m:RootFolder IndexedPagingOffset="{offset + len(page)}"'
                    f' TotalItemsInView="{len(matches)}"'
                    f' IncludesLastItemInRange="{"true" if last else "false"}">'
                    f"<t:Items>{body}</t:Items></m:RootFolder>",
                )
            ],
        )

    def _read_value(self, elem: Any) -> tuple[str | tuple[str, str], Any]:
        """(FieldURI or extended key, python value) of one item child element."""
        name = etree.QName(elem).localname
        if name == "ExtendedProperty":
            uri = elem.find("t:ExtendedFieldURI", NS)
            return (uri.get("PropertySetId"), uri.get("PropertyName")), elem.findtext(
                "t:Value", namespaces=NS
            )
        uri = BY_ELEMENT.get(name, f"other:{name}")
        kind = FIELDS.get(uri, ("", "text"))[1]
        if kind == "time":
            return uri, parse_time(elem.text)
        if kind == "bool":
            return uri, elem.text == "true"
        if kind == "strings":
            return uri, [s.text for s in elem]
        return uri, elem.text or ""

    def _store_values(self, item: Item, elements: Iterable[Any]) -> None:
        for elem in elements:
            key, value = self._read_value(elem)
            if isinstance(key, tuple):
                item.ext[key] = value
            else:
                item.values[key] = value

    def _CreateItem(self, op: Any) -> str:
        folder = op.find("m:SavedItemFolderId/t:DistinguishedFolderId", NS).get("Id")
        messages = []
        for elem in op.find("m:Items", NS):
            item = Item(self._new_id(), folder, etree.QName(elem).localname, {})
            self._store_values(item, elem)
            item.values.setdefault("calendar:IsMeeting", False)
            item.values.setdefault("calendar:IsCancelled", False)
            self.items[item.id] = item
            messages.append(ok("CreateItem", f"<m:Items>{self.render(item, [], [])}</m:Items>"))
        return response("CreateItem", messages)

    def _UpdateItem(self, op: Any) -> str:
        resolution = op.get("ConflictResolution")
        messages = []
        for change in op.find("m:ItemChanges", NS):
            ref = change.find("t:ItemId", NS)
            item = self.items.get(ref.get("Id"))
            if item is None:
                messages.append(
                    error(
                        "UpdateItem",
                        "ErrorItemNotFound",
                        "The specified object was not found in the store.",
                    )
                )
                continue
            if resolution == "NeverOverwrite" and ref.get("ChangeKey") != item.changekey:
                messages.append(
                    error(
                        "UpdateItem",
                        "ErrorIrresolvableConflict",
                        "The send or update operation could not be performed because the change"
                        " key passed in the request does not match the current change key for"
                        " the item.",
                    )
                )
                continue
            for update in change.find("t:Updates", NS):
                kind = etree.QName(update).localname
                if kind == "SetItemField":
                    self._store_values(item, update[-1])
                elif kind == "DeleteItemField":
                    target = update[0]
                    if etree.QName(target).localname == "ExtendedFieldURI":
                        item.ext.pop(
                            (target.get("PropertySetId"), target.get("PropertyName")), None
                        )
                    else:
                        item.values.pop(target.get("FieldURI"), None)
            item.version += 1
            messages.append(
                ok(
                    "UpdateItem",
                    f"<m:Items>{self.render(item, [], [])}</m:Items>"
                    "<m:ConflictResults><t:Count>0</t:Count></m:ConflictResults>",
                )
            )
        return response("UpdateItem", messages)

    def _DeleteItem(self, op: Any) -> str:
        messages = []
        for ref in op.find("m:ItemIds", NS):
            if self.items.pop(ref.get("Id"), None) is None:
                messages.append(
                    error(
                        "DeleteItem",
                        "ErrorItemNotFound",
                        "The specified object was not found in the store.",
                    )
                )
            else:
                messages.append(ok("DeleteItem", ""))
        return response("DeleteItem", messages)

    # -- the outside world --------------------------------------------------

    def deliver(self, raw: bytes, folder: str) -> str:
        # The server reads headers as a modern client does: RFC 2047 and raw UTF-8 decoded.
        parsed = cast(
            email.message.EmailMessage,
            email.message_from_bytes(raw, policy=email.policy.default),
        )
        when = parsedate_to_datetime(parsed["Date"]) if parsed["Date"] else datetime.now(UTC)

        def people(name: str) -> list[tuple[str, str]]:
            return [(n, a) for n, a in getaddresses(parsed.get_all(name, []))]

        sender = people("From")
        iid = self._new_id()
        values: dict[str, Any] = {
            "item:MimeContent": raw,
            "item:Body": stored_body(parsed),
            "item:TextBody": text_rendering(parsed),
            "item:Subject": parsed["Subject"],
            "item:DateTimeReceived": when,
            "item:DateTimeSent": when,
            "item:IsDraft": False,
            "item:InReplyTo": parsed["In-Reply-To"],
            "item:WebClientReadFormQueryString": f"https://ex.example/owa/?ItemID={iid}&exvsurl=1&viewmodel=ReadMessageItem",
            "message:InternetMessageId": parsed["Message-ID"],
            "message:References": parsed["References"],
            "message:From": sender[0] if sender else None,
            "message:Sender": sender[0] if sender else None,
            "message:ToRecipients": people("To"),
            "message:CcRecipients": people("Cc") or None,
            "message:ReplyTo": people("Reply-To") or None,
        }
        if folder == "inbox":  # sent mail has no transport headers
            values["item:InternetMessageHeaders"] = [(k, str(v)) for k, v in parsed.items()]
        self.items[iid] = Item(iid, folder, "Message", values)
        return iid

    def remove(self, message_id: str) -> None:
        for iid, item in list(self.items.items()):
            if (item.values.get("message:InternetMessageId") or "").strip("<>") == message_id:
                del self.items[iid]

    def add_event(
        self,
        uid: str,
        summary: str,
        start: datetime,
        end: datetime,
        attendees: Iterable[str] = (),
        rrule: str | None = None,
    ) -> str:
        iid = self._new_id()
        people = [("", a) for a in attendees]
        self.items[iid] = Item(
            iid,
            "calendar",
            "CalendarItem",
            {
                "item:Subject": summary,
                "calendar:UID": uid,
                "calendar:Start": start,
                "calendar:End": end,
                "calendar:IsAllDayEvent": False,
                "calendar:LegacyFreeBusyStatus": "Busy",
                "calendar:IsMeeting": bool(people),
                "calendar:IsCancelled": False,
                "calendar:Organizer": ("Alex Morgan", "alex@brightpath.example"),
                "calendar:RequiredAttendees": people or None,
            },
            rrule=rrule,
        )
        return iid

    def touch(self, iid: str, **values: Any) -> None:
        self.items[iid].values.update(values)
        self.items[iid].version += 1


def _part(parsed: email.message.EmailMessage, subtype: str) -> str | None:
    part = parsed.get_body(preferencelist=(subtype,))
    return None if part is None else str(part.get_content())


def stored_body(parsed: email.message.EmailMessage) -> tuple[str, str] | None:
    """The Body as Exchange stores a delivered message: its HTML if it has one, else text."""
    html = _part(parsed, "html")
    if html is not None:
        return ("HTML", html)
    plain = _part(parsed, "plain")
    return None if plain is None else ("Text", plain)


def text_rendering(parsed: email.message.EmailMessage) -> str | None:
    """TextBody (Exchange 2013+): the text part, or the HTML part rendered as text."""
    plain = _part(parsed, "plain")
    if plain is not None:
        return plain
    html = _part(parsed, "html")
    return None if html is None else lxml.html.document_fromstring(html).text_content()


def later(value: datetime, **delta: float) -> datetime:
    return value + timedelta(**delta)
