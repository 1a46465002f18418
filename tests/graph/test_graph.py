"""Graph-specific behaviour beyond the contract: requests sent, paging, throttling, auth."""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

pytest.importorskip("msal")

import requests_mock  # noqa: E402
from nurture_graph import GraphConnector  # noqa: E402
from nurture_graph.auth import CACHE_SECRET, TokenSource  # noqa: E402
from nurture_graph.client import MAX_CONCURRENT, GraphClient  # noqa: E402
from nurture_graph.mapi import KEY_PROPERTY, PROPERTY_SET  # noqa: E402

from nurture.connector import Context, task_uid  # noqa: E402
from nurture.errors import (  # noqa: E402
    AuthError,
    CursorExpired,
    TaskConflict,
    TaskGone,
    TransientError,
    UserError,
)
from nurture.model import FolderRole  # noqa: E402
from tests.contract import SINCE, drain, make_message, sample_task  # noqa: E402
from tests.graph.fake import FakeGraph  # noqa: E402
from tests.graph.test_contract import StaticTokens, graph_connector  # noqa: E402

UTC = UTC


@pytest.fixture
def fake() -> FakeGraph:
    return FakeGraph()


def query(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(urlsplit(str(request.url)).query)


def deliver(fake: FakeGraph, n: int, folder: str = "inbox", **kw: Any) -> None:
    for i in range(n):
        fake.add_message(make_message(message_id=f"m{i}-{folder}@x.example", **kw), folder)


# -- mail --------------------------------------------------------------------


def test_first_sync_asks_only_for_needed_fields_in_big_pages(
    fake: FakeGraph, tmp_path: Path
) -> None:
    deliver(fake, 3)
    source = graph_connector(fake, tmp_path, page_size=50).mail()
    drain(source, None)
    first = fake.log[0]
    q = query(first)
    assert urlsplit(str(first.url)).path == "/v1.0/me/mailFolders/inbox/messages/delta"
    assert "body" not in q["$select"][0].split(",")
    assert "internetMessageId" in q["$select"][0].split(",")
    assert q["$filter"] == ["receivedDateTime ge 2020-01-01T00:00:00Z"]
    assert "String 0x007D" in q["$expand"][0]
    prefer = first.headers["Prefer"]
    assert "odata.maxpagesize=50" in prefer
    assert 'IdType="ImmutableId"' in prefer
    assert len(fake.log) == 2  # one page per folder


def test_every_page_is_a_checkpoint_and_resumes(fake: FakeGraph, tmp_path: Path) -> None:
    deliver(fake, 5)
    source = graph_connector(fake, tmp_path, page_size=2).mail()
    stream = source.changes(None, SINCE)
    first = next(stream)
    assert len(first.messages) == 2
    stream.close()  # type: ignore[attr-defined]  # a crash after the first checkpoint
    batches, cursor = drain(source, first.cursor)
    seen = {m.message_id for b in batches for m in b.messages}
    assert seen == {f"m{i}-inbox@x.example" for i in range(5)} - {
        m.message_id for m in first.messages
    }
    # A no-change sync is one request per folder.
    before = len(fake.log)
    batches, _ = drain(source, cursor)
    assert not any(b.messages or b.deleted for b in batches)
    assert len(fake.log) - before == 2


def test_forgotten_delta_state_is_cursor_expired(fake: FakeGraph, tmp_path: Path) -> None:
    deliver(fake, 1)
    source = graph_connector(fake, tmp_path).mail()
    _, cursor = drain(source, None)
    fake.expire_tokens()
    with pytest.raises(CursorExpired):
        drain(source, cursor)


def test_headers_and_threading_come_from_mapi_properties(fake: FakeGraph, tmp_path: Path) -> None:
    fake.add_message(
        make_message(
            message_id="n@list.example",
            headers={"Auto-Submitted": "auto-generated", "List-Unsubscribe": "<mailto:u@x>"},
        ),
        "inbox",
    )
    fake.add_message(
        make_message(message_id="s@me.example", in_reply_to="n@list.example"), "sentitems"
    )
    batches, _ = drain(graph_connector(fake, tmp_path).mail(), None)
    found = {m.message_id: m for b in batches for m in b.messages}
    inbound, sent = found["n@list.example"], found["s@me.example"]
    assert inbound.headers["auto-submitted"] == "auto-generated"
    assert inbound.headers["list-unsubscribe"] == "<mailto:u@x>"
    assert inbound.link.startswith("https://outlook.office365.com/owa/")
    assert sent.folder is FolderRole.SENT
    assert sent.in_reply_to == "n@list.example"
    assert sent.references == ("n@list.example",)


def test_bodies_come_in_batches_of_twenty(fake: FakeGraph, tmp_path: Path) -> None:
    deliver(fake, 25, body="Could you call me?")
    source = graph_connector(fake, tmp_path, page_size=100).mail()
    ids = [m.id for b in drain(source, None)[0] for m in b.messages]
    before = len(fake.log)
    bodies = dict(source.bodies(ids))
    assert set(bodies) == set(ids)
    assert all("Could you call me?" in (b.text or "") for b in bodies.values())
    assert len(fake.log) - before == 2
    assert all(r.url.path == "/v1.0/$batch" for r in fake.log[before:])


# -- throttling, errors, concurrency -----------------------------------------


def test_throttled_request_waits_as_told_and_retries(fake: FakeGraph, tmp_path: Path) -> None:
    deliver(fake, 1)
    waits: list[float] = []
    fake.inject(429, retry_after="7", match="inbox")
    context = Context(account="work", options={"client_id": "c"}, cache_dir=tmp_path)
    connector = GraphConnector(
        context, tokens=StaticTokens(fake), transport=fake.transport(), sleep=waits.append
    )
    batches, _ = drain(connector.mail(), None)
    assert waits == [7.0]
    assert any(b.messages for b in batches)


def test_long_throttling_goes_back_to_the_core(fake: FakeGraph, tmp_path: Path) -> None:
    fake.inject(503, retry_after="120")
    with pytest.raises(TransientError) as caught:
        drain(graph_connector(fake, tmp_path).mail(), None)
    assert caught.value.retry_after == 120.0


def test_unauthorised_refreshes_once_then_stops_with_the_command(
    fake: FakeGraph, tmp_path: Path
) -> None:
    tokens = StaticTokens(fake)
    client = GraphClient(tokens, command="nurture auth microsoft work", transport=fake.transport())
    fake.valid_tokens = {"access-0"}  # the token refreshed to is refused too
    with pytest.raises(AuthError) as caught:
        client.get("/me/events")
    assert tokens.refreshes == 1
    assert caught.value.command == "nurture auth microsoft work"
    assert "access-0" not in fake.log[-1].headers["Authorization"]


def test_at_most_four_requests_in_flight(fake: FakeGraph, tmp_path: Path) -> None:
    client = GraphClient(StaticTokens(fake), transport=fake.transport())
    full = threading.Event()

    def hold() -> None:
        if fake.in_flight >= MAX_CONCURRENT:
            full.set()
        full.wait(timeout=2)

    fake.hold = hold
    threads = [threading.Thread(target=client.get, args=("/me/events",)) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fake.max_in_flight == MAX_CONCURRENT
    assert len(fake.log) == 10


# -- calendar ----------------------------------------------------------------


def test_task_is_tagged_with_the_shared_mapi_property(fake: FakeGraph, tmp_path: Path) -> None:
    store = graph_connector(fake, tmp_path).calendar()
    task = sample_task()
    store.create_task(task)
    post = next(r for r in fake.log if r.method == "POST")
    body = json.loads(post.content)
    assert body["transactionId"] == task.uid
    assert {"id": f"String {{{PROPERTY_SET}}} Name NurtureKey", "value": task.key} in body[
        "singleValueExtendedProperties"
    ]
    assert body["categories"] == ["nurture"]
    assert body["showAs"] == "free"
    assert "attendees" not in body  # nobody is ever invited


def test_retry_after_a_lost_response_creates_no_second_event(
    fake: FakeGraph, tmp_path: Path
) -> None:
    lost = {"left": 1}

    def handler(request: httpx.Request) -> httpx.Response:
        response = fake.handle(request)
        if request.method == "POST" and lost["left"]:
            lost["left"] -= 1
            raise httpx.ReadTimeout("response lost", request=request)
        return response

    context = Context(account="work", options={"client_id": "c"}, cache_dir=tmp_path)
    connector = GraphConnector(
        context,
        tokens=StaticTokens(fake),
        transport=httpx.MockTransport(handler),
        sleep=lambda _s: None,
    )
    store = connector.calendar()
    record = store.create_task(sample_task())
    assert sum(1 for r in fake.log if r.method == "POST") == 2
    assert len(fake.events) == 1
    assert [r.key for r in store.tasks()] == [record.key]


def test_update_of_a_deleted_task_is_task_gone(fake: FakeGraph, tmp_path: Path) -> None:
    store = graph_connector(fake, tmp_path).calendar()
    record = store.create_task(sample_task())
    fake.events.clear()
    with pytest.raises(TaskGone):
        store.update_task(sample_task(hour=12), record)


def test_key_property_finds_the_task(fake: FakeGraph, tmp_path: Path) -> None:
    """The filter the README documents for finding one task by key works as written."""
    store = graph_connector(fake, tmp_path).calendar()
    store.create_task(sample_task("reply:a@x"))
    store.create_task(sample_task("reply:b@x", hour=12))
    client = GraphClient(StaticTokens(fake), transport=fake.transport())
    flt = (
        f"singleValueExtendedProperties/Any(ep: ep/id eq '{KEY_PROPERTY}'"
        " and ep/value eq 'reply:b@x')"
    )
    found = client.get("/me/events", params={"$filter": flt})["value"]
    assert [e["subject"] for e in found] == [sample_task("reply:b@x").title]


def test_calendar_no_change_read_is_one_request_and_series_resolved_once(
    fake: FakeGraph, tmp_path: Path
) -> None:
    start = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
    fake.add_event(
        "weekly@example", "Sync", start, start + timedelta(hours=1), rrule="FREQ=WEEKLY;COUNT=3"
    )
    store = graph_connector(fake, tmp_path, page_size=50).calendar()
    window = (start - timedelta(days=1), start + timedelta(days=20))
    first = list(store.events(*window))
    assert {e.uid for e in first} == {"weekly@example"}
    assert len(first) == 3
    before = len(fake.log)
    again = list(graph_connector(fake, tmp_path, page_size=50).calendar().events(*window))
    assert again == first
    assert len(fake.log) - before == 1
    assert "$deltatoken" in str(fake.log[-1].url)


def test_daily_moving_reads_stay_in_one_delta_window(fake: FakeGraph, tmp_path: Path) -> None:
    """The core reads [now - 120 days, now + 15 days] every cycle; days later it still deltas."""
    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    fake.add_event("a@example", "A", now + timedelta(days=2), now + timedelta(days=2, hours=1))
    store = graph_connector(fake, tmp_path).calendar()
    list(store.events(now - timedelta(days=120), now + timedelta(days=15)))
    for day in range(1, 6):
        later = now + timedelta(days=day)
        before = len(fake.log)
        events = list(store.events(later - timedelta(days=120), later + timedelta(days=15)))
        assert [e.uid for e in events] == ["a@example"]
        assert len(fake.log) - before == 1
        assert "$deltatoken" in str(fake.log[-1].url)


def test_calendar_changes_and_removals_arrive_by_delta(fake: FakeGraph, tmp_path: Path) -> None:
    start = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    moving = fake.add_event("move@example", "Call", start, start + timedelta(hours=1))
    gone = fake.add_event("gone@example", "Lunch", start, start + timedelta(hours=1))
    store = graph_connector(fake, tmp_path).calendar()
    window = (start - timedelta(days=1), start + timedelta(days=7))
    list(store.events(*window))
    fake.touch_event(moving, start=start + timedelta(hours=3), end=start + timedelta(hours=4))
    del fake.events[gone]
    events = {e.uid: e for e in store.events(*window)}
    assert set(events) == {"move@example"}
    assert events["move@example"].start == start + timedelta(hours=3)


def test_forgotten_calendar_delta_reads_the_window_again(fake: FakeGraph, tmp_path: Path) -> None:
    start = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    fake.add_event("a@example", "A", start, start + timedelta(hours=1))
    store = graph_connector(fake, tmp_path).calendar()
    window = (start - timedelta(days=1), start + timedelta(days=7))
    list(store.events(*window))
    fake.expire_tokens()
    assert [e.uid for e in store.events(*window)] == ["a@example"]


def test_user_deleted_task_is_absent_so_the_core_sees_it_dismissed(
    fake: FakeGraph, tmp_path: Path
) -> None:
    store = graph_connector(fake, tmp_path).calendar()
    keep = store.create_task(sample_task("reply:keep@x"))
    store.create_task(sample_task("reply:drop@x", hour=13))
    for eid, stored in list(fake.events.items()):
        if "reply:drop@x" in stored.props.values():
            del fake.events[eid]
    assert [r.uid for r in store.tasks()] == [task_uid(keep.key)]


# -- sign-in through MSAL, token endpoint mocked -----------------------------

AUTHORITY = "https://login.microsoftonline.com/organizations"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _token_response(access: str, refresh: str) -> dict[str, Any]:
    claims = {
        "iss": "https://login.microsoftonline.com/tid/v2.0",
        "sub": "subject",
        "aud": "cid",
        "oid": "oid",
        "tid": "tid",
        "preferred_username": "alex@brightpath.example",
        "exp": 4102444800,
        "iat": 1700000000,
    }
    return {
        "token_type": "Bearer",
        "scope": "https://graph.microsoft.com/Mail.Read https://graph.microsoft.com/Calendars.ReadWrite",
        "expires_in": 3600,
        "access_token": access,
        "refresh_token": refresh,
        "id_token": f"{_b64({'alg': 'none'})}.{_b64(claims)}.",
        "client_info": _b64({"uid": "oid", "utid": "tid"}),
    }


@pytest.fixture
def login() -> Any:
    with requests_mock.Mocker() as mock:
        mock.get(
            f"{AUTHORITY}/v2.0/.well-known/openid-configuration",
            json={
                "authorization_endpoint": f"{AUTHORITY}/oauth2/v2.0/authorize",
                "token_endpoint": f"{AUTHORITY}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{AUTHORITY}/oauth2/v2.0/devicecode",
                "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
            },
        )
        mock.get(
            "https://login.microsoftonline.com/common/discovery/instance",
            json={
                "tenant_discovery_endpoint": f"{AUTHORITY}/v2.0/.well-known/openid-configuration",
                "metadata": [
                    {
                        "preferred_network": "login.microsoftonline.com",
                        "preferred_cache": "login.windows.net",
                        "aliases": ["login.microsoftonline.com", "login.windows.net"],
                    }
                ],
            },
        )
        mock.post(
            f"{AUTHORITY}/oauth2/v2.0/devicecode",
            json={
                "device_code": "dev",
                "user_code": "ABCD-EFGH",
                "verification_uri": "https://microsoft.com/devicelogin",
                "expires_in": 900,
                "interval": 0,
                "message": "To sign in, open https://microsoft.com/devicelogin and enter ABCD-EFGH",
            },
        )
        yield mock


def test_device_code_sign_in_then_refresh_on_401(
    login: Any, fake: FakeGraph, tmp_path: Path
) -> None:
    secrets: dict[str, str] = {}
    context = Context(
        account="work",
        options={"client_id": "cid", "tenant": "organizations"},
        cache_dir=tmp_path,
        secret=secrets.get,
        store_secret=secrets.__setitem__,
    )
    token_url = f"{AUTHORITY}/oauth2/v2.0/token"
    login.post(
        token_url,
        [
            {"json": _token_response("access-1", "refresh-1")},
            {"json": _token_response("access-2", "refresh-2")},
        ],
    )
    shown: list[str] = []
    source = TokenSource(context, "cid", tenant="organizations")
    source.sign_in_device_code(shown.append)
    assert "ABCD-EFGH" in shown[0]
    assert "refresh-1" in secrets[CACHE_SECRET]
    device_grant = parse_qs(login.request_history[-1].text)
    assert device_grant["grant_type"] == ["urn:ietf:params:oauth:grant-type:device_code"]
    start = next(r for r in login.request_history if r.url.endswith("/devicecode"))
    scope = parse_qs(start.text)["scope"][0].split()
    assert "https://graph.microsoft.com/Mail.Read" in scope
    assert "offline_access" in scope  # MSAL adds it

    # A new process: the cache comes back from the secrets layer, the token is
    # revoked server-side, the 401 triggers one refresh through MSAL.
    fake.valid_tokens = {"access-2"}
    deliver(fake, 1)
    connector = GraphConnector(context, transport=fake.transport(), sleep=lambda _s: None)
    batches, _ = drain(connector.mail(), None)
    assert any(b.messages for b in batches)
    refresh = parse_qs(login.request_history[-1].text)
    assert refresh["grant_type"] == ["refresh_token"]
    assert refresh["refresh_token"] == ["refresh-1"]
    assert "refresh-2" in secrets[CACHE_SECRET]


def test_not_signed_in_names_the_auth_command(login: Any, tmp_path: Path) -> None:
    context = Context(account="work", options={"client_id": "cid"}, cache_dir=tmp_path)
    with pytest.raises(AuthError) as caught:
        GraphConnector(context).authorize(interactive=False)
    assert caught.value.command == "nurture auth microsoft work"


def test_refused_refresh_is_an_auth_error(login: Any, tmp_path: Path) -> None:
    secrets: dict[str, str] = {}
    context = Context(
        account="work",
        options={"client_id": "cid"},
        cache_dir=tmp_path,
        secret=secrets.get,
        store_secret=secrets.__setitem__,
    )
    token_url = f"{AUTHORITY}/oauth2/v2.0/token"
    login.post(
        token_url,
        [
            {"json": _token_response("a", "r")},
            {"status_code": 400, "json": {"error": "invalid_grant"}},
        ],
    )
    source = TokenSource(
        context, "cid", tenant="organizations", command="nurture auth microsoft work"
    )
    source.sign_in_device_code(lambda _m: None)
    with pytest.raises(AuthError) as caught:
        source.token(force_refresh=True)
    assert "invalid_grant" in str(caught.value)


def test_folders_the_user_names_are_read_too(fake: FakeGraph, tmp_path: Path) -> None:
    clients = fake.add_folder("Clients")
    fake.add_message(make_message(message_id="a@x.example"), "archive")
    fake.add_message(make_message(message_id="c@x.example"), clients)
    source = graph_connector(fake, tmp_path, folders=["Archive", "Clients"]).mail()
    batches, cursor = drain(source, None)
    found = {m.message_id: m.folder for b in batches for m in b.messages}
    assert found == {"a@x.example": FolderRole.ARCHIVE, "c@x.example": FolderRole.OTHER}
    lookups = [r for r in fake.log if r.url.path == "/v1.0/me/mailFolders"]
    assert len(lookups) == 1  # Archive is a well-known name; only Clients is looked up
    before = len(fake.log)
    drain(source, cursor)
    assert len(fake.log) - before == 4  # the delta links carry the folders: no look-up


def test_an_unknown_folder_name_is_a_user_error(fake: FakeGraph, tmp_path: Path) -> None:
    source = graph_connector(fake, tmp_path, folders=["Clients"]).mail()
    with pytest.raises(UserError):
        drain(source, None)


# -- Microsoft To Do output --------------------------------------------------


def test_todo_tasks_go_to_a_list_of_their_own_with_the_key_linked(
    fake: FakeGraph, tmp_path: Path
) -> None:
    store = graph_connector(fake, tmp_path, todo=True).calendar()
    assert store.supports_todo
    todo = sample_task("follow-up:x@y", todo=True)
    event = sample_task("reply:z@y", hour=14)
    first = store.create_task(todo)
    store.create_task(todo)  # idempotent: found in the list, not posted again
    store.create_task(event)
    assert list(fake.todo_lists.values()) == ["nurture"]
    (stored,) = fake.todo_tasks.values()
    assert stored["linkedResources"][0]["applicationName"] == "nurture"
    assert stored["linkedResources"][0]["externalId"] == todo.key
    assert len(fake.events) == 1  # the event task stays an event
    assert {r.key for r in store.tasks()} == {todo.key, event.key}
    updated = store.update_task(sample_task("follow-up:x@y", hour=16, todo=True), first)
    assert updated.start.hour == 16
    with pytest.raises(TaskConflict):
        store.update_task(sample_task("follow-up:x@y", hour=17, todo=True), first)
    store.delete_task(updated)
    store.delete_task(updated)
    assert [r.key for r in store.tasks()] == [event.key]


def test_tasks_permission_is_asked_only_with_todo_output(tmp_path: Path) -> None:
    def scopes(**options: Any) -> tuple[str, ...]:
        context = Context(account="work", options={"client_id": "c", **options}, cache_dir=tmp_path)
        return GraphConnector(context)._token_source().scopes

    assert not any("Tasks" in s for s in scopes())
    assert "https://graph.microsoft.com/Tasks.ReadWrite" in scopes(todo=True)


def test_a_server_refusing_the_header_expansion_still_delivers_mail(
    fake: FakeGraph, tmp_path: Path
) -> None:
    fake.refuse_expand = True
    fake.add_message(make_message(message_id="a@x.example"), "inbox")
    batches, cursor = drain(graph_connector(fake, tmp_path).mail(), None)
    assert [m.message_id for b in batches for m in b.messages] == ["a@x.example"]
    fake.add_message(make_message(message_id="b@x.example"), "inbox")
    batches, _ = drain(graph_connector(fake, tmp_path).mail(), cursor)
    assert [m.message_id for b in batches for m in b.messages] == ["b@x.example"]


def test_registered_by_entry_point_and_options_validate() -> None:
    from nurture import connector as registry

    cls = registry.load("microsoft")
    assert cls is GraphConnector
    good = {"client_id": "x", "tenant": "organizations", "folders": ["Archive"], "todo": True}
    assert cls.validate("work", good, "config.toml") == []
    problems = cls.validate("work", {"sign_in": "pigeon"}, "config.toml")
    assert {p.what for p in problems} == {
        "missing option 'client_id'",
        "'pigeon' is not one of " "device-code, browser",
    }
    asked = [o.name for o in cls.options if o.ask]
    assert asked == ["client_id", "tenant"]


def test_authorize_shows_the_device_code_and_keeps_the_cache(
    login: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets: dict[str, str] = {}
    context = Context(
        account="work",
        options={"client_id": "cid", "tenant": "organizations"},
        cache_dir=tmp_path,
        secret=secrets.get,
        store_secret=secrets.__setitem__,
    )
    login.post(f"{AUTHORITY}/oauth2/v2.0/token", json=_token_response("a", "r"))
    connector = GraphConnector(context)
    connector.authorize(interactive=True)
    assert "ABCD-EFGH" in capsys.readouterr().err
    assert CACHE_SECRET in secrets
    GraphConnector(context).authorize(interactive=False)  # the stored cache suffices


def test_a_conflict_answer_to_a_conditional_update_is_a_task_conflict(
    fake: FakeGraph, tmp_path: Path
) -> None:
    store = graph_connector(fake, tmp_path).calendar()
    record = store.create_task(sample_task())
    fake.inject(409, match="/me/events/")
    with pytest.raises(TaskConflict):
        store.update_task(sample_task(hour=12), record)


def test_a_page_fetched_but_not_committed_is_fetched_again(fake: FakeGraph, tmp_path: Path) -> None:
    """A crash after fetching page two but before committing it: the next sync resumes at it."""
    deliver(fake, 3)
    source = graph_connector(fake, tmp_path, page_size=1).mail()
    stream = source.changes(None, SINCE)
    committed, _lost = next(stream), next(stream)
    batches, _ = drain(source, committed.cursor)
    rest = {m.message_id for b in batches for m in b.messages}
    assert rest == {f"m{i}-inbox@x.example" for i in range(3)} - {
        m.message_id for m in committed.messages
    }
