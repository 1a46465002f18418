"""The secrets layer: command, systemd credential, real keyring only, private file."""

from __future__ import annotations

import logging
import os
import shlex
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.core
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.backends.chainer import ChainerBackend

from nurture.errors import UserError
from nurture.secrets import Secrets, is_real_backend, real_keyring


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps entries in a dict; stands in for Secret Service or KWallet."""

    priority = 5  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


class PlaintextKeyring(MemoryKeyring):
    """Looks like keyrings.alt's plaintext file backend, without installing it."""


PlaintextKeyring.__module__ = "keyrings.alt.file"


def python_command(code: str) -> str:
    """A command line that runs `code` with this interpreter (no shell)."""
    return shlex.join([sys.executable, "-c", code])


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No real keyring, no systemd credentials: every test sets what it needs."""
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.core._keyring_backend)
    keyring.set_keyring(fail.Keyring())
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    yield


def write_private(path: Path, text: str, mode: int = 0o600, folder_mode: int = 0o700) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, folder_mode)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


def test_command_string_prints_the_secret(tmp_path: Path) -> None:
    options = {"password_command": python_command("print('s3cr3t pass')")}
    assert Secrets("work", options, tmp_path).get("password") == "s3cr3t pass"


def test_command_as_list_keeps_inner_spaces(tmp_path: Path) -> None:
    options = {"token_command": [sys.executable, "-c", "import sys; sys.stdout.write(' x y \\n')"]}
    assert Secrets("work", options, tmp_path).get("token") == " x y "


def test_command_is_not_run_through_a_shell(tmp_path: Path) -> None:
    options = {"password_command": python_command("import sys; print(sys.argv[1])") + " '$HOME;x'"}
    assert Secrets("work", options, tmp_path).get("password") == "$HOME;x"


def test_failing_command_names_account_and_option_not_the_secret(tmp_path: Path) -> None:
    code = (
        "import sys; print('hunter2-leaked'); "
        "sys.stderr.write('gpg: decryption failed: No secret key\\nsecond line\\n'); sys.exit(2)"
    )
    secrets = Secrets("work", {"password_command": python_command(code)}, tmp_path)
    with pytest.raises(UserError) as raised:
        secrets.get("password")
    message = str(raised.value)
    assert "work" in message
    assert "password_command" in message
    assert "gpg: decryption failed: No secret key" in message
    assert "second line" not in message
    assert "hunter2-leaked" not in message


def test_missing_program_is_a_user_error(tmp_path: Path) -> None:
    secrets = Secrets("work", {"password_command": "/nonexistent/pass show x"}, tmp_path)
    with pytest.raises(UserError, match="password_command"):
        secrets.get("password")


def test_command_printing_nothing_is_refused(tmp_path: Path) -> None:
    secrets = Secrets("work", {"password_command": python_command("pass")}, tmp_path)
    with pytest.raises(UserError, match="printed nothing"):
        secrets.get("password")


def test_command_wins_over_file(tmp_path: Path) -> None:
    write_private(tmp_path / "secrets" / "work.password", "from-file")
    options = {"password_command": python_command("print('from-command')")}
    assert Secrets("work", options, tmp_path).get("password") == "from-command"


def test_systemd_credential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "work.password").write_text("cred-value\n", encoding="utf-8")
    (creds / "home.password").write_text("other-account\n", encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert Secrets("work", {}, tmp_path / "state").get("password") == "cred-value"
    assert Secrets("work", {}, tmp_path / "state").get("token") is None


def test_private_file_is_accepted(tmp_path: Path) -> None:
    write_private(tmp_path / "secrets" / "work.password", "file-secret\n")
    assert Secrets("work", {}, tmp_path).get("password") == "file-secret"


def test_file_readable_by_others_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = write_private(tmp_path / "secrets" / "work.password", "file-secret", mode=0o644)
    with pytest.raises(UserError) as raised:
        Secrets("work", {}, tmp_path).get("password")
    message = str(raised.value)
    assert f"chmod 600 {path}" in message
    assert "file-secret" not in message


def test_group_readable_folder_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = write_private(tmp_path / "secrets" / "work.password", "x", folder_mode=0o750)
    with pytest.raises(UserError) as raised:
        Secrets("work", {}, tmp_path).get("password")
    assert f"chmod 700 {path.parent}" in str(raised.value)


def test_nothing_anywhere_is_none(tmp_path: Path) -> None:
    assert Secrets("work", {}, tmp_path).get("password") is None


def test_set_writes_0600_in_0700_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        where = Secrets("work", {}, tmp_path).set("password", "new-secret")
        where_again = Secrets("work", {}, tmp_path).set("password", "newer-secret")
    finally:
        os.umask(old)
    path = tmp_path / "secrets" / "work.password"
    assert where == where_again == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == ["work.password"]
    assert Secrets("work", {}, tmp_path).get("password") == "newer-secret"


def test_plaintext_keyrings_alt_backend_is_refused(tmp_path: Path) -> None:
    plaintext = PlaintextKeyring()
    plaintext.entries[("nurture", "work/password")] = "sitting-in-plaintext"
    keyring.set_keyring(plaintext)
    assert not is_real_backend(plaintext)
    assert real_keyring() is None
    secrets = Secrets("work", {}, tmp_path)
    assert secrets.get("password") is None
    where = secrets.set("password", "kept-private")
    assert where == str(tmp_path / "secrets" / "work.password")
    assert plaintext.entries == {("nurture", "work/password"): "sitting-in-plaintext"}


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()])
def test_fail_and_null_backends_are_not_keyrings(backend: KeyringBackend) -> None:
    keyring.set_keyring(backend)
    assert real_keyring() is None


def test_real_backend_is_used_for_set_and_get(tmp_path: Path) -> None:
    real = MemoryKeyring()
    keyring.set_keyring(real)
    secrets = Secrets("work", {}, tmp_path)
    assert secrets.set("refresh_token", "tok-123") == "keyring"
    assert real.entries == {("nurture", "work/refresh_token"): "tok-123"}
    assert not (tmp_path / "secrets").exists()
    assert Secrets("work", {}, tmp_path).get("refresh_token") == "tok-123"
    assert Secrets("home", {}, tmp_path).get("refresh_token") is None


def test_secret_values_never_reach_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="nurture")
    keyring.set_keyring(MemoryKeyring())
    options = {"password_command": python_command("print('cmd-value-1')")}
    secrets = Secrets("work", options, tmp_path)
    assert secrets.get("password") == "cmd-value-1"
    secrets.set("token", "kept-value-2")
    assert secrets.get("token") == "kept-value-2"
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "work.api").write_text("cred-value-3", encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert secrets.get("api") == "cred-value-3"
    text = caplog.text
    assert "work" in text
    for value in ("cmd-value-1", "kept-value-2", "cred-value-3"):
        assert value not in text


@pytest.mark.parametrize("account, name", [("../etc", "password"), ("work", "../x"), (".h", "p")])
def test_names_that_would_leave_the_folder_are_refused(
    tmp_path: Path, account: str, name: str
) -> None:
    with pytest.raises(UserError, match="cannot be used"):
        Secrets(account, {}, tmp_path).set(name, "value")
    assert not (tmp_path / "secrets").exists()


def test_chainer_uses_only_its_real_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plaintext, real = PlaintextKeyring(), MemoryKeyring()
    monkeypatch.setattr(PlaintextKeyring, "priority", 9)
    monkeypatch.setattr(keyring.backend, "get_all_keyring", lambda: [plaintext, real])
    keyring.set_keyring(ChainerBackend())
    assert real_keyring() is real
    assert Secrets("work", {}, tmp_path).set("password", "chained") == "keyring"
    assert plaintext.entries == {}
    assert real.entries == {("nurture", "work/password"): "chained"}


def test_chainer_of_nothing_real_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyring.backend, "get_all_keyring", lambda: [PlaintextKeyring()])
    keyring.set_keyring(ChainerBackend())
    assert real_keyring() is None
    monkeypatch.setattr(keyring.backend, "get_all_keyring", lambda: [])
    assert real_keyring() is None


def test_binary_secret_file_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "work.password"
    write_private(path, "")
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UserError, match="not UTF-8"):
        Secrets("work", {}, tmp_path).get("password")
