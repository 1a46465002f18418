"""Microsoft sign-in with MSAL: device-code and loopback flows, a cached token.

The MSAL token cache (refresh token included) is serialised and kept through
the secrets layer (`Context.store_secret("token_cache", ...)`), never in
config.toml or the cache folder. MSAL adds ``offline_access``, ``openid`` and
``profile`` itself and refuses them in a scope list, so `SCOPES` names only the
Graph permissions; the consent screen still shows offline access.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import msal

from nurture.connector import Context
from nurture.errors import AuthError, TransientError

log = logging.getLogger(__name__)

GRAPH_SCOPE = "https://graph.microsoft.com/"
SCOPES: tuple[str, ...] = (GRAPH_SCOPE + "Mail.Read", GRAPH_SCOPE + "Calendars.ReadWrite")
TODO_SCOPE = GRAPH_SCOPE + "Tasks.ReadWrite"
CACHE_SECRET = "token_cache"
# Renew an access token this long before it expires, so no request carries a dying one.
_EARLY = 300.0


class TokenSource:
    """Hands out Graph access tokens for one account, refreshing them as needed.

    The MSAL application is built lazily: building it fetches the authority's
    OpenID configuration, which a run that never talks to Graph should not pay.
    """

    def __init__(
        self,
        context: Context,
        client_id: str,
        *,
        tenant: str = "common",
        scopes: tuple[str, ...] = SCOPES,
        command: str = "",
        authority_host: str = "https://login.microsoftonline.com",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._context = context
        self._client_id = client_id
        self._authority = f"{authority_host.rstrip('/')}/{tenant}"
        self.scopes = scopes
        self._command = command
        self._clock = clock
        self._cache = msal.SerializableTokenCache()
        self._app: msal.PublicClientApplication | None = None
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def _application(self) -> msal.PublicClientApplication:
        if self._app is None:
            stored = self._context.secret(CACHE_SECRET)
            if stored:
                self._cache.deserialize(stored)
            try:
                self._app = msal.PublicClientApplication(
                    self._client_id, authority=self._authority, token_cache=self._cache
                )
            except ValueError as exc:  # a bad tenant or authority
                raise AuthError(
                    f"Microsoft sign-in is misconfigured: {exc}", self._command
                ) from exc
            except OSError as exc:
                raise TransientError(f"cannot reach Microsoft sign-in: {exc}") from exc
        return self._app

    def _save(self) -> None:
        if self._cache.has_state_changed:
            self._context.store_secret(CACHE_SECRET, self._cache.serialize())
            self._cache.has_state_changed = False

    def token(self, *, force_refresh: bool = False) -> str:
        """A valid access token; `force_refresh` after Graph refused the last one."""
        with self._lock:
            if not force_refresh and self._token and self._clock() < self._expires:
                return self._token
            app = self._application()
            accounts = app.get_accounts()
            if not accounts:
                raise AuthError("not signed in to Microsoft 365", self._command)
            try:
                result = app.acquire_token_silent_with_error(
                    list(self.scopes), account=accounts[0], force_refresh=force_refresh
                )
            except OSError as exc:
                raise TransientError(f"cannot reach Microsoft sign-in: {exc}") from exc
            self._save()
            return self._accept(result)

    def _accept(self, result: dict[str, Any] | None) -> str:
        if not result or "access_token" not in result:
            # No reason logged beyond the error code: descriptions can carry user names.
            code = (result or {}).get("error", "no token")
            if code in ("temporarily_unavailable", "service_unavailable"):
                raise TransientError(f"Microsoft sign-in unavailable ({code})")
            raise AuthError(f"Microsoft 365 sign-in expired or was revoked ({code})", self._command)
        self._token = str(result["access_token"])
        self._expires = self._clock() + max(0.0, float(result.get("expires_in", 3600)) - _EARLY)
        return self._token

    def sign_in_device_code(self, show: Callable[[str], None]) -> None:
        """Device-code flow: `show` the code and URL, wait for the user to finish."""
        app = self._application()
        flow = app.initiate_device_flow(scopes=list(self.scopes))
        if "user_code" not in flow:
            raise AuthError(
                f"Microsoft refused to start a device sign-in ({flow.get('error', '?')}); "
                "check client_id and that the app allows public client flows",
                self._command,
            )
        show(str(flow["message"]))
        result = app.acquire_token_by_device_flow(flow)
        with self._lock:
            self._accept(result)
            self._save()

    def sign_in_browser(self) -> None:
        """Interactive flow: a browser window and a loopback redirect to http://localhost."""
        app = self._application()
        result = app.acquire_token_interactive(scopes=list(self.scopes), prompt="select_account")
        with self._lock:
            self._accept(result)
            self._save()
