"""A throwaway nurture setup on a local Maildir and vdir, for the core tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.world import NOW, USER, World

_seq = itertools.count()


class Setup(World):
    """A config, a Maildir (INBOX + .Sent), a vdir, and helpers to act as the world."""

    def __init__(self, root: Path, rules: str = "") -> None:
        self.maildir = root / "mail"
        self.calendar = root / "calendar"
        for folder in (self.maildir, self.maildir / ".Sent"):
            for sub in ("cur", "new", "tmp"):
                (folder / sub).mkdir(parents=True, exist_ok=True)
        self.calendar.mkdir()
        super().__init__(
            root,
            '[accounts.mail]\nconnector = "local"\nmaildir = "mail"\n'
            '[accounts.cal]\nconnector = "local"\ncalendar = "calendar"\n',
            rules,
        )

    def mail(
        self,
        *,
        sender: str,
        to: str,
        subject: str,
        body: str,
        date: datetime,
        cc: str = "",
        reply_to: str = "",
        headers: dict[str, str] | None = None,
        sent: bool = False,
        message_id: str = "",
    ) -> str:
        """Put one message in the Maildir (`sent`: in .Sent); its Message-ID (made up
        unless given)."""
        n = next(_seq)
        mid = message_id or f"m{n}@test.example"
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = to
        if cc:
            msg["Cc"] = cc
        msg["Subject"] = subject
        msg["Date"] = format_datetime(date)
        msg["Message-ID"] = f"<{mid}>"
        if reply_to:
            msg["In-Reply-To"] = f"<{reply_to}>"
            msg["References"] = f"<{reply_to}>"
        for k, v in (headers or {}).items():
            msg[k] = v
        msg.set_content(body)
        folder = self.maildir / ".Sent" if sent else self.maildir
        name = f"{int(date.timestamp())}.M{n}P1.test"
        (folder / "new" / name).write_bytes(bytes(msg))
        return mid

    def ask(
        self,
        who: str = "Dana Lee <dana@client.example>",
        days_ago: float = 3,
        subject: str = "Renewal pricing",
    ) -> str:
        return self.mail(
            sender=who,
            to=f"Alex Morgan <{USER}>",
            subject=subject,
            body=(
                "Hi Alex,\n\nCould you send me the renewal pricing for next year?"
                "\n\nThanks,\nDana"
            ),
            date=NOW - timedelta(days=days_ago),
        )

    def reply(self, to_mid: str, to: str = "dana@client.example", days_ago: float = 1) -> str:
        return self.mail(
            sender=f"Alex Morgan <{USER}>",
            to=to,
            subject="Re: Renewal pricing",
            body="Here it is, attached.\n\nAlex",
            date=NOW - timedelta(days=days_ago),
            reply_to=to_mid,
            sent=True,
        )


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    yield Setup(tmp_path)
