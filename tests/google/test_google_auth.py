"""Google sign-in: scopes, silent refresh over the token endpoint, invalid_grant, the flow."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("google_auth_oauthlib")

import nurture_google.auth as auth  # noqa: E402
from google_auth_oauthlib.flow import InstalledAppFlow  # noqa: E402
from nurture_google import GoogleConnector  # noqa: E402

from nurture.connector import Context  # noqa: E402
from nurture.errors import AuthError, UserError  # noqa: E402

from .conftest import CLIENT_ID, REFRESH_TOKEN, make_connector  # noqa: E402
from .gfactories import raw_message  # noqa: E402
from .gfake import FakeGoogle  # noqa: E402

SINCE = datetime(2025, 11, 1, tzinfo=UTC)


def test_scopes_are_the_narrowest_and_never_touch_mail() -> None:
    primary = auth.scopes(mail=True, calendar=True, dedicated=False)
    assert primary == [auth.GMAIL_READONLY, auth.CALENDAR_OWNED, auth.CALENDAR_FREEBUSY]
    dedicated = auth.scopes(mail=True, calendar=True, dedicated=True)
    assert auth.CALENDAR_APP_CREATED in dedicated and auth.CALENDAR_OWNED not in dedicated
    for scope in primary + dedicated:
        assert not scope.endswith(("gmail.modify", "gmail.send", "mail.google.com/", "/calendar"))


def test_token_is_refreshed_once_and_again_after_expiry(
    fake: FakeGoogle, token_endpoint: Any, tmp_path: Path
) -> None:
    fake.deliver(raw_message())
    connector = make_connector(fake, tmp_path)
    source = connector.mail()
    assert source is not None
    cursor = list(source.changes(None, SINCE))[-1].cursor
    assert token_endpoint.call_count == 1
    fake.expire_tokens()  # the access token ran out: the API answers 401
    list(source.changes(cursor, SINCE))
    assert token_endpoint.call_count == 2
    form = token_endpoint.last_request.text
    assert "grant_type=refresh_token" in form and "refresh_token=1%2F%2Frefresh-token" in form


def test_expired_token_inside_a_batch_is_refreshed(
    fake: FakeGoogle, token_endpoint: Any, tmp_path: Path
) -> None:
    ids = [fake.deliver(raw_message()) for _ in range(3)]
    connector = make_connector(fake, tmp_path)
    source = connector.mail()
    assert source is not None
    list(source.changes(None, SINCE))
    fake.expire_tokens()  # every part of the next batch answers 401
    bodies = dict(source.bodies(ids))
    assert set(bodies) == set(ids)
    assert token_endpoint.call_count == 2


def test_revoked_grant_stops_with_the_command_to_run(
    fake: FakeGoogle, token_endpoint: Any, tmp_path: Path
) -> None:
    connector = make_connector(fake, tmp_path)
    fake.revoke(REFRESH_TOKEN)
    source = connector.mail()
    with pytest.raises(AuthError) as caught:
        list(source.changes(None, SINCE))  # type: ignore[union-attr]
    assert caught.value.command == "nurture auth google personal"
    assert "7 days" in str(caught.value)


def test_not_signed_in_names_the_command(fake: FakeGoogle, tmp_path: Path) -> None:
    context = Context(account="work", options={"client_id": CLIENT_ID}, cache_dir=tmp_path)
    with pytest.raises(AuthError) as caught:
        GoogleConnector(context, http=fake).mail()
    assert caught.value.command == "nurture auth google work"


def test_secrets_in_config_are_refused() -> None:
    problems = GoogleConnector.validate(
        "personal",
        {"client_id": CLIENT_ID, "client_secret": "oops", "calendar": "work"},
        "config.toml",
    )
    text = "\n".join(str(p) for p in problems)
    assert "secrets do not belong in config.toml" in text
    assert "'work' is not one of primary, nurture" in text
    assert (
        GoogleConnector.validate(
            "p", {"client_id": CLIENT_ID, "client_secret_command": "pass g"}, "c"
        )
        == []
    )


class FakeFlow:
    """Stands in for InstalledAppFlow.run_local_server; records how it was called."""

    seen: dict[str, Any] = {}

    def run_local_server(self, **kwargs: Any) -> Any:
        FakeFlow.seen = kwargs
        return type("Creds", (), {"refresh_token": "1//new-refresh"})()


def test_authorize_stores_the_refresh_token_and_explains_ssh(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stored: dict[str, str] = {"client_secret": "shh"}
    captured: dict[str, Any] = {}

    def from_client_config(config: dict[str, Any], scopes: list[str]) -> FakeFlow:
        captured.update(config=config, scopes=scopes)
        return FakeFlow()

    monkeypatch.setattr(InstalledAppFlow, "from_client_config", from_client_config)
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.2 50000 10.0.0.1 22")
    context = Context(
        account="personal",
        options={"client_id": CLIENT_ID},
        cache_dir=tmp_path,
        secret=stored.get,
        store_secret=stored.__setitem__,
    )
    GoogleConnector(context).authorize()
    assert stored["refresh_token"] == "1//new-refresh"
    assert captured["config"]["installed"]["client_id"] == CLIENT_ID
    assert auth.GMAIL_READONLY in captured["scopes"]
    assert FakeFlow.seen["open_browser"] is False and FakeFlow.seen["port"] == auth.SSH_PORT
    assert FakeFlow.seen["access_type"] == "offline"
    assert f"ssh -N -L {auth.SSH_PORT}:localhost:{auth.SSH_PORT}" in capsys.readouterr().err


def test_authorize_without_client_secret_says_how_to_give_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)  # nobody to ask
    context = Context(account="personal", options={"client_id": CLIENT_ID}, cache_dir=tmp_path)
    with pytest.raises(UserError) as caught:
        GoogleConnector(context).authorize()
    assert "client_secret_command" in str(caught.value)


def test_authorize_asks_for_a_missing_client_secret_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stored: dict[str, str] = {}
    monkeypatch.setattr(InstalledAppFlow, "from_client_config", lambda config, scopes: FakeFlow())
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt: " typed-secret \n")
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    monkeypatch.delenv("SSH_TTY", raising=False)
    context = Context(
        account="personal",
        options={"client_id": CLIENT_ID},
        cache_dir=tmp_path,
        secret=stored.get,
        store_secret=stored.__setitem__,
    )
    GoogleConnector(context).authorize()
    assert stored == {"client_secret": "typed-secret", "refresh_token": "1//new-refresh"}
    assert FakeFlow.seen["open_browser"] is True and FakeFlow.seen["port"] == 0


def test_unticked_permission_at_sign_in_is_named_and_nothing_is_stored(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    class PartialFlow(FakeFlow):
        def run_local_server(self, **kwargs: Any) -> Any:
            return type(
                "Creds",
                (),
                {"refresh_token": "1//partial", "granted_scopes": [auth.GMAIL_READONLY]},
            )()

    stored: dict[str, str] = {"client_secret": "shh"}
    monkeypatch.setattr(
        InstalledAppFlow, "from_client_config", lambda config, scopes: PartialFlow()
    )
    context = Context(
        account="personal",
        options={"client_id": CLIENT_ID},
        cache_dir=tmp_path,
        secret=stored.get,
        store_secret=stored.__setitem__,
    )
    with pytest.raises(UserError) as caught:
        GoogleConnector(context).authorize()
    assert "calendar.events.owned" in str(caught.value)
    assert "refresh_token" not in stored


def test_permission_missing_at_use_is_an_auth_error(
    fake: FakeGoogle, token_endpoint: Any, tmp_path: Path
) -> None:
    connector = make_connector(fake, tmp_path)
    fake.refresh_tokens[REFRESH_TOKEN] = {auth.GMAIL_READONLY}  # calendar box left unticked
    store = connector.calendar()
    assert store is not None
    with pytest.raises(AuthError) as caught:
        store.tasks()
    assert caught.value.command == "nurture auth google personal"
    fake.violations.clear()  # the fake also flags the out-of-scope call; expected here


def test_switching_to_a_scope_never_granted_asks_for_a_new_sign_in(
    fake: FakeGoogle, token_endpoint: Any, tmp_path: Path
) -> None:
    fake.grant(REFRESH_TOKEN, auth.scopes(mail=True, calendar=True, dedicated=False))
    connector = make_connector(fake, tmp_path, calendar="nurture")  # needs app.created
    with pytest.raises(AuthError) as caught:
        connector.calendar()
    assert caught.value.command == "nurture auth google personal"
    assert "scope=" in token_endpoint.last_request.text
