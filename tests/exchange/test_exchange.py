"""EWS-specific behaviour: the SOAP we send, paging, throttling, auth, idempotence."""

from __future__ import annotations

import email.policy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("exchangelib")

import requests  # noqa: E402
import requests_mock  # noqa: E402
from lxml import etree  # noqa: E402
from nurture_exchange import ExchangeConnector  # noqa: E402
from nurture_exchange import mapi as ews_mapi  # noqa: E402

from nurture.bodies import TEXT_BUDGET  # noqa: E402
from nurture.connector import Context  # noqa: E402
from nurture.errors import (  # noqa: E402
    AuthError,
    CursorExpired,
    TaskConflict,
    TransientError,
    UserError,
)
from nurture.model import Body, FolderRole  # noqa: E402
from nurture.nlp.text import newest_text  # noqa: E402
from tests.contract import SINCE, drain, make_message, sample_task  # noqa: E402
from tests.exchange.fake import ENDPOINT, NS, FakeEWS  # noqa: E402
from tests.exchange.test_contract import exchange_connector  # noqa: E402

UTC = UTC
KEY_URI = f'PropertySetId="{ews_mapi.PROPERTY_SET}" PropertyName="NurtureKey"'


@pytest.fixture
def mock() -> Iterator[requests_mock.Mocker]:
    with requests_mock.Mocker() as m:
        yield m


@pytest.fixture
def fake(mock: requests_mock.Mocker) -> FakeEWS:
    server = FakeEWS()
    mock.post(ENDPOINT, text=server.handle)
    return server


def calls(fake: FakeEWS, operation: str) -> list[Any]:
    return [c for c in fake.calls if c.operation == operation]


def test_graph_and_exchange_share_the_task_property() -> None:
    graph_mapi = pytest.importorskip("nurture_graph.mapi")
    assert graph_mapi.PROPERTY_SET == ews_mapi.PROPERTY_SET
    assert graph_mapi.KEY_NAME == ews_mapi.KEY_NAME == "NurtureKey"
    assert graph_mapi.HASH_NAME == ews_mapi.HASH_NAME == "NurtureDigest"
    assert graph_mapi.CATEGORY == ews_mapi.CATEGORY == "nurture"
    assert f"String {{{ews_mapi.PROPERTY_SET}}} Name NurtureKey" == graph_mapi.KEY_PROPERTY


# -- mail --------------------------------------------------------------------


def test_sync_pages_are_checkpoints_and_fetch_only_needed_fields(
    fake: FakeEWS, tmp_path: Path
) -> None:
    for n in range(5):
        fake.deliver(make_message(message_id=f"m{n}@x.example"), "inbox")
    source = exchange_connector(tmp_path, page_size=2).mail()
    stream = source.changes(None, SINCE)
    first = next(stream)
    assert len(first.messages) == 2
    stream.close()  # type: ignore[attr-defined]  # a crash after the first checkpoint
    batches, _ = drain(source, first.cursor)
    rest = {m.message_id for b in batches for m in b.messages}
    assert len(rest) == 3 and not rest & {m.message_id for m in first.messages}

    sync = calls(fake, "SyncFolderItems")[0].element
    assert sync.findtext("m:MaxChangesReturned", namespaces=NS) == "2"
    assert sync.findtext("m:ItemShape/t:BaseShape", namespaces=NS) == "IdOnly"
    get = calls(fake, "GetItem")[0].text
    assert 'FieldURI="item:InternetMessageHeaders"' in get
    assert 'FieldURI="message:InternetMessageId"' in get
    assert "item:Body" not in get and "item:MimeContent" not in get


def test_no_change_sync_is_one_request_per_folder(fake: FakeEWS, tmp_path: Path) -> None:
    fake.deliver(make_message(message_id="a@x.example"), "inbox")
    source = exchange_connector(tmp_path).mail()
    _, cursor = drain(source, None)
    before = len(fake.calls)
    batches, _ = drain(source, cursor)
    assert not any(b.messages or b.deleted for b in batches)
    assert fake.operations()[before:] == ["SyncFolderItems", "SyncFolderItems"]


def test_mail_older_than_since_is_not_fetched(fake: FakeEWS, tmp_path: Path) -> None:
    old = datetime(2019, 5, 1, tzinfo=UTC)
    fake.deliver(make_message(message_id="old@x.example", date=old), "inbox")
    fake.deliver(make_message(message_id="new@x.example"), "inbox")
    batches, _ = drain(exchange_connector(tmp_path).mail(), None)
    assert {m.message_id for b in batches for m in b.messages} == {"new@x.example"}
    ids = calls(fake, "GetItem")[0].element.findall("m:ItemIds/t:ItemId", NS)
    assert len(ids) == 1


