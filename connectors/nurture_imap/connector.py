"""The IMAP connector plugin: options, and the mail source built from them."""

from __future__ import annotations

from typing import ClassVar

from nurture.connector import Capability, Connector, MailSource, Option

from .connection import TLS_CHOICES, Settings, split_host
from .source import FolderConfig, ImapMailSource


class ImapConnector(Connector):
    """Mail over IMAP (Fastmail, iCloud, Nextcloud, Dovecot, Proton Bridge, ...)."""

    name: ClassVar[str] = "imap"
    summary: ClassVar[str] = "mail over IMAP (TLS; password command or XOAUTH2)"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.MAIL})
    options: ClassVar[tuple[Option, ...]] = (
        Option(
            "host",
            "IMAP server name, e.g. imap.fastmail.com (host:port for another port)",
            required=True,
            ask=True,
        ),
        Option("user", "login name, usually your mail address", required=True, ask=True),
        Option(
            "password",
            'app password; give password_command, e.g. "pass show mail/imap"',
            secret=True,
            ask=True,
        ),
        Option("port", "server port; 0 means 993 (IMAPS) or 143 (STARTTLS)", type=int, default=0),
        Option(
            "tls",
            "auto: IMAPS on 993, else STARTTLS (plain only to localhost); "
            "imaps; starttls; none: allow plain text (not recommended)",
            default="auto",
            choices=TLS_CHOICES,
        ),
        Option("ca_file", "CA bundle for a self-signed server certificate", default=""),
        Option(
            "auth",
            "password, or xoauth2 with oauth_token_command",
            default="password",
            choices=("password", "xoauth2"),
        ),
        Option(
            "oauth_token", "an OAuth2 access token (XOAUTH2); give oauth_token_command", secret=True
        ),
        Option("sent_folder", "the Sent folder, for servers without SPECIAL-USE", default=""),
        Option("archive_folder", "the Archive folder, for servers without SPECIAL-USE", default=""),
        Option(
            "folders",
            "extra folders to read besides Inbox, Sent and Archive",
            type=list,
            default=[],
        ),
    )

    _source: ImapMailSource | None = None

    def settings(self) -> Settings:
        host, port = split_host(str(self.option("host")), int(self.option("port") or 0))
        return Settings(
            account=self.context.account,
            host=host,
            port=port,
            user=str(self.option("user")),
            tls=str(self.option("tls")),
            ca_file=str(self.option("ca_file") or ""),
            auth=str(self.option("auth")),
        )

    def mail(self) -> MailSource:
        if self._source is None:
            extra = self.option("folders") or []
            self._source = ImapMailSource(
                self.settings(),
                self.context.secret,
                self.auth_command(),
                FolderConfig(
                    sent=str(self.option("sent_folder") or ""),
                    archive=str(self.option("archive_folder") or ""),
                    extra=tuple(str(f) for f in extra),
                ),
            )
        return self._source

    def interrupt(self) -> None:
        if self._source is not None:
            self._source.interrupt()

    def close(self) -> None:
        if self._source is not None:
            self._source.close()
            self._source = None
