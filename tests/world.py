"""A throwaway nurture configuration for pipeline tests: write config and rules, sync, read back.

Each connector's pipeline test says only which account to configure; the rest —
the user, the working hours, running a cycle, reading the ledger — is here once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from nurture.app import App
from nurture.apply import ApplyReport

USER = "alex@brightpath.example"
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class World:
    """A config.toml with `accounts` (TOML text) in `root`, state kept beside it."""

    def __init__(self, root: Path, accounts: str, rules: str = "") -> None:
        self.root = root
        (root / "rules").mkdir(exist_ok=True)
        (root / "rules" / "work.toml").write_text('[work]\ntimezone = "Europe/London"\n' + rules)
        (root / "config.toml").write_text(
            f'[user]\nname = "Alex Morgan"\naddresses = ["{USER}"]\n'
            f'[paths]\nstate = "state"\n' + accounts
        )

    def app(self) -> App:
        return App.load(self.root / "config.toml")

    def sync(self, now: datetime = NOW) -> ApplyReport:
        """One full cycle: every mail account, then the calendar."""
        app = self.app()
        try:
            done = app.sync_all(now)
        finally:
            app.close()
        assert done.calendar is not None and not done.problems, done.problems
        return done.calendar

    def ledger(self) -> dict[str, str]:
        """Suggestion key → ledger state."""
        app = self.app()
        try:
            return {k: e.state for k, e in app.state.ledger().items()}
        finally:
            app.close()


ASK_ID = "ask-1@client.example"


def ask_message(days_ago: float = 4) -> bytes:
    """Dana asks Alex a direct question `days_ago` days before NOW: a reply nudge once due."""
    from datetime import timedelta

    from tests.contract import make_message

    return make_message(
        message_id=ASK_ID,
        sender="Dana Lee <dana@client.example>",
        to=f"Alex Morgan <{USER}>",
        subject="Renewal pricing",
        body="Hi Alex,\n\nCould you send me the renewal pricing for next year?\n\nThanks,\nDana",
        date=NOW - timedelta(days=days_ago),
    )


def reply_message(to_message_id: str = ASK_ID) -> bytes:
    """Alex answers Dana's question an hour before NOW: the reply nudge resolves."""
    from datetime import timedelta

    from tests.contract import make_message

    return make_message(
        message_id="re-1@brightpath.example",
        sender=f"Alex Morgan <{USER}>",
        to="Dana Lee <dana@client.example>",
        subject="Re: Renewal pricing",
        body="Here it is.\n\nAlex",
        date=NOW - timedelta(hours=1),
        in_reply_to=to_message_id,
    )
