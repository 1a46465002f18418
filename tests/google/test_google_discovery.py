"""The schema check itself: a typo in what we send (or in what the fake answers) fails."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("googleapiclient")

from googleapiclient.errors import HttpError  # noqa: E402

from .conftest import make_connector  # noqa: E402
from .gdiscovery import discovery  # noqa: E402
from .gfake import FakeGoogle  # noqa: E402


def test_a_misspelt_body_field_sent_by_the_real_client_is_caught(
    fake: FakeGoogle, token_endpoint: Any, tmp_path: Any
) -> None:
    service = make_connector(fake, tmp_path).service("calendar")
    body = {
        "summary": "x",
        "start": {"dateTime": "2026-11-24T10:00:00Z"},
        "end": {"dateTime": "2026-11-24T10:20:00Z"},
        "visiblity": "private",
        "reminders": {"overrides": [{"method": "popop", "minutes": 10}]},
    }
    with pytest.raises(HttpError) as caught:
        service.events().insert(calendarId="primary", body=body).execute()
    assert caught.value.resp.status == 400
    assert fake.violations == [
        "calendar.events.insert body: unknown field 'visiblity'",
        "calendar.events.insert body.reminders.overrides[0].method: 'popop' is not one of "
        "['email', 'popup']",
    ]
    fake.violations.clear()


def test_required_query_parameters_types_and_repeats() -> None:
    doc = discovery("gmail.v1")
    match = doc.match("GET", "/gmail/v1/users/me/messages")
    assert match is not None and match.method_id == "gmail.users.messages.list"
    assert doc.validate(match, {"maxResults": ["500"], "includeSpamTrash": ["true"]}, None) == []
    assert doc.validate(
        match, {"maxResults": ["many"], "includeSpamTrash": ["yes"], "q": ["a", "b"]}, None
    ) == [
        "gmail.users.messages.list?maxResults: expected an integer, got 'many'",
        "gmail.users.messages.list?includeSpamTrash: expected true/false, got 'yes'",
        "gmail.users.messages.list: q given 2 times",
    ]
    history = doc.match("GET", "/gmail/v1/users/me/history")
    assert history is not None
    assert doc.validate(history, {}, None) == [
        "gmail.users.history.list: missing required parameter 'startHistoryId'"
    ]


def test_required_body_fields_and_timestamps() -> None:
    doc = discovery("calendar.v3")
    match = doc.match("POST", "/calendar/v3/freeBusy")
    assert match is not None
    assert doc.validate(match, {}, {"timeMin": "2026-11-24", "items": []}) == [
        "calendar.freebusy.query body.timeMin: not an RFC 3339 timestamp: '2026-11-24'",
        "calendar.freebusy.query: body lacks required field 'timeMax'",
    ]


def test_the_fakes_answers_are_checked_against_the_response_schema() -> None:
    doc = discovery("gmail.v1")
    match = doc.match("GET", "/gmail/v1/users/me/history")
    assert match is not None
    good = {"history": [{"id": "9", "messagesAdded": [{"message": {"id": "a"}}]}], "historyId": "9"}
    assert doc.validate_response(match, good) == []
    assert doc.validate_response(match, {**good, "next_page_token": "x"}) == [
        "gmail.users.history.list response: unknown field 'next_page_token'"
    ]
