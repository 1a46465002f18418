"""Exchange Server mail and calendar over EWS (exchangelib).

For Exchange Server on premises (2016, 2019, Subscription Edition). Exchange
Online blocks EWS since 2026-10-01 unless a tenant admin allow-lists the app
and switches it off for good on 2027-04-01: Microsoft 365 mailboxes use the
``microsoft`` connector (Graph), which tags tasks with the same MAPI property.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

from nurture.connector import Capability, Connector, Context, Option

from .calendar import ExchangeCalendarStore
from .ews import Session, register_properties
from .mail import PAGE_SIZE, ExchangeMailSource

__all__ = ["ExchangeConnector"]


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
        Option(
            "username",
            "login name if not the address (DOMAIN\\user or UPN)",
            default="",
            ask=True,
        ),
        Option(
            "auth_type",
            "how to sign in: NTLM, basic over TLS, or oauth (a bearer token from your "
            "organisation's identity provider, for servers with modern auth)",
            default="ntlm",
            choices=("ntlm", "basic", "oauth"),
        ),
        Option("password", "the account's password (ntlm, basic)", secret=True, ask=True),
        Option(
            "access_token",
            "with auth_type = oauth: a command that prints a current bearer token "
            "(access_token_command); re-run every 30 minutes",
            secret=True,
        ),
        Option(
            "build",
            "server build (e.g. 15.2.1544.4) to skip the version probe on each start",
            default="",
        ),
        Option(
            "folders",
            'more mail folders to read besides Inbox and Sent Items, by name (e.g. ["Archive"])',
            type=list,
            default=[],
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
        self._session = Session(
            context.options,
            lambda: context.secret(
                "access_token" if context.options.get("auth_type") == "oauth" else "password"
            ),
            command=self.auth_command(),
            sleep=sleep or time.sleep,
        )

    def mail(self) -> ExchangeMailSource:
        page = min(512, int(self.context.options.get("page_size", PAGE_SIZE)))
        extra = tuple(self.context.options.get("folders", ()))
        return ExchangeMailSource(self._session, page, extra)

    def calendar(self) -> ExchangeCalendarStore:
        return ExchangeCalendarStore(self._session, self.context.cache_dir)

    def close(self) -> None:
        self._session.close()
