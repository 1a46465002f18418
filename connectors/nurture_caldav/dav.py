"""The few WebDAV/CalDAV requests the store needs, over caldav's authenticated client.

caldav (2.0.1, on requests) finds the principal and its calendars; the
requests that carry nurture's guarantees — conditional PUT/DELETE with
If-Match / If-None-Match, sync-collection, calendar-multiget — are written
out here so their headers and status codes are explicit.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import caldav
import caldav.lib.error as caldav_error
import requests
from lxml import etree

from nurture.errors import AuthError, ConnectorError, TransientError

log = logging.getLogger(__name__)

DAV = "DAV:"
CAL = "urn:ietf:params:xml:ns:caldav"
NS = {"d": DAV, "c": CAL}
XML = {"Content-Type": "application/xml; charset=utf-8"}
RETRY_AFTER = 60.0

_SYNC = """<?xml version="1.0" encoding="utf-8"?>
<d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token>
<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"""
_ETAGS = """<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:resourcetype/></d:prop></d:propfind>"""
_SUPPORT = """<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop>
<d:sync-token/><d:supported-report-set/><c:supported-calendar-component-set/>
</d:prop></d:propfind>"""
_MULTIGET = """<?xml version="1.0" encoding="utf-8"?>
<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
<d:prop><d:getetag/><c:calendar-data/></d:prop>{hrefs}</c:calendar-multiget>"""
_QUERY = """<?xml version="1.0" encoding="utf-8"?>
<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
<d:prop><d:getetag/><c:calendar-data/></d:prop>
<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">
<c:time-range start="{start}" end="{end}"/></c:comp-filter></c:comp-filter></c:filter>
</c:calendar-query>"""


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True, slots=True)
class Item:
    """One calendar object as listed or fetched: href, ETag, and its iCalendar text (if fetched)."""

    href: str
    etag: str
    data: str = ""
    gone: bool = False


@dataclass(frozen=True, slots=True)
class Collection:
    """A calendar found on the server."""

    url: str
    name: str
    components: frozenset[str]
    sync: bool


class Dav:
    """Raw requests on one DAVClient; every failure becomes a nurture error."""

    def __init__(self, client: caldav.DAVClient, auth_command: str) -> None:
        self.client = client
        self.auth_command = auth_command

    @contextlib.contextmanager
    def guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except caldav_error.AuthorizationError as exc:
            raise AuthError(f"CalDAV login refused ({what})", command=self.auth_command) from exc
        except requests.ReadTimeout as exc:
            raise TransientError(
                f"CalDAV server did not answer in time ({what}); a server that cannot "
                "expand a repeating event hangs like this",
                RETRY_AFTER,
            ) from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(f"CalDAV server unreachable ({what}): {exc}", RETRY_AFTER) from exc
        except requests.RequestException as exc:  # a connection dropped mid-answer
            raise TransientError(f"CalDAV answer cut off ({what}): {exc}", RETRY_AFTER) from exc
        except etree.LxmlError as exc:
            raise TransientError(
                f"CalDAV server sent an unreadable answer ({what})", RETRY_AFTER
            ) from exc
        except caldav_error.DAVError as exc:
            status = str(getattr(exc, "reason", "")) or str(exc)
            if any(code in status for code in ("500", "502", "503", "504", "429")):
                raise TransientError(
                    f"CalDAV server trouble ({what}): {status}", RETRY_AFTER
                ) from exc
            raise ConnectorError(f"CalDAV request failed ({what}): {status}") from exc

    @staticmethod
    @contextlib.contextmanager
    def naming(where: str) -> Iterator[None]:
        """Put `where` (which calendar) in front of any failure inside."""
        try:
            yield
        except TransientError as exc:
            raise TransientError(f"{where}: {exc}", exc.retry_after) from exc
        except AuthError:
            raise
        except ConnectorError as exc:
            raise ConnectorError(f"{where}: {exc}") from exc

    def request(
        self, url: str, method: str, body: str | bytes = "", headers: dict[str, str] | None = None
    ) -> Any:
        with self.guard(f"{method} {url}"):
            response = self.client.request(url, method, body, headers or {})  # type: ignore[arg-type]
        if response.status == 429 or response.status >= 500:
            retry = response.headers.get("Retry-After", "")
            raise TransientError(
                f"CalDAV server busy ({method} {url}: {response.status})",
                float(retry) if retry.isdigit() else RETRY_AFTER,
            )
        return response

    def check(self, response: Any, what: str, ok: Sequence[int] = (200, 201, 204, 207)) -> None:
        if response.status not in ok:
            raise ConnectorError(f"CalDAV {what} failed: HTTP {response.status} {response.reason}")
        if response.status == 207 and response.tree is None:
            raise TransientError(f"CalDAV {what}: the server's answer is not XML", RETRY_AFTER)

    @staticmethod
    def absolute(base: str, href: str) -> str:
        """`href` from a response about collection `base`, as a full URL.

        Joined to the collection, not to the configured URL: iCloud serves
        calendars from another host (pNN-caldav.icloud.com) than it is asked at.
        """
        return urljoin(base, href)

    # -- discovery ----------------------------------------------------------

    def calendars(self) -> list[Collection]:
        with self.guard("finding calendars"):
            found = self.client.principal().calendars()
        result = []
        for cal in found:
            url = str(cal.url)
            response = self.request(url, "PROPFIND", _SUPPORT, {**XML, "Depth": "0"})
            tree = response.tree
            comps = frozenset(
                e.get("name", "").upper()
                for e in (
                    tree.iterfind(".//c:supported-calendar-component-set/c:comp", NS)
                    if tree is not None
                    else ()
                )
            ) or frozenset({"VEVENT", "VTODO", "VJOURNAL"})  # absent: all (RFC 4791 5.2.3)
            sync = tree is not None and tree.find(".//d:report/d:sync-collection", NS) is not None
            with self.guard("reading a calendar name"):
                name = str(cal.get_display_name() or url.rstrip("/").rpartition("/")[2])
            result.append(Collection(url, name, comps, sync))
        return result

    # -- listing and fetching -------------------------------------------------

    def etags(self, url: str) -> dict[str, str]:
        """Every object in the collection: href → ETag (one PROPFIND, no data)."""
        response = self.request(url, "PROPFIND", _ETAGS, {**XML, "Depth": "1"})
        self.check(response, "listing")
        items: dict[str, str] = {}
        for item in self._items(response.tree):
            if not item.gone and item.href.rstrip("/") != _path(url).rstrip("/"):
                items[item.href] = item.etag
        return items

    def sync(self, url: str, token: str) -> tuple[list[Item], str] | None:
        """RFC 6578 changes since `token` ("" = everything); None if the token is refused."""
        body = _SYNC.format(token=_escape(token))
        try:
            response = self.request(url, "REPORT", body, {**XML, "Depth": "1"})
        except AuthError:
            if not token:
                raise
            return None  # 403 valid-sync-token: caldav reports every 403 as an auth error
        if response.status in (403, 409, 412) and token:
            return None
        self.check(response, "sync-collection")
        tree = response.tree
        new_token = (
            tree.findtext(".//d:sync-token", default="", namespaces=NS) if tree is not None else ""
        )
        return list(self._items(tree)), new_token

    def multiget(self, url: str, hrefs: Sequence[str]) -> list[Item]:
        found: list[Item] = []
        for start in range(0, len(hrefs), 100):
            chunk = hrefs[start : start + 100]
            body = _MULTIGET.format(hrefs="".join(f"<d:href>{_escape(h)}</d:href>" for h in chunk))
            response = self.request(url, "REPORT", body, {**XML, "Depth": "1"})
            self.check(response, "calendar-multiget")
            found.extend(i for i in self._items(response.tree) if not i.gone)
        return found

    def query(self, url: str, start: datetime, end: datetime) -> list[Item]:
        """The VEVENT objects with an occurrence overlapping [start, end)."""
        body = _QUERY.format(start=_stamp(start), end=_stamp(end))
        response = self.request(url, "REPORT", body, {**XML, "Depth": "1"})
        self.check(response, "calendar-query")
        return [i for i in self._items(response.tree) if not i.gone and i.data]

    def get(self, base: str, href: str) -> Item | None:
        response = self.request(self.absolute(base, href), "GET")
        if response.status in (404, 410):
            return None
        self.check(response, "GET", ok=(200,))
        return Item(href, response.headers.get("ETag", ""), response.raw)

    @staticmethod
    def _items(tree: Any) -> Iterator[Item]:
        if tree is None:
            return
        for node in tree.iterfind("d:response", NS):
            href = node.findtext("d:href", default="", namespaces=NS)
            status = node.findtext("d:status", default="", namespaces=NS)
            if " 404 " in status or " 410 " in status:
                yield Item(href, "", gone=True)
                continue
            etag = node.findtext(".//d:getetag", default="", namespaces=NS)
            data = node.findtext(".//c:calendar-data", default="", namespaces=NS)
            is_collection = node.find(".//d:resourcetype/d:collection", NS) is not None
            if href and not is_collection:
                yield Item(href, etag, data)


def _path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path
