"""OAuth for the Google connector: scopes, the installed-app flow, silent refresh.

The refresh token lives in the secrets layer (``context.store_secret``), never
in config.toml. Access tokens live in memory only. Tokens are refreshed over
``requests`` (google-auth's own transport); API calls go over httplib2, which
google-api-python-client needs. A refused refresh token (``invalid_grant``:
revoked, or expired after 7 days because the OAuth app is still in "Testing")
becomes `AuthError` naming the command that fixes it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

import google.auth.exceptions
import google.auth.transport.requests
import requests
from google.oauth2.credentials import Credentials

from nurture.errors import AuthError, Problem, TransientError, UserError

log = logging.getLogger(__name__)

TOKEN_URI = "https://oauth2.googleapis.com/token"
AUTH_URI = "https://accounts.google.com/o/oauth2/auth"

GMAIL_READONLY = "https://www.googleapis.com/auth/gmail.readonly"
CALENDAR_OWNED = "https://www.googleapis.com/auth/calendar.events.owned"
CALENDAR_APP_CREATED = "https://www.googleapis.com/auth/calendar.app.created"
CALENDAR_FREEBUSY = "https://www.googleapis.com/auth/calendar.freebusy"

# A fixed loopback port over SSH, so the user can forward it (`ssh -L`).
SSH_PORT = 8749


def scopes(mail: bool, calendar: bool, dedicated: bool) -> list[str]:
    """The narrowest scopes for what the account does.

    Nothing here can send, modify or delete mail. With a dedicated calendar
    the connector only writes to a calendar it created (`calendar.app.created`)
    and sees the user's own calendars as busy time only (`calendar.freebusy`).
    """
    wanted: list[str] = []
    if mail:
        wanted.append(GMAIL_READONLY)
    if calendar:
        wanted.append(CALENDAR_APP_CREATED if dedicated else CALENDAR_OWNED)
        wanted.append(CALENDAR_FREEBUSY)
    return wanted


def credentials(
    client_id: str, client_secret: str | None, refresh_token: str, scope_list: Sequence[str]
) -> Credentials:
    """Credentials that can refresh themselves; no access token yet."""
    return Credentials(
        token=None,
        refresh_token=refresh_token,
        token_uri=TOKEN_URI,
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(scope_list),
    )


class AuthorizedHttp:
    """An httplib2-compatible object that adds a fresh bearer token to each request.

    Deliberately has no ``credentials`` attribute: google-api-python-client
    would otherwise refresh tokens itself, over a transport we do not control.
    """

    def __init__(
        self, creds: Credentials, http: Any, command: str, session: requests.Session | None = None
    ) -> None:
        self._creds = creds
        self._http = http
        self._command = command
        self._session = session or requests.Session()

    def refresh(self) -> None:
        """Get a new access token; map Google's refusal to `AuthError`."""
        try:
            self._creds.refresh(google.auth.transport.requests.Request(self._session))
        except google.auth.exceptions.RefreshError as error:
            if any(
                code in str(error)
                for code in (
                    "invalid_grant",
                    "invalid_client",
                    "invalid_scope",
                    "unauthorized_client",
                )
            ):
                raise AuthError(
                    "Google refused the stored sign-in (revoked, or expired: apps left in "
                    "'Testing' lose their tokens after 7 days)",
                    command=self._command,
                ) from error
            raise TransientError(f"cannot refresh the Google token: {error}") from error
        except google.auth.exceptions.TransportError as error:
            raise TransientError(f"cannot reach Google's token endpoint: {error}") from error

    def request(
        self,
        uri: str,
        method: str = "GET",
        body: Any = None,
        headers: dict[str, str] | None = None,
        redirections: int = 5,
        connection_type: Any = None,
    ) -> tuple[Any, bytes]:
        if not self._creds.valid:
            self.refresh()
        for attempt in (0, 1):
            sent = dict(headers or {})
            self._creds.apply(sent)
            resp, content = self._http.request(
                uri,
                method,
                body=body,
                headers=sent,
                redirections=redirections,
                connection_type=connection_type,
            )
            if resp.status != 401 or attempt:
                return resp, content
            self.refresh()
        return resp, content


def run_flow(
    client_id: str,
    client_secret: str,
    scope_list: Sequence[str],
    port: int,
    say: Callable[[str], None],
) -> str:
    """Run the installed-app flow with a loopback redirect; return the refresh token.

    Over SSH no browser can open here, so the URL is printed and the fixed
    loopback port must be forwarded from the machine with the browser.
    """
    from google_auth_oauthlib.flow import InstalledAppFlow

    config = {
        "installed": {
            "client_id": client_id,
            "client_secret": client_secret,
            "auth_uri": AUTH_URI,
            "token_uri": TOKEN_URI,
            "redirect_uris": ["http://localhost"],
        }
    }
    flow = InstalledAppFlow.from_client_config(config, scopes=list(scope_list))
    remote = bool(os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"))
    if remote:
        port = port or SSH_PORT
        say(
            f"You are connected over SSH. On the machine with your browser run\n"
            f"    ssh -N -L {port}:localhost:{port} <this host>\n"
            f"then open the URL below there; Google redirects to localhost:{port}, which\n"
            f"the tunnel brings back here."
        )
    prompt = "Open this URL to let nurture read your mail and calendar:\n\n    {url}\n"
    # Google lets the user untick scopes; oauthlib would then fail with a bare
    # "Scope has changed" warning. Relax that and say precisely what is missing.
    relaxed = os.environ.get("OAUTHLIB_RELAX_TOKEN_SCOPE")
    os.environ["OAUTHLIB_RELAX_TOKEN_SCOPE"] = "1"
    try:
        result = _run(flow, port, remote, prompt)
    finally:
        if relaxed is None:
            os.environ.pop("OAUTHLIB_RELAX_TOKEN_SCOPE", None)
    granted = getattr(result, "granted_scopes", None) or list(scope_list)
    if isinstance(granted, str):
        granted = granted.split()
    missing = [s for s in scope_list if s not in set(granted)]
    if missing:
        raise UserError(
            "Google granted only part of what nurture needs",
            [
                Problem(
                    "sign-in",
                    f"not granted: {s.rsplit('/', 1)[-1]}",
                    "run the command again and leave every box ticked",
                )
                for s in missing
            ],
        )
    token = getattr(result, "refresh_token", None)
    if not token:
        raise AuthError("Google returned no refresh token; try again")
    return str(token)


def _run(flow: Any, port: int, remote: bool, prompt: str) -> Any:
    return flow.run_local_server(
        host="localhost",
        port=port,
        open_browser=not remote,
        authorization_prompt_message=prompt,
        success_message="nurture is signed in; you can close this tab.",
        access_type="offline",
        prompt="consent",
    )
