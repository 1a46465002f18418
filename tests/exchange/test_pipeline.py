"""The whole pipeline with an Exchange Server account: mail in by EWS, tasks out as items."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("exchangelib")

import requests_mock  # noqa: E402
from nurture_exchange.mapi import KEY_NAME, PROPERTY_SET  # noqa: E402

import nurture.secrets  # noqa: E402
from tests.exchange.fake import ENDPOINT, FakeEWS  # noqa: E402
from tests.world import ASK_ID, NOW, USER, ask_message, reply_message  # noqa: E402
from tests.world import World as BaseWorld  # noqa: E402


class World(BaseWorld):
    """A config with one Exchange account, whose mailbox and calendar are the fake."""

    def __init__(self, root: Path, fake: FakeEWS) -> None:
        super().__init__(
            root,
            f'[accounts.work]\nconnector = "exchange"\nemail = "{USER}"\nusername = "alex"\n'
            f'server = "{ENDPOINT}"\nauth_type = "basic"\nbuild = "15.1.2507.6"\n'
            f'password_command = "echo secret"\n',
        )
        self.fake = fake

    def tasks(self) -> dict[str, Any]:
        return {
            item.ext[(PROPERTY_SET, KEY_NAME)]: item
            for item in self.fake.items.values()
            if (PROPERTY_SET, KEY_NAME) in item.ext
        }


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    fake = FakeEWS(username="alex", password="secret")
    monkeypatch.setattr(nurture.secrets, "real_keyring", lambda: None)
    with requests_mock.Mocker() as mock:
        mock.post(ENDPOINT, text=fake.handle)
        yield World(tmp_path, fake)


def calls_of(fake: FakeEWS, operation: str) -> list[Any]:
    return [c for c in fake.calls if c.operation == operation]


def ask(fake: FakeEWS, days_ago: float = 4) -> str:
    fake.deliver(ask_message(days_ago), "inbox")
    return ASK_ID


def test_a_question_becomes_a_free_tagged_event_and_goes_when_answered(world: World) -> None:
    fake = world.fake
    mid = ask(fake)
    assert world.sync().created == 1
    ((key, event),) = world.tasks().items()
    assert key == f"reply:{mid}"
    assert event.values["calendar:LegacyFreeBusyStatus"] == "Free"
    assert event.values["item:Categories"] == ["nurture"]
    assert "Dana" in event.values["item:Subject"]
    assert calls_of(fake, "CreateItem")[0].element.get("SendMeetingInvitations") == "SendToNone"

    before = len(fake.calls)
    again = world.sync()
    assert (again.created, again.updated, again.removed) == (0, 0, 0)
    # No change: one SyncFolderItems per folder, one CalendarView, one task look-up.
    assert fake.operations()[before:] == [
        "SyncFolderItems",
        "SyncFolderItems",
        "FindItem",
        "FindItem",
    ]

    fake.deliver(reply_message(mid), "sentitems")
    done = world.sync(NOW + timedelta(minutes=5))
    assert done.removed == 1
    assert world.tasks() == {}


def test_a_task_the_user_deletes_is_dismissed_for_good(world: World) -> None:
    fake = world.fake
    mid = ask(fake)
    world.sync()
    ((key, _),) = world.tasks().items()
    for iid, item in list(fake.items.items()):
        if item.ext.get((PROPERTY_SET, KEY_NAME)) == key:
            del fake.items[iid]
    world.sync(NOW + timedelta(minutes=5))
    world.sync(NOW + timedelta(minutes=10))
    assert world.tasks() == {}
    assert world.ledger()[f"reply:{mid}"] == "dismissed"
