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
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import imapclient
import imapclient.exceptions
from imapclient.imap4 import IMAP4WithTimeout
from imapclient.tls import IMAP4_TLS

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


Report = Callable[[socket.socket], None]


class _Plain(IMAP4WithTimeout):
    """imapclient's plain IMAP4, handing its socket to `report` before the greeting."""

    def __init__(self, host: str, port: int, timeout: float | None, report: Report) -> None:
        self._report = report
        super().__init__(host, port, timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        sock = super()._create_socket(timeout)
        self._report(sock)
        return sock


class _Tls(IMAP4_TLS):
    """imapclient's IMAPS, handing its TLS socket to `report` before the handshake."""

    def __init__(
        self, host: str, port: int, context: ssl.SSLContext, timeout: float | None, report: Report
    ) -> None:
        self._report = report
        super().__init__(host, port, context, timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        raw = socket.create_connection((self.host, self.port), timeout or self._timeout)
        assert self.ssl_context is not None
        sock = self.ssl_context.wrap_socket(
            raw, server_hostname=self.host, do_handshake_on_connect=False
        )
        self._report(sock)
        sock.do_handshake()
        return sock


class _Client(imapclient.IMAPClient):
    """An IMAPClient whose socket is known from the moment it exists, so that a server
    that trickles its greeting or its TLS handshake can be cut too (`interrupt`)."""

    def __init__(self, report: Report, **options: Any) -> None:
        self._report = report
        super().__init__(**options)

    def _create_IMAP4(self) -> imaplib.IMAP4:
        if self.ssl:
            return _Tls(self.host, self.port, self.ssl_context, TIMEOUT, self._report)
        return _Plain(self.host, self.port, TIMEOUT, self._report)


def interrupt(sock: socket.socket | None) -> None:
    """Shut `sock` down from another thread: a read blocked on it ends at once.

    The plain socket's shutdown is called even under TLS: `SSLSocket.shutdown` would
    also drop its TLS state under the reading thread's feet.
    """
    if sock is not None:
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def open_client(
    settings: Settings,
    secret: Callable[[str], str | None],
    auth_command: str,
    report: Report = lambda _sock: None,
) -> imapclient.IMAPClient:
    """A logged-in IMAPClient, or AuthError / TransientError / UserError.

    `report` is handed each socket the client reads from, as soon as it exists.
    """
    host, port = settings.host, settings.effective_port()
    plain_ok = settings.tls == "none" or is_loopback(host)
    where = f"{settings.user}@{host}:{port}"
    with translated(auth_command, f"connecting to {where}"):
        if settings.implicit_tls():
            client = _Client(
                report,
                host=host,
                port=port,
                ssl=True,
                ssl_context=_ssl_context(settings),
                timeout=TIMEOUT,
            )
        else:
            client = _Client(report, host=host, port=port, ssl=False, timeout=TIMEOUT)
            if settings.tls != "none" and client.has_capability("STARTTLS"):
                client.starttls(_ssl_context(settings))
                report(client.socket())  # the TLS socket that replaced the plain one
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
