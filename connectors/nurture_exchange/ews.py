"""exchangelib plumbing: the account, nurture's extended properties, error mapping.

Errors from exchangelib become nurture's two kinds here, in one place:
refused credentials → `AuthError` naming the command that fixes them;
``ErrorServerBusy`` (with the server's ``BackOffMilliseconds``), timeouts and
network failures → a short wait and a retry, or `TransientError(retry_after)`
when the server asks for a long pause. exchangelib itself runs fail-fast so
that it never sleeps for minutes inside a sync.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

import requests
from exchangelib import (
    BASIC,
    DELEGATE,
    NTLM,
    OAUTH2,
    Account,
    Build,
    Configuration,
    Credentials,
    EWSTimeZone,
    FailFast,
    OAuth2AuthorizationCodeCredentials,
    Q,
    Version,
)
from exchangelib.errors import (
    AutoDiscoverFailed,
    ErrorAccessDenied,
    ErrorInternalServerTransientError,
    ErrorMailboxStoreUnavailable,
    ErrorServerBusy,
    ErrorTimeoutExpired,
    ErrorTooManyObjectsOpened,
    MalformedResponseError,
    ResponseMessageError,
    TransportError,
    UnauthorizedError,
)
from exchangelib.extended_properties import ExtendedProperty
from exchangelib.folders import (
    Calendar,
    Folder,
    FolderCollection,
    Inbox,
    MsgFolderRoot,
    Root,
    SentItems,
)
from exchangelib.items import CalendarItem
from oauthlib.oauth2 import OAuth2Token

from nurture.errors import AuthError, Problem, TransientError, UserError
from nurture.model import UTC

from .mapi import HASH_NAME, KEY_NAME, PROPERTY_SET

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_INLINE_WAIT = 30.0
RETRIES = 3


class NurtureKey(ExtendedProperty):
    """The suggestion key of a nurture task (the same MAPI property Graph writes)."""

    property_set_id = PROPERTY_SET
    property_name = KEY_NAME
    property_type = "String"


class NurtureHash(ExtendedProperty):
    """The content hash of what nurture last wrote, to tell the user's edits from ours."""

    property_set_id = PROPERTY_SET
    property_name = HASH_NAME
    property_type = "String"


_registered = False


def register_properties() -> None:
    """Teach exchangelib's CalendarItem our two properties (once, on first use)."""
    global _registered
    if not _registered:
        CalendarItem.register("nurture_key", NurtureKey)
        CalendarItem.register("nurture_hash", NurtureHash)
        _registered = True


def parse_build(text: str) -> Version:
    """ "15.1.2507.6" → the Version exchangelib would otherwise probe the server for."""
    parts = [int(p) for p in text.split(".")]
    return Version(Build(*[*parts, 0, 0, 0, 0][:4]))


# Re-read a bearer token this often; identity providers issue them for about an hour.
TOKEN_LIFE = 30 * 60


def connect(
    *,
    email: str,
    username: str,
    password: str,
    server: str,
    auth_type: str,
    build: str,
    command: str,
) -> Account:
    """An exchangelib Account; no request is made when server and build are given."""
    credentials: Any
    if auth_type == "oauth":  # `password` is a bearer token from the organisation's IdP
        credentials = OAuth2AuthorizationCodeCredentials(
            access_token=OAuth2Token({"access_token": password, "token_type": "Bearer"})
        )
    else:
        credentials = Credentials(username=username or email, password=password)
    # Work in UTC whatever the machine's zone (a systemd service may have none).
    utc = EWSTimeZone("UTC")
    version = parse_build(build) if build else None
    auth = {"ntlm": NTLM, "basic": BASIC, "oauth": OAUTH2}.get(auth_type, NTLM)
    try:
        if server:
            where = {"service_endpoint": server} if "/" in server else {"server": server}
            config = Configuration(
                credentials=credentials,
                auth_type=auth,
                version=version,
                retry_policy=FailFast(),
                **where,
            )
            return Account(
                email, config=config, autodiscover=False, access_type=DELEGATE, default_timezone=utc
            )
        if auth_type == "oauth":
            return Account(
                email,
                config=Configuration(credentials=credentials, auth_type=OAUTH2),
                autodiscover=True,
                access_type=DELEGATE,
                default_timezone=utc,
            )
        return Account(
            email,
            credentials=credentials,
            autodiscover=True,
            access_type=DELEGATE,
            default_timezone=utc,
        )
    except UnauthorizedError as exc:
        raise AuthError(f"Exchange refused the credentials for {email}", command) from exc
    except AutoDiscoverFailed as exc:
        raise UserError(
            f"autodiscover found no Exchange server for {email}",
            [Problem("server", "autodiscover failed", 'set server = "mail.example.com"')],
        ) from exc


def to_utc(value: datetime) -> datetime:
    """An exchangelib EWSDateTime as a plain aware datetime in UTC."""
    plain = datetime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        tzinfo=value.tzinfo,
    )
    return plain.astimezone(UTC)


