"""Microsoft 365 mail and calendar over Microsoft Graph (msal + httpx).

For Exchange Online mailboxes. EWS is blocked in Exchange Online since
2026-10-01 unless a tenant admin allow-lists the app, and goes off for good on
2027-04-01, so Microsoft 365 needs this connector; Exchange Server on premises
keeps using ``nurture_exchange``. Both tag tasks with the same MAPI property.

Sign-in needs an app registration of the user's own (see the README): a public
client with delegated permissions Mail.Read and Calendars.ReadWrite.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

import click
import httpx

from nurture.connector import Capability, Connector, Context, Option
from nurture.errors import Problem, UserError

from .auth import SCOPES, TODO_SCOPE, TokenSource
from .calendar import GraphCalendarStore
from .client import GraphClient, Tokens
from .mail import GraphMailSource
from .todo import GraphTodoStore

__all__ = ["GraphConnector"]


class GraphConnector(Connector):
    """One Microsoft 365 mailbox: mail source and calendar store."""

    name: ClassVar[str] = "microsoft"
    summary: ClassVar[str] = "Microsoft 365 / Outlook.com mail and calendar (Microsoft Graph)"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.MAIL, Capability.CALENDAR}
    )
    options: ClassVar[tuple[Option, ...]] = (
        Option(
            "client_id",
            "Application (client) ID of your app registration in Microsoft Entra",
            required=True,
            ask=True,
        ),
        Option(
            "tenant",
            "directory (tenant) ID or domain; 'organizations' for any work account, "
            "'common' to allow personal accounts too",
            default="organizations",
            ask=True,
        ),
        Option(
            "sign_in",
            "how `nurture auth` signs in: a code to enter on another device, or a browser here",
            default="device-code",
            choices=("device-code", "browser"),
        ),
        Option(
            "folders",
            "more mail folders to read besides Inbox and Sent Items: top-level display names,"
            " or well-known names such as archive",
            type=list,
            default=[],
        ),
        Option(
            "todo",
            "put to-do tasks in Microsoft To Do (asks for the Tasks.ReadWrite permission)",
            type=bool,
            default=False,
        ),
        Option("todo_list", "the To Do list nurture uses (created if missing)", default="nurture"),
        Option("page_size", "messages or events per Graph page", type=int, default=200),
    )

    def __init__(
        self,
        context: Context,
        *,
        tokens: Tokens | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(context)
        options = context.options
        self._tokens = tokens
        self._transport = transport
        self._sleep = sleep
        self._client: GraphClient | None = None
        self._page_size = int(options.get("page_size", 200))

    def _token_source(self) -> TokenSource:
        client_id = self.context.options.get("client_id")
        if not client_id:
            raise UserError(
                "a Microsoft 365 account needs client_id",
                [
                    Problem(
                        f"[accounts.{self.context.account}]",
                        "client_id is missing",
                        "register an app (see the README) and set its Application ID",
                    )
                ],
            )
        return TokenSource(
            self.context,
            str(client_id),
            tenant=str(self.context.options.get("tenant", "organizations")),
            scopes=(*SCOPES, TODO_SCOPE) if self.context.options.get("todo") else SCOPES,
            command=self.auth_command(),
        )

    @property
    def client(self) -> GraphClient:
        if self._client is None:
            if self._tokens is None:
                self._tokens = self._token_source()
            self._client = GraphClient(
                self._tokens,
                command=self.auth_command(),
                transport=self._transport,
                sleep=self._sleep or time.sleep,
            )
        return self._client

    def mail(self) -> GraphMailSource:
        extra = tuple(self.context.options.get("folders", ()))
        return GraphMailSource(self.client, self._page_size, extra)

    def calendar(self) -> GraphCalendarStore:
        if self.context.options.get("todo"):
            name = str(self.context.options.get("todo_list", "nurture"))
            return GraphTodoStore(self.client, self.context.cache_dir, self._page_size, name)
        return GraphCalendarStore(self.client, self.context.cache_dir, self._page_size)

    def authorize(self, interactive: bool = True) -> None:
        """Sign in (device code or browser) and keep the token cache as a secret."""
        source = self._token_source()
        if not interactive:
            source.token()  # raises AuthError with the command when not signed in
            return
        if self.context.options.get("sign_in", "device-code") == "browser":
            source.sign_in_browser()
        else:
            source.sign_in_device_code(lambda message: click.echo(message, err=True))
        self._tokens = source

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