def test_headers_threading_and_link(fake: FakeEWS, tmp_path: Path) -> None:
    fake.deliver(
        make_message(message_id="n@list.example", headers={"Auto-Submitted": "auto-replied"}),
        "inbox",
    )
    fake.deliver(make_message(message_id="s@me.example", in_reply_to="n@list.example"), "sentitems")
    batches, _ = drain(exchange_connector(tmp_path).mail(), None)
    found = {m.message_id: m for b in batches for m in b.messages}
    assert found["n@list.example"].headers["auto-submitted"] == "auto-replied"
    assert found["n@list.example"].link.startswith("https://ex.example/owa/?ItemID=")
    assert found["s@me.example"].folder is FolderRole.SENT
    assert found["s@me.example"].in_reply_to == "n@list.example"


def test_refused_sync_state_is_cursor_expired(fake: FakeEWS, tmp_path: Path) -> None:
    fake.deliver(make_message(message_id="a@x.example"), "inbox")
    source = exchange_connector(tmp_path).mail()
    _, cursor = drain(source, None)
    fake.forget_states()
    with pytest.raises(CursorExpired):
        drain(source, cursor)


def _fields(call: Any) -> list[str]:
    return [f.get("FieldURI") for f in call.element.iter(f"{{{NS['t']}}}FieldURI")]


def test_bodies_are_text_without_the_attachments(fake: FakeEWS, tmp_path: Path) -> None:
    msg = message_from_bytes(
        make_message(message_id="b@x.example", body="Can we talk Friday?"),
        policy=email.policy.default,
    )
    assert isinstance(msg, EmailMessage)
    msg.add_attachment(b"%PDF" * 750_000, maintype="application", subtype="pdf", filename="q.pdf")
    fake.deliver(bytes(msg), "inbox")
    source = exchange_connector(tmp_path).mail()
    (message,) = [m for b in drain(source, None)[0] for m in b.messages]
    ((got, body),) = list(source.bodies([message.id]))
    assert got == message.id
    assert body == Body(text="Can we talk Friday?\n")
    get = calls(fake, "GetItem")[-1]
    assert _fields(get) == ["item:TextBody"]
    assert get.answered < 5_000 < 3_000_000 < len(bytes(msg))