class Folders:
    """The distinguished folders, addressed by name: no GetFolder round trips."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.root = Root(account=account)
        self.inbox = Inbox(root=self.root)
        self.sent = SentItems(root=self.root)
        self.calendar = Calendar(root=self.root)
        for folder in (self.inbox, self.sent, self.calendar):
            # Fixes the folder's DistinguishedFolderId now: exchangelib sets it on first
            # use, which changes the folder's hash inside its own paging bookkeeping.
            folder.to_id()

    def named(self, names: Sequence[str]) -> dict[str, Folder]:
        """The mail folders called `names` anywhere in the mailbox: one FindFolder.

        A name no folder has is a configuration error, reported with the names
        that were found.
        """
        if not names:
            return {}
        top = MsgFolderRoot(root=self.root)
        top.to_id()
        query = Q()
        for name in names:
            query |= Q(name=name)
        collection = FolderCollection(account=self.account, folders=[top])
        found: dict[str, Folder] = {}
        for folder in collection.find_folders(q=query, depth="Deep"):
            if isinstance(folder, Folder) and folder.name:
                found.setdefault(folder.name.casefold(), folder)
        missing = [n for n in names if n.casefold() not in found]
        if missing:
            raise UserError(
                f"no mail folder called {', '.join(repr(n) for n in missing)}",
                [
                    Problem(
                        "folders",
                        "no folder of that name in the mailbox",
                        "use the name Outlook shows",
                    )
                ],
            )
        return {name: found[name.casefold()] for name in names}


def guarded(
    call: Callable[[], T], *, command: str, sleep: Callable[[float], None] = time.sleep
) -> T:
    """Run one EWS call; map its failures to nurture's errors, retrying short waits."""
    attempt = 0
    while True:
        try:
            return call()
        except (UnauthorizedError, ErrorAccessDenied) as exc:
            raise AuthError("Exchange refused the credentials", command) from exc
        except ErrorServerBusy as exc:
            wait = float(exc.back_off or 2.0**attempt)
            attempt += 1
            if wait > MAX_INLINE_WAIT or attempt > RETRIES:
                raise TransientError("Exchange asked us to back off", wait) from exc
            log.info("Exchange is busy; retrying in %.1fs", wait)
            sleep(wait)
        except (
            ErrorInternalServerTransientError,
            ErrorMailboxStoreUnavailable,
            ErrorTimeoutExpired,
            ErrorTooManyObjectsOpened,
            MalformedResponseError,
        ) as exc:
            attempt += 1
            if attempt > RETRIES:
                raise TransientError(f"Exchange unavailable: {type(exc).__name__}") from exc
            sleep(min(2.0**attempt, MAX_INLINE_WAIT))
        except ResponseMessageError:
            raise  # an answer about the item (not found, conflict): the caller decides
        except (TransportError, requests.RequestException) as exc:
            attempt += 1
            if attempt > RETRIES:
                raise TransientError(f"Exchange unavailable: {type(exc).__name__}") from exc
            sleep(min(2.0**attempt, MAX_INLINE_WAIT))


class Session:
    """The EWS connection of one account, made on first use.

    Building a source or a store makes no request and needs no password, so
    the core can list accounts without touching the server.
    """

    def __init__(
        self,
        options: Mapping[str, Any],
        password: Callable[[], str | None],
        *,
        command: str,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._options = options
        self._password = password
        self.command = command
        self._sleep = sleep
        self._account: Account | None = None
        self._made = 0.0
        self._folders: Folders | None = None
        self._named: dict[str, Folder] | None = None

    def guard(self, call: Callable[[], T]) -> T:
        return guarded(call, command=self.command, sleep=self._sleep)

    @property
    def account(self) -> Account:
        oauth = str(self._options.get("auth_type", "ntlm")) == "oauth"
        if oauth and self._account is not None and time.monotonic() - self._made > TOKEN_LIFE:
            self._account = None  # bearer tokens expire: ask the token command again
        if self._account is None:
            secret = self._password()
            if not secret:
                what = "access token" if oauth else "password"
                raise AuthError(f"no {what} for this Exchange account", self.command)
            options = self._options
            self._account = self.guard(
                partial(
                    connect,
                    email=str(options["email"]),
                    username=str(options.get("username", "")),
                    password=secret,
                    server=str(options.get("server", "")),
                    auth_type=str(options.get("auth_type", "ntlm")),
                    build=str(options.get("build", "")),
                    command=self.command,
                )
            )
            self._made = time.monotonic()
        return self._account

    @property
    def folders(self) -> Folders:
        if self._folders is None:
            self._folders = Folders(self.account)
        return self._folders

    def named(self, names: Sequence[str]) -> dict[str, Folder]:
        """The user's extra mail folders, looked up once per process."""
        if self._named is None:
            folders = self.folders
            self._named = self.guard(partial(folders.named, names))
        return self._named

    def close(self) -> None:
        if self._account is not None:
            self._account.protocol.close()
            self._account = None
            self._folders = None
            self._named = None
