"""The CalDAV connector plugin: options, and the calendar store built from them."""

from __future__ import annotations

import ipaddress
from typing import ClassVar
from urllib.parse import urlsplit

import caldav

from nurture.connector import CalendarStore, Capability, Connector, Option
from nurture.errors import AuthError, Problem, UserError
from nurture.ical import zone_named

from .dav import Dav
from .store import CalDavStore, Choice

TIMEOUT = 60


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class CalDavConnector(Connector):
    """Calendars over CalDAV (Fastmail, iCloud, Nextcloud, Radicale, ...)."""

    name: ClassVar[str] = "caldav"
    summary: ClassVar[str] = "calendars over CalDAV: busy time in, follow-up tasks out"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.CALENDAR, Capability.TODO}
    )
    options: ClassVar[tuple[Option, ...]] = (
        Option("url", "CalDAV server URL, e.g. https://caldav.fastmail.com/", required=True,
               ask=True),
        Option("user", "login name, usually your mail address", required=True, ask=True),
        Option("password", 'app password; give password_command, e.g. "pass show caldav"',
               secret=True, ask=True),
        Option("calendars", "calendars to read busy time from (names); empty: all", type=list,
               default=[], ask=True),
        Option("calendar", "the calendar nurture writes its tasks to (name); empty: the first",
               default="", ask=True),
        Option("tls", "auto: https required except to localhost; none: allow plain http",
               default="auto", choices=("auto", "none")),
        Option("ca_file", "CA bundle for a self-signed server certificate", default=""),
        Option("timezone", "zone for floating times in events (IANA name); empty: UTC",
               default=""),
    )  # fmt: skip

    _store: CalDavStore | None = None

    def _dav(self) -> Dav:
        url = str(self.option("url"))
        parts = urlsplit(url)
        if parts.scheme != "https" and not (
            self.option("tls") == "none" or is_loopback(parts.hostname or "")
        ):
            raise UserError(
                f"{url} is not https; nurture will not send a password in plain text",
                [Problem(f"[accounts.{self.context.account}] url", "plain http",
                         'use the https:// address, or set tls = "none" if you really mean it')],
            )  # fmt: skip
        password = self.context.secret("password")
        if not password:
            raise AuthError(f"no CalDAV password for {url}: set password_command",
                            command=self.auth_command())  # fmt: skip
        client = caldav.DAVClient(
            url,
            username=str(self.option("user")),
            password=password,
            timeout=TIMEOUT,
            ssl_verify_cert=str(self.option("ca_file") or "") or True,
        )
        return Dav(client, self.auth_command())

    def calendar(self) -> CalendarStore:
        if self._store is None:
            read = tuple(str(c) for c in (self.option("calendars") or []))
            self._store = CalDavStore(
                self._dav,
                Choice(write=str(self.option("calendar") or ""), read=read),
                zone_named(str(self.option("timezone") or "")),
            )
        return self._store

    def close(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            store.close()
