"""Opening an IMAP connection: TLS policy, login, and error translation.

TLS is the default: IMAPS on port 993, STARTTLS elsewhere, certificates
verified against the system store (or `ca_file`). Plain text is allowed only
to a loopback host, or when the user says ``tls = "none"`` explicitly.
"""

from __future__ import annotations

import contextlib
import imaplib
import ipaddress
import logging
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import imapclient
import imapclient.exceptions

from nurture.errors import AuthError, ConnectorError, Problem, TransientError, UserError

log = logging.getLogger(__name__)

TLS_CHOICES = ("auto", "imaps", "starttls", "none")
TIMEOUT = 60.0
RETRY_AFTER = 60.0


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def split_host(host: str, port: int) -> tuple[str, int]:
    """ "imap.example.com:1143" → ("imap.example.com", 1143); an explicit `port` wins."""
    name, sep, tail = host.strip().rpartition(":")
    if sep and tail.isdigit() and (not name.count(":") or name.endswith("]")):
        return name.strip("[]"), port or int(tail)
    return host.strip(), port


@dataclass(frozen=True, slots=True)
class Settings:
    """The connection settings of one account (no secrets)."""

    account: str
    host: str
    port: int
    user: str
    tls: str = "auto"
    ca_file: str = ""
    auth: str = "password"

    def implicit_tls(self) -> bool:
        return self.tls == "imaps" or (self.tls == "auto" and self.port in (0, 993))

    def effective_port(self) -> int:
        if self.port:
            return self.port
        return 993 if self.implicit_tls() else 143


def _ssl_context(settings: Settings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=settings.ca_file or None)


@contextlib.contextmanager
def translated(auth_command: str, what: str) -> Iterator[None]:
    """Turn imapclient/socket failures into nurture's errors.

    Network trouble and a dropped or aborted connection are transient (the
    core retries); a refused login is an `AuthError` naming the fix.
    """
    try:
        yield
    except imapclient.exceptions.LoginError as exc:
        raise AuthError(f"IMAP login refused ({what}): {_text(exc)}", command=auth_command) from exc
    except (
        imapclient.exceptions.IMAPClientAbortError,
        imaplib.IMAP4.abort,
        ssl.SSLError,
        OSError,
        EOFError,
    ) as exc:
        if isinstance(exc, ssl.SSLCertVerificationError):
            raise UserError(
                f"the IMAP server's certificate was not accepted ({what}): {exc}",
                [
                    Problem(
                        "config.toml",
                        "certificate verification failed",
                        "fix the host name, or set ca_file to your server's CA",
                    )
                ],
            ) from exc
        raise TransientError(f"IMAP connection trouble ({what}): {exc}", RETRY_AFTER) from exc
    except imapclient.exceptions.IMAPClientError as exc:
        raise ConnectorError(f"IMAP command failed ({what}): {_text(exc)}") from exc


def _text(exc: BaseException) -> str:
    text = str(exc)
    return text.replace("b'", "").replace("'", "") if text else type(exc).__name__


def open_client(
    settings: Settings, secret: Callable[[str], str | None], auth_command: str
) -> imapclient.IMAPClient:
    """A logged-in IMAPClient, or AuthError / TransientError / UserError."""
    host, port = settings.host, settings.effective_port()
    plain_ok = settings.tls == "none" or is_loopback(host)
    where = f"{settings.user}@{host}:{port}"
    with translated(auth_command, f"connecting to {where}"):
        if settings.implicit_tls():
            client = imapclient.IMAPClient(
                host, port=port, ssl=True, ssl_context=_ssl_context(settings), timeout=TIMEOUT
            )
        else:
            client = imapclient.IMAPClient(host, port=port, ssl=False, timeout=TIMEOUT)
            if settings.tls != "none" and client.has_capability("STARTTLS"):
                client.starttls(_ssl_context(settings))
            elif not plain_ok:
                client.shutdown()
                raise UserError(
                    f"{host} offers no TLS on port {port}; nurture will not send a password "
                    "in plain text",
                    [
                        Problem(
                            f"[accounts.{settings.account}]",
                            "no STARTTLS",
                            'use port 993, or set tls = "none" if you really mean it',
                        )
                    ],
                )
        client.normalise_times = False  # keep INTERNALDATE aware
    with translated(auth_command, f"logging in as {where}"):
        if settings.auth == "xoauth2":
            token = secret("oauth_token")
            if not token:
                raise AuthError(f"no OAuth token for {where}", command=auth_command)
            client.oauth2_login(settings.user, token)
        else:
            password = secret("password")
            if not password:
                raise AuthError(
                    f"no password for {where}: set password_command", command=auth_command
                )
            client.login(settings.user, password)
    log.debug("connected to %s", where)
    return client
