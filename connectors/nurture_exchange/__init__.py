"""Exchange Server mail and calendar over EWS (exchangelib).

For Exchange Server on premises (2016, 2019, Subscription Edition). Exchange
Online blocks EWS since 2026-10-01 unless a tenant admin allow-lists the app
and switches it off for good on 2027-04-01: Microsoft 365 mailboxes use the
``microsoft`` connector (Graph), which tags tasks with the same MAPI property.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import ClassVar, TypeVar

import click
from exchangelib import Account

from nurture.connector import Capability, Connector, Context, Option
from nurture.errors import AuthError
from nurture.model import UTC

from .calendar import ExchangeCalendarStore
from .ews import Folders, connect, guarded, register_properties
from .mail import PAGE_SIZE, ExchangeMailSource

__all__ = ["ExchangeConnector"]

T = TypeVar("T")


class ExchangeConnector(Connector):
    """One Exchange Server mailbox: mail source and calendar store."""

    name: ClassVar[str] = "exchange"
    summary: ClassVar[str] = "Exchange Server on premises (EWS)"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.MAIL, Capability.CALENDAR}
    )
    options: ClassVar[tuple[Option, ...]] = (
        Option("email", "the mailbox's primary SMTP address", required=True, ask=True),
        Option(
            "server",
            "EWS host (mail.example.com) or full URL (https://mail.example.com/EWS/Exchange.asmx);"
            " empty: autodiscover",
            default="",
            ask=True,
        ),
        Option("username", "login name if not the address (DOMAIN\\user or UPN)", default=""),
        Option(
            "auth_type",
            "how the server wants the password: NTLM, or basic over TLS",
            default="ntlm",
            choices=("ntlm", "basic"),
        ),
        Option("password", "the account's password", secret=True),
        Option(
            "build",
            "server build (e.g. 15.2.1544.4) to skip the version probe on each start",
            default="",
        ),
        Option(
            "page_size",
            "changes per SyncFolderItems page (at most 512)",
            type=int,
            default=PAGE_SIZE,
        ),
    )

    def __init__(self, context: Context, *, sleep: Callable[[float], None] | None = None) -> None:
        super().__init__(context)
        register_properties()
        self._sleep = sleep or time.sleep
        self._account: Account | None = None
        self._folders: Folders | None = None

    def _guard(self, call: Callable[[], T]) -> T:
        return guarded(call, command=self.auth_command(), sleep=self._sleep)

    def _connect(self, password: str | None = None) -> tuple[Account, Folders]:
        if self._account is None or self._folders is None:
            options = self.context.options
            password = password or self.context.secret("password")
            if not password:
                raise AuthError(
                    f"no password for Exchange account {self.context.account}", self.auth_command()
                )
            self._account = self._guard(
                lambda: connect(
                    email=str(options["email"]),
                    username=str(options.get("username", "")),
                    password=str(password),
                    server=str(options.get("server", "")),
                    auth_type=str(options.get("auth_type", "ntlm")),
                    build=str(options.get("build", "")),
                    command=self.auth_command(),
                )
            )
            self._folders = Folders(self._account)
        return self._account, self._folders

    def mail(self) -> ExchangeMailSource:
        account, folders = self._connect()
        page = min(512, int(self.context.options.get("page_size", PAGE_SIZE)))
        return ExchangeMailSource(account, folders, self._guard, page)

    def calendar(self) -> ExchangeCalendarStore:
        account, folders = self._connect()
        return ExchangeCalendarStore(account, folders, self._guard, self.context.cache_dir)

    def authorize(self, interactive: bool = True) -> None:
        """Ask for the password (unless a password command is set), check it, keep it.

        The check is one CalendarView over the next minute: cheap, and it needs
        the same rights nurture needs.
        """
        password: str | None = None
        if interactive and not self.context.options.get("password_command"):
            password = str(
                click.prompt(
                    f"Password for {self.context.options.get('email')}",
                    hide_input=True,
                    err=True,
                )
            )
        self._account = None
        start = datetime.now(UTC)
        account, folders = self._connect(password)
        store = ExchangeCalendarStore(account, folders, self._guard, self.context.cache_dir)
        list(store.events(start, start + timedelta(minutes=1)))
        if password:
            self.context.store_secret("password", password)

    def close(self) -> None:
        if self._account is not None:
            self._account.protocol.close()
            self._account = None