def test_bodies_keep_at_most_the_text_budget(fake: FakeEWS, tmp_path: Path) -> None:
    lines = [f"Line {n} of the long report." for n in range(TEXT_BUDGET // 10)]
    fake.deliver(make_message(message_id="l@x.example", body="\n".join(lines)), "inbox")
    source = exchange_connector(tmp_path).mail()
    (message,) = [m for b in drain(source, None)[0] for m in b.messages]
    ((_, body),) = list(source.bodies([message.id]))
    assert body.text is not None and len(body.text) == TEXT_BUDGET
    assert body.text.startswith("Line 0 of the long report.\nLine 1 ")


def test_exchange_2010_reads_the_body_and_converts_its_html(tmp_path: Path) -> None:
    fake = FakeEWS(version="2010")
    msg = message_from_bytes(
        make_message(message_id="h@x.example", body="Can we talk Friday?"),
        policy=email.policy.default,
    )
    assert isinstance(msg, EmailMessage)
    msg.add_alternative(
        "<html><body><p>Can we talk Friday?</p><p>On Mon, 2 Nov 2026, Dana Lee wrote:</p>"
        '<blockquote type="cite"><p>Is the budget final?</p></blockquote></body></html>',
        subtype="html",
    )
    msg.add_attachment(b"%PDF" * 1_000, maintype="application", subtype="pdf", filename="q.pdf")
    with requests_mock.Mocker() as mock:
        mock.post(ENDPOINT, text=fake.handle)
        fake.deliver(bytes(msg), "inbox")
        source = exchange_connector(tmp_path, build="14.3.123.4").mail()
        (message,) = [m for b in drain(source, None)[0] for m in b.messages]
        ((_, body),) = list(source.bodies([message.id]))
    get = calls(fake, "GetItem")[-1]
    assert "Exchange2010_SP2" in get.text
    assert _fields(get) == ["item:Body"]
    assert body.raw is None and body.text is None and "<blockquote" in (body.html or "")
    assert newest_text(body) == "Can we talk Friday?"


# -- throttling and auth -----------------------------------------------------


def test_server_busy_backs_off_as_told_then_retries(fake: FakeEWS, tmp_path: Path) -> None:
    fake.deliver(make_message(message_id="a@x.example"), "inbox")
    fake.inject_busy("SyncFolderItems", back_off_ms=2500)
    waits: list[float] = []
    context = Context(
        account="office",
        options=dict(_options()),
        cache_dir=tmp_path,
        secret={"password": "secret"}.get,
    )
    source = ExchangeConnector(context, sleep=waits.append).mail()
    batches, _ = drain(source, None)
    assert waits == [2.5]
    assert any(b.messages for b in batches)


def test_long_back_off_goes_back_to_the_core(fake: FakeEWS, tmp_path: Path) -> None:
    fake.inject_busy("SyncFolderItems", back_off_ms=300_000)
    with pytest.raises(TransientError) as caught:
        drain(exchange_connector(tmp_path).mail(), None)
    assert caught.value.retry_after == 300.0


def test_wrong_password_is_an_auth_error_naming_the_command(fake: FakeEWS, tmp_path: Path) -> None:
    context = Context(
        account="office",
        options=dict(_options()),
        cache_dir=tmp_path,
        secret={"password": "wrong"}.get,
    )
    with pytest.raises(AuthError) as caught:
        drain(ExchangeConnector(context).mail(), None)
    assert caught.value.command == "nurture auth exchange office"
    assert fake.calls == []  # refused before any operation reached the server


def test_missing_password_is_an_auth_error_at_first_use(tmp_path: Path) -> None:
    context = Context(account="office", options=dict(_options()), cache_dir=tmp_path)
    connector = ExchangeConnector(context)
    source, store = connector.mail(), connector.calendar()  # listing accounts needs no server
    with pytest.raises(AuthError) as caught:
        drain(source, None)
    assert caught.value.command == "nurture auth exchange office"
    with pytest.raises(AuthError):
        store.tasks()


def test_oauth_sends_the_bearer_token_and_refuses_a_stale_one(
    fake: FakeEWS, tmp_path: Path
) -> None:
    fake.deliver(make_message(message_id="oauth@x.example"), "inbox")
    tokens = iter(["token-1", "expired"])
    options = {**_options(), "auth_type": "oauth"}
    context = Context(
        account="office",
        options=options,
        cache_dir=tmp_path,
        secret=lambda name: next(tokens) if name == "access_token" else None,
    )
    batches, _ = drain(ExchangeConnector(context).mail(), None)
    assert "oauth@x.example" in {m.message_id for b in batches for m in b.messages}
    assert fake.calls and fake.calls[0].operation
    with pytest.raises(AuthError) as caught:  # a new session reads the token command again
        drain(ExchangeConnector(context).mail(), None)
    assert caught.value.command == "nurture auth exchange office"


def _options() -> dict[str, Any]:
    return {
        "email": "alex@brightpath.example",
        "username": "alex",
        "server": ENDPOINT,
        "auth_type": "basic",
        "build": "15.1.2507.6",
    }


# -- calendar ----------------------------------------------------------------


def test_task_is_created_silently_with_the_extended_property(fake: FakeEWS, tmp_path: Path) -> None:
    store = exchange_connector(tmp_path).calendar()
    task = sample_task()
    store.create_task(task)
    (create,) = calls(fake, "CreateItem")
    assert create.element.get("SendMeetingInvitations") == "SendToNone"
    assert f'<t:ExtendedFieldURI {KEY_URI} PropertyType="String"/>' in create.text
    item = create.element.find("m:Items/t:CalendarItem", NS)
    assert item.findtext("t:LegacyFreeBusyStatus", namespaces=NS) == "Free"
    assert item.findtext("t:Categories/t:String", namespaces=NS) == "nurture"
    assert item.findtext("t:UID", namespaces=NS) == task.uid
    assert item.find("t:RequiredAttendees", NS) is None
    # Idempotence costs one look-up by key before the CreateItem.
    (find,) = calls(fake, "FindItem")
    exists = find.element.find("m:Restriction/t:IsEqualTo/t:ExtendedFieldURI", NS)
    assert exists.get("PropertyName") == "NurtureKey"
    assert exists.get("PropertySetId") == ews_mapi.PROPERTY_SET


def test_tasks_are_listed_by_the_property_exists_restriction(fake: FakeEWS, tmp_path: Path) -> None:
    store = exchange_connector(tmp_path).calendar()
    store.create_task(sample_task())
    before = len(fake.calls)
    assert [r.key for r in store.tasks()] == [sample_task().key]
    assert fake.operations()[before:] == ["FindItem"]
    restriction = fake.calls[-1].element.find("m:Restriction/t:Exists/t:ExtendedFieldURI", NS)
    assert restriction is not None and restriction.get("PropertyName") == "NurtureKey"


def test_update_never_overwrites_a_user_edit(fake: FakeEWS, tmp_path: Path) -> None:
    store = exchange_connector(tmp_path).calendar()
    record = store.create_task(sample_task())
    updated = store.update_task(sample_task(hour=12), record)
    (update,) = calls(fake, "UpdateItem")
    assert update.element.get("ConflictResolution") == "NeverOverwrite"
    assert update.element.get("SendMeetingInvitationsOrCancellations") == "SendToNone"
    with pytest.raises(TaskConflict):
        store.update_task(sample_task(hour=14), record)  # the old change key
    store.update_task(sample_task(hour=15), updated)
    (back,) = store.tasks()
    assert back.start.hour == 15


def test_retry_after_a_lost_create_response_makes_one_item(
    mock: requests_mock.Mocker, fake: FakeEWS, tmp_path: Path
) -> None:
    lost = {"left": 1}

    def flaky(request: Any, context: Any) -> str:
        answer = fake.handle(request, context)
        if fake.calls[-1].operation == "CreateItem" and lost["left"]:
            lost["left"] -= 1
            raise requests.ConnectionError("connection reset after the server acted")
        return answer

    mock.post(ENDPOINT, text=flaky)
    store = exchange_connector(tmp_path).calendar()
    record = store.create_task(sample_task())
    assert len(calls(fake, "CreateItem")) == 1
    assert [r.key for r in store.tasks()] == [record.key]
    assert sum(1 for i in fake.items.values() if i.kind == "CalendarItem") == 1


def test_calendar_read_with_no_changes_is_one_request(fake: FakeEWS, tmp_path: Path) -> None:
    start = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
    fake.add_event(
        "meet@example",
        "Review",
        start,
        start + timedelta(hours=1),
        attendees=("dana@client.example",),
    )
    fake.add_event(
        "solo@example", "Focus", start + timedelta(days=1), start + timedelta(days=1, hours=2)
    )
    window = (start - timedelta(days=1), start + timedelta(days=7))
    first = list(exchange_connector(tmp_path).calendar().events(*window))
    assert fake.operations() == ["FindItem", "GetItem"]  # attendees of the one meeting
    assert len(calls(fake, "GetItem")[0].element.findall("m:ItemIds/t:ItemId", NS)) == 1
    view = calls(fake, "FindItem")[0].element.find("m:CalendarView", NS)
    assert view.get("StartDate").startswith("2026-11-01T14:00:00")
    before = len(fake.calls)
    again = list(exchange_connector(tmp_path).calendar().events(*window))
    assert again == first
    assert fake.operations()[before:] == ["FindItem"]
    meeting = next(e for e in first if e.uid == "meet@example")
    assert [a.email for a in meeting.attendees] == ["dana@client.example"]


def test_soap_requests_are_well_formed_ews(fake: FakeEWS, tmp_path: Path) -> None:
    store = exchange_connector(tmp_path).calendar()
    store.create_task(sample_task())
    for call in fake.calls:
        root = etree.fromstring(call.text.encode())
        version = root.find("s:Header/t:RequestServerVersion", NS)
        assert version is not None and version.get("Version") == "Exchange2016"


def test_folders_the_user_names_are_synced_too(fake: FakeEWS, tmp_path: Path) -> None:
    archive = fake.add_folder("Archive")
    clients = fake.add_folder("Clients")
    fake.add_folder("Newsletters")
    fake.deliver(make_message(message_id="a@x.example"), archive)
    fake.deliver(make_message(message_id="c@x.example"), clients)
    source = exchange_connector(tmp_path, folders=["Archive", "Clients"]).mail()
    batches, cursor = drain(source, None)
    found = {m.message_id: m.folder for b in batches for m in b.messages}
    assert found == {"a@x.example": FolderRole.ARCHIVE, "c@x.example": FolderRole.OTHER}
    assert fake.operations().count("FindFolder") == 1
    before = len(fake.calls)
    drain(source, cursor)
    assert fake.operations()[before:] == ["SyncFolderItems"] * 4  # no second look-up


def test_a_folder_name_that_does_not_exist_is_a_user_error(fake: FakeEWS, tmp_path: Path) -> None:
    fake.add_folder("Archive")
    source = exchange_connector(tmp_path, folders=["Archiv"]).mail()
    with pytest.raises(UserError) as caught:
        drain(source, None)
    assert "Archiv" in str(caught.value)


def test_registered_by_entry_point_and_options_validate() -> None:
    from nurture import connector as registry

    cls = registry.load("exchange")
    assert cls is ExchangeConnector
    good = {"email": "a@b.example", "server": "mail.b.example", "password_command": "pass x"}
    assert cls.validate("office", good, "config.toml") == []
    problems = cls.validate("office", {"email": "a@b.example", "password": "x"}, "config.toml")
    assert [p.what for p in problems] == ["secrets do not belong in config.toml"]
    assert [o.name for o in cls.options if o.ask] == ["email", "server", "username", "password"]
