"""The Exchange (EWS) connector against the shared contract suite, on the fake EWS."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("exchangelib")

import requests_mock  # noqa: E402
from nurture_exchange import ExchangeConnector  # noqa: E402
from nurture_exchange.mapi import KEY_NAME, PROPERTY_SET  # noqa: E402

from nurture.connector import Context, task_uid  # noqa: E402
from nurture.model import FolderRole  # noqa: E402
from tests.contract import CalendarStoreContract, MailSourceContract  # noqa: E402
from tests.exchange.fake import ENDPOINT, FakeEWS  # noqa: E402

KEY = (PROPERTY_SET, KEY_NAME)


def exchange_connector(cache: Path, **options: Any) -> ExchangeConnector:
    secrets = {"password": "secret"}
    context = Context(
        account="office",
        options={
            "email": "alex@brightpath.example",
            "username": "alex",
            "server": ENDPOINT,
            "auth_type": "basic",
            "build": "15.1.2507.6",
            **options,
        },
        cache_dir=cache,
        secret=secrets.get,
    )
    return ExchangeConnector(context, sleep=lambda _s: None)


class ExchangeMailHarness:
    def __init__(self, fake: FakeEWS, cache: Path) -> None:
        self.fake = fake
        self.cache = cache

    def connector(self) -> ExchangeConnector:
        return exchange_connector(self.cache, page_size=2)

    def deliver(self, raw: bytes, role: FolderRole = FolderRole.INBOX) -> None:
        self.fake.deliver(raw, "sentitems" if role is FolderRole.SENT else "inbox")

    def remove(self, message_id: str) -> None:
        self.fake.remove(message_id)


class ExchangeCalendarHarness:
    def __init__(self, fake: FakeEWS, cache: Path) -> None:
        self.fake = fake
        self.cache = cache

    def connector(self) -> ExchangeConnector:
        return exchange_connector(self.cache)

    def add_foreign_event(
        self,
        uid: str,
        summary: str,
        start: datetime,
        end: datetime,
        attendees: tuple[str, ...] = (),
        rrule: str | None = None,
        marker: str | None = None,
    ) -> None:
        iid = self.fake.add_event(uid, summary, start, end, attendees, rrule)
        if marker:  # a meeting request that arrived carrying nurture's named property
            self.fake.items[iid].ext[KEY] = marker
            self.fake.items[iid].values["calendar:Organizer"] = ("Mallory", "mallory@else.example")

    def _find(self, uid: str) -> str:
        for iid, item in self.fake.items.items():
            if item.values.get("calendar:UID") == uid:
                return iid
        raise KeyError(uid)

    @staticmethod
    def _ours(item: Any) -> bool:
        key = item.ext.get(KEY)
        return bool(key) and item.values.get("calendar:UID") == task_uid(key)

    def foreign_digest(self) -> dict[str, str]:
        return {
            str(item.values["calendar:UID"]): hashlib.sha256(
                json.dumps(
                    [item.values, item.rrule, item.version], default=str, sort_keys=True
                ).encode()
            ).hexdigest()
            for item in self.fake.items.values()
            if item.kind == "CalendarItem" and not self._ours(item)
        }

    def user_delete(self, uid: str) -> None:
        del self.fake.items[self._find(uid)]

    def user_move(self, uid: str, start: datetime, end: datetime) -> None:
        self.fake.touch(self._find(uid), **{"calendar:Start": start, "calendar:End": end})

    def user_complete(self, uid: str) -> None:
        raise NotImplementedError("tasks are calendar items, not EWS Tasks")

    def user_duplicate(self, uid: str) -> str:
        """Outlook's copy of an appointment: a new item and UID, the same properties."""
        original = self.fake.items[self._find(uid)]
        new_uid = f"copy-of-{uid}"
        iid = self.fake.add_event(new_uid, "copy", datetime(2026, 1, 1, tzinfo=UTC),
                                  datetime(2026, 1, 1, tzinfo=UTC))  # fmt: skip
        copy = self.fake.items[iid]
        copy.values = {**original.values, "calendar:UID": new_uid}
        copy.ext = dict(original.ext)
        return iid

    def exists(self, iid: str) -> bool:
        return iid in self.fake.items

    def add_broken_task(self, key: str) -> None:
        """A task of nurture's that lost its start (as an odd sync client can leave it)."""
        iid = self.fake.add_event(task_uid(key), "Reply to Dana — edited",
                                  datetime(2026, 11, 30, 10, tzinfo=UTC),
                                  datetime(2026, 11, 30, 11, tzinfo=UTC))  # fmt: skip
        item = self.fake.items[iid]
        item.ext[KEY] = key
        del item.values["calendar:Start"]


@pytest.fixture
def fake() -> Iterator[FakeEWS]:
    server = FakeEWS()
    with requests_mock.Mocker() as mock:
        mock.post(ENDPOINT, text=server.handle)
        yield server


@pytest.fixture
def mail_harness(fake: FakeEWS, tmp_path: Path) -> ExchangeMailHarness:
    return ExchangeMailHarness(fake, tmp_path / "cache")


@pytest.fixture
def calendar_harness(fake: FakeEWS, tmp_path: Path) -> ExchangeCalendarHarness:
    return ExchangeCalendarHarness(fake, tmp_path / "cache")


class TestExchangeMail(MailSourceContract):
    pass


class TestExchangeCalendar(CalendarStoreContract):
    pass
