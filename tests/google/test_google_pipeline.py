"""The whole pipeline with a Google account: mail in from Gmail, tasks out to Google Calendar."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("googleapiclient")

import nurture_google  # noqa: E402
from nurture_google.gcal import KEY_PROPERTY  # noqa: E402

import nurture.secrets  # noqa: E402
from tests.world import NOW, USER  # noqa: E402
from tests.world import World as BaseWorld  # noqa: E402

from .conftest import CLIENT_ID, REFRESH_TOKEN  # noqa: E402
from .gfactories import raw_message  # noqa: E402
from .gfake import FakeGoogle  # noqa: E402


class World(BaseWorld):
    """A config with one Google account, whose Gmail and Calendar are the fake."""

    def __init__(self, root: Path, fake: FakeGoogle) -> None:
        super().__init__(
            root,
            f'[accounts.gmail]\nconnector = "google"\nclient_id = "{CLIENT_ID}"\n'
            f'client_secret_command = "echo shh"\n',
        )
        self.fake = fake
        nurture.secrets.Secrets("gmail", {}, root / "state").set("refresh_token", REFRESH_TOKEN)
        fake.grant(REFRESH_TOKEN, nurture_google.auth.scopes(True, True, False))

    def tasks(self) -> dict[str, dict[str, Any]]:
        return {
            e["extendedProperties"]["private"][KEY_PROPERTY]: e
            for e in self.fake.calendars["primary"].events.values()
            if KEY_PROPERTY in e.get("extendedProperties", {}).get("private", {})
            and e["status"] != "cancelled"
        }


@pytest.fixture
def world(
    fake: FakeGoogle, token_endpoint: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    monkeypatch.setattr(nurture.secrets, "real_keyring", lambda: None)
    monkeypatch.setattr(nurture_google.httplib2, "Http", lambda timeout=None: fake)
    yield World(tmp_path, fake)


def ask(fake: FakeGoogle, days_ago: float = 4) -> str:
    fake.deliver(
        raw_message(
            sender="Dana Lee <dana@client.example>",
            to=f"Alex Morgan <{USER}>",
            subject="Renewal pricing",
            body="Hi Alex,\n\nCould you send me the renewal pricing for next year?\n\nThanks,\n"
            "Dana",
            date=NOW - timedelta(days=days_ago),
            message_id="ask-1@client.example",
        )
    )
    return "ask-1@client.example"


def test_a_question_in_gmail_becomes_a_private_free_event_and_goes_when_answered(
    world: World, fake: FakeGoogle
) -> None:
    mid = ask(fake)
    assert world.sync().created == 1
    (event,) = world.tasks().values()
    assert event["extendedProperties"]["private"][KEY_PROPERTY] == f"reply:{mid}"
    assert event["visibility"] == "private" and event["transparency"] == "transparent"

    fake.reset_counts()
    again = world.sync()
    assert (again.created, again.updated, again.removed, again.unchanged) == (0, 0, 0, 1)
    assert fake.calls["gmail.users.history.list"] == 1
    assert fake.calls["calendar.events.list"] == 1
    assert fake.calls["calendar.events.insert"] == 0

    fake.deliver(
        raw_message(
            sender=f"Alex Morgan <{USER}>",
            to="dana@client.example",
            subject="Re: Renewal pricing",
            body="Here it is.\n\nAlex",
            date=NOW - timedelta(hours=1),
            in_reply_to=mid,
        ),
        {"SENT"},
    )
    assert world.sync().removed == 1
    assert world.tasks() == {}
    assert world.ledger()[f"reply:{mid}"] == "resolved"


def test_an_event_deleted_in_google_calendar_is_dismissed_for_good(
    world: World, fake: FakeGoogle
) -> None:
    mid = ask(fake)
    world.sync()
    (event,) = world.tasks().values()
    fake.cancel_event("primary", event["id"])
    report = world.sync()
    assert report.created == 0 and report.dismissed == 1
    assert world.ledger()[f"reply:{mid}"] == "dismissed"
    assert world.sync(NOW + timedelta(days=1)).created == 0
    assert world.tasks() == {}


def test_an_event_moved_in_google_calendar_keeps_the_users_time(
    world: World, fake: FakeGoogle
) -> None:
    ask(fake)
    world.sync()
    (event,) = world.tasks().values()
    moved = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    fake.move_event("primary", event["id"], moved, moved + timedelta(minutes=20))
    report = world.sync()
    assert report.created == 0 and report.removed == 0
    (after,) = world.tasks().values()
    assert after["start"]["dateTime"] == "2026-11-27T15:00:00Z"
