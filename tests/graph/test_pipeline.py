"""The whole pipeline with a Microsoft 365 account: mail in by delta, tasks out as events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("msal")

import httpx  # noqa: E402
import nurture_graph  # noqa: E402
import nurture_graph.client  # noqa: E402
from nurture_graph.mapi import KEY_PROPERTY  # noqa: E402

import nurture.secrets  # noqa: E402
from tests.graph.fake import FakeGraph  # noqa: E402
from tests.graph.test_contract import StaticTokens  # noqa: E402
from tests.world import ASK_ID, NOW, ask_message, reply_message  # noqa: E402
from tests.world import World as BaseWorld  # noqa: E402


class World(BaseWorld):
    """A config with one Microsoft 365 account, whose mailbox and calendar are the fake."""

    def __init__(self, root: Path, fake: FakeGraph) -> None:
        super().__init__(root, '[accounts.work]\nconnector = "microsoft"\nclient_id = "cid"\n')
        self.fake = fake

    def tasks(self) -> dict[str, Any]:
        return {
            value: stored
            for stored in self.fake.events.values()
            for pid, value in stored.props.items()
            if pid.lower() == KEY_PROPERTY.lower()
        }


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    fake = FakeGraph()
    plain = httpx.Client

    def client(**kwargs: Any) -> httpx.Client:
        return plain(**{**kwargs, "transport": fake.transport()})

    monkeypatch.setattr(nurture.secrets, "real_keyring", lambda: None)
    monkeypatch.setattr(nurture_graph.client.httpx, "Client", client)
    monkeypatch.setattr(nurture_graph, "TokenSource", lambda *a, **k: StaticTokens(fake))
    yield World(tmp_path, fake)


def ask(fake: FakeGraph, days_ago: float = 4) -> str:
    fake.add_message(ask_message(days_ago), "inbox")
    return ASK_ID


def test_a_question_becomes_a_free_tagged_event_and_goes_when_answered(world: World) -> None:
    fake = world.fake
    mid = ask(fake)
    assert world.sync().created == 1
    ((key, event),) = world.tasks().items()
    assert key == f"reply:{mid}"
    assert event.data["showAs"] == "free"
    assert event.data["categories"] == ["nurture"]
    assert "Dana" in event.data["subject"]

    before = len(fake.log)
    again = world.sync()
    assert (again.created, again.updated, again.removed) == (0, 0, 0)
    # No change: one delta per mail folder, one calendar delta, one task list.
    assert len(fake.log) - before == 4
    assert not [r for r in fake.log[before:] if r.method != "GET"]

    fake.add_message(reply_message(mid), "sentitems")
    done = world.sync(NOW + timedelta(minutes=5))
    assert done.removed == 1
    assert world.tasks() == {}


def test_a_task_the_user_deletes_is_dismissed_for_good(world: World) -> None:
    fake = world.fake
    mid = ask(fake)
    world.sync()
    ((key, _),) = world.tasks().items()
    for eid, stored in list(fake.events.items()):
        if key in stored.props.values():
            del fake.events[eid]
    world.sync(NOW + timedelta(minutes=5))
    world.sync(NOW + timedelta(minutes=10))
    assert world.tasks() == {}
    assert world.ledger()[f"reply:{mid}"] == "dismissed"
