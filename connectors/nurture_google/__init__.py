"""Gmail and Google Calendar, through google-api-python-client.

Mail is read with ``gmail.readonly`` (bodies are needed for the NLP; nothing
here can send, modify or delete mail). Tasks go to the primary calendar
(``calendar.events.owned``) or to a dedicated "nurture" calendar the connector
creates (``calendar.app.created``: it then sees the user's other calendars as
busy time only). ``nurture auth google ACCOUNT`` signs in once; the refresh
token is kept by the secrets layer.
"""

from __future__ import annotations

import getpass
import logging
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httplib2
import requests
from googleapiclient.discovery import build

from nurture.connector import Capability, Connector, Context, Option
from nurture.errors import AuthError, Problem, UserError

from . import auth
from .calls import Caller, Missing
from .gcal import GoogleCalendar, Mirror, Window
from .gmail import GmailSource

__all__ = ["GoogleConnector"]

log = logging.getLogger(__name__)

DEDICATED_SUMMARY = "nurture"
HTTP_TIMEOUT = 60


class GoogleConnector(Connector):
    """One Google account: Gmail in, Google Calendar in and out."""

    name: ClassVar[str] = "google"
    summary: ClassVar[str] = "Gmail and Google Calendar (OAuth, read-only mail)"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.MAIL, Capability.CALENDAR}
    )
    options: ClassVar[tuple[Option, ...]] = (
        Option(
            "client_id",
            "OAuth client id of your Desktop app (Google Cloud console)",
            required=True,
            ask=True,
        ),
        Option("client_secret", "OAuth client secret of that Desktop app", secret=True, ask=True),
        Option(
            "calendar",
            "where tasks go: your primary calendar, or a dedicated 'nurture' "
            "calendar (narrower permission; your calendars are then read as busy time only)",
            default="primary",
            choices=("primary", "nurture"),
            ask=True,
        ),
        Option(
            "window_months", "how many months of mail the first sync reads", type=int, default=12
        ),
        Option(
            "read_calendars",
            "other calendar ids read as busy time (free/busy)",
            type=list,
            default=[],
        ),
        Option("mail", "read mail from this account", type=bool, default=True),
        Option("calendar_enabled", "use this account's calendar", type=bool, default=True),
        Option(
            "auth_port",
            "loopback port for `nurture auth` (0: any; 8749 over SSH)",
            type=int,
            default=0,
        ),
    )

    def __init__(
        self,
        context: Context,
        *,
        http: Any = None,
        session: requests.Session | None = None,
        caller: Caller | None = None,
        clock: Callable[[], datetime] | None = None,
        fresh_for: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """The keyword arguments exist for tests and the bench.

        `fresh_for` is how many seconds a calendar read stays current: one
        sync cycle reads events and tasks from a single ``events.list``. Our
        own writes update the mirror at once; a user edit made in between is
        caught by the conditional update (412) and by the next cycle.
        """
        super().__init__(context)
        self._base_http = http
        self._session = session
        self.caller = caller or Caller()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._fresh_for = fresh_for
        self._monotonic = monotonic
        self._authed: auth.AuthorizedHttp | None = None
        self._services: dict[str, Any] = {}
        # The core asks for mail() and calendar() many times per cycle; one
        # instance each keeps the calendar mirror's freshness (one events.list).
        self._source: GmailSource | None = None
        self._store: GoogleCalendar | None = None

    # -- options ----------------------------------------------------------

    @property
    def dedicated(self) -> bool:
        return bool(self.option("calendar") == "nurture")

    def scopes(self) -> list[str]:
        return auth.scopes(
            bool(self.option("mail")), bool(self.option("calendar_enabled")), self.dedicated
        )

    # -- clients ----------------------------------------------------------

    def _http(self) -> auth.AuthorizedHttp:
        if self._authed is None:
            refresh_token = self.context.secret("refresh_token")
            if not refresh_token:
                raise AuthError(
                    f"Google account {self.context.account!r} is not signed in",
                    command=self.auth_command(),
                )
            creds = auth.credentials(
                self.option("client_id"),
                self.context.secret("client_secret"),
                refresh_token,
                self.scopes(),
            )
            base = self._base_http or httplib2.Http(timeout=HTTP_TIMEOUT)
            self._authed = auth.AuthorizedHttp(creds, base, self.auth_command(), self._session)
            self.caller.reauthorize = self._authed.refresh
            self.caller.auth_command = self.auth_command()
        return self._authed

    def service(self, api: str) -> Any:
        """The API client for ``gmail`` or ``calendar``, built from the shipped discovery."""
        if api not in self._services:
            version = {"gmail": "v1", "calendar": "v3"}[api]
            self._services[api] = build(
                api, version, http=self._http(), static_discovery=True, cache_discovery=False
            )
        return self._services[api]

    def mail(self) -> GmailSource | None:
        if not self.option("mail"):
            return None
        if self._source is None:
            self._source = self._build_mail()
        return self._source

    def _build_mail(self) -> GmailSource:
        months = int(self.option("window_months"))
        return GmailSource(
            self.service("gmail"),
            self.caller,
            self.context.progress,
            earliest=lambda: self._clock() - timedelta(days=30 * months),
            checkpoints=self.context.cache_dir,
        )

    def calendar(self) -> GoogleCalendar | None:
        if not self.option("calendar_enabled"):
            return None
        if self._store is None:
            self._store = self._build_calendar()
        return self._store

    def _build_calendar(self) -> GoogleCalendar:
        service = self.service("calendar")
        window = Window(back=timedelta(days=30 * int(self.option("window_months"))))
        cache = self.context.cache_dir
        busy = list(self.option("read_calendars"))
        if self.dedicated:
            calendar_id = self._dedicated_calendar(service)
            tasks = Mirror(
                service,
                self.caller,
                calendar_id,
                cache / "calendar-nurture.json",
                window,
                self._clock,
            )
            return GoogleCalendar(
                service,
                self.caller,
                tasks,
                None,
                ["primary", *busy],
                self._fresh_for,
                self._monotonic,
            )
        primary = Mirror(
            service, self.caller, "primary", cache / "calendar-primary.json", window, self._clock
        )
        return GoogleCalendar(
            service, self.caller, primary, primary, busy, self._fresh_for, self._monotonic
        )

    def _dedicated_calendar(self, service: Any) -> str:
        """The id of the calendar nurture created, creating it the first time."""
        path = self.context.cache_dir / "calendar-id"
        if path.exists():
            calendar_id = path.read_text().strip()
            try:
                self.caller.execute(service.calendars().get(calendarId=calendar_id))
                return calendar_id
            except Missing:
                log.warning("the dedicated nurture calendar was deleted; creating it again")
        created = self.caller.execute(
            service.calendars().insert(
                body={
                    "summary": DEDICATED_SUMMARY,
                    "description": "Follow-up tasks from nurture. Move one to snooze it, delete it "
                    "to dismiss it.",
                }
            )
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(created["id"])
        return str(created["id"])

    # -- sign-in ----------------------------------------------------------

    def authorize(self, interactive: bool = True) -> None:
        """Run the installed-app flow and keep the refresh token in the secrets layer."""
        client_secret = self.context.secret("client_secret")
        if not client_secret and interactive and sys.stdin.isatty():
            # Asked once and kept by the secrets layer, like the refresh token.
            client_secret = getpass.getpass("Client secret of your Google OAuth client: ")
            if client_secret.strip():
                client_secret = client_secret.strip()
                self.context.store_secret("client_secret", client_secret)
        if not client_secret:
            raise UserError(
                "the Google connector needs the OAuth client secret",
                [
                    Problem(
                        f"[accounts.{self.context.account}]",
                        "no client_secret found",
                        'set client_secret_command = "..." (e.g. pass google/nurture) '
                        "or store it with the secrets layer",
                    )
                ],
            )
        if not interactive:
            raise UserError("signing in to Google needs a browser; run this interactively")
        token = auth.run_flow(
            self.option("client_id"),
            client_secret,
            self.scopes(),
            int(self.option("auth_port")),
            lambda text: print(text, file=sys.stderr),
        )
        self.context.store_secret("refresh_token", token)
        self.close()

    def close(self) -> None:
        self._source = self._store = None
        self._services.clear()
        self._authed = None
