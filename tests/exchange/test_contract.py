"""The Exchange (EWS) connector against the shared contract suite, on the fake EWS."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
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
    ) -> None:
        self.fake.add_event(uid, summary, start, end, attendees, rrule)

    def _find(self, uid: str) -> str:
        for iid, item in self.fake.items.items():
            key = item.ext.get(KEY)
            if item.values.get("calendar:UID") == uid or (key and task_uid(key) == uid):
                return iid
        raise KeyError(uid)

    def foreign_digest(self) -> dict[str, str]:
        return {
            str(item.values["calendar:UID"]): hashlib.sha256(
                json.dumps(
                    [item.values, item.rrule, item.version], default=str, sort_keys=True
                ).encode()
            ).hexdigest()
            for item in self.fake.items.values()
            if item.kind == "CalendarItem" and KEY not in item.ext
        }

    def user_delete(self, uid: str) -> None:
        del self.fake.items[self._find(uid)]

    def user_move(self, uid: str, start: datetime, end: datetime) -> None:
        self.fake.touch(self._find(uid), **{"calendar:Start": start, "calendar:End": end})

    def user_complete(self, uid: str) -> None:
        raise NotImplementedError("tasks are calendar items, not EWS Tasks")


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
