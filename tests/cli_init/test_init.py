"""`nurture init`: interactive and scripted setup, never overwriting without --force."""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

import pytest
from nurture_local import LocalConnector

from nurture import connector as registry
from nurture.cli.init import guess_name
from nurture.config import load_config
from nurture.connector import MailBatch, MailSource
from nurture.errors import AuthError
from nurture.model import Body
from nurture.rules import default_rules_dir, load_rules
from nurture.secrets import Secrets

from .conftest import FakeCalDav, FakeImap, FakeOAuth, StrictImap, mode, read_toml, run


def shipped_rule_files() -> set[str]:
    return {f.name for f in default_rules_dir().glob("*.toml")}


def scripted(config: Path, *extra: str) -> list[str]:
    return [
        "--config",
        str(config),
        "init",
        "--connector",
        "local",
        "--account",
        "home",
        "--option",
        "maildir=~/Mail",
        "--name",
        "Alex Morgan",
        "--address",
        "alex@brightpath.example",
        "--yes",
        *extra,
    ]


def test_interactive_local_account(private_home: Path) -> None:
    answers = [
        "local",  # connector
        "home",  # account name
        "~/Mail",  # maildir
        "",  # mbox: none
        "~/.calendars/nurture",  # calendar
        "n",  # another account?
        "Alex Morgan",
        "alex at brightpath",  # not an address: asked again
        "alex@brightpath.example, a.morgan@brightpath.example",
        "Mars/Olympus",  # not a zone: asked again
        "America/New_York",
    ]
    result = run(["init"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    folder = private_home / "config" / "nurture"
    config = folder / "config.toml"
    assert read_toml(config) == {
        "user": {
            "name": "Alex Morgan",
            "addresses": ["alex@brightpath.example", "a.morgan@brightpath.example"],
        },
        "accounts": {
            "home": {
                "connector": "local",
                "maildir": "~/Mail",
                "calendar": "~/.calendars/nurture",
            }
        },
    }
    loaded = load_config(config)
    assert [a.name for a in loaded.accounts] == ["home"]
    assert loaded.rules_dir == folder / "rules"
    names = {p.name for p in (folder / "rules").glob("*.toml")}
    assert names == shipped_rule_files() and names
    examples = {p.parent.name for p in (folder / "rules" / "examples").glob("*/*.toml")}
    assert examples == {"account-manager", "support-lead", "founder-investors"}
    work = read_toml(folder / "rules" / "work.toml")
    assert work["work"]["timezone"] == "America/New_York"
    assert work["tasks"]["calendar"] == "home"
    book = load_rules(loaded.rules_dir)
    assert (book.tasks.calendar, book.work.timezone) == ("home", "America/New_York")
    assert str(config) in result.output
    assert "nurture sync --once --dry-run" in result.output
    assert LocalConnector.summary in result.output
    assert "Not a mail address: alex at brightpath" in result.output
    assert "'Mars/Olympus' is not an IANA time zone" in result.output


def test_rule_files_keep_their_comments(private_home: Path, tmp_path: Path) -> None:
    config = tmp_path / "cfg" / "config.toml"
    assert run(scripted(config)).exit_code == 0
    for name in shipped_rule_files():
        shipped = (default_rules_dir() / name).read_text(encoding="utf-8")
        written = (config.parent / "rules" / name).read_text(encoding="utf-8")
        shipped_comments = [line for line in shipped.splitlines() if line.startswith("#")]
        assert [line for line in written.splitlines() if line.startswith("#")] == shipped_comments


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    config = tmp_path / "cfg" / "config.toml"
    config.parent.mkdir()
    config.write_text("# mine\n", encoding="utf-8")
    result = run(scripted(config))
    assert result.exit_code != 0
    assert str(config) in result.output
    assert "--force replaces it" in result.output
    assert "Traceback" not in result.output
    assert config.read_text(encoding="utf-8") == "# mine\n"
    assert not (config.parent / "rules").exists()


def test_refuses_when_only_a_rule_file_exists(tmp_path: Path) -> None:
    config = tmp_path / "cfg" / "config.toml"
    rule = config.parent / "rules" / sorted(shipped_rule_files())[0]
    rule.parent.mkdir(parents=True)
    rule.write_text("# my rules\n", encoding="utf-8")
    result = run(scripted(config))
    assert result.exit_code != 0
    assert str(rule) in result.output
    assert not config.exists()
    assert rule.read_text(encoding="utf-8") == "# my rules\n"


def test_force_replaces(tmp_path: Path) -> None:
    config = tmp_path / "cfg" / "config.toml"
    work = config.parent / "rules" / "work.toml"
    work.parent.mkdir(parents=True)
    config.write_text("# old\n", encoding="utf-8")
    os.chmod(config, 0o644)
    work.write_text("# old rules\n", encoding="utf-8")
    result = run(scripted(config, "--force"))
    assert result.exit_code == 0, result.output
    assert read_toml(config)["accounts"]["home"] == {"connector": "local", "maildir": "~/Mail"}
    assert "[tasks]" in work.read_text(encoding="utf-8")
    assert mode(config) == 0o600


def test_config_is_written_0600_whatever_the_umask(tmp_path: Path) -> None:
    config = tmp_path / "cfg" / "config.toml"
    old = os.umask(0)
    try:
        result = run(scripted(config))
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert mode(config) == 0o600
    assert [p.name for p in config.parent.iterdir() if p.name.startswith(".")] == []


def test_non_interactive_flags_typed_options(tmp_path: Path) -> None:
    config = tmp_path / "cfg" / "config.toml"
    result = run(
        [
            "--config",
            str(config),
            "init",
            "--connector",
            "local",
            "--account",
            "archive",
            "--option",
            "mbox=/srv/mail/archive.mbox",
            "--option",
            "sent_folders=Sent, Sent Items",
            "--option",
            "read_only=yes",
            "--option",
            "calendar=/srv/cal.ics",
            "--name",
            'Jo "JD" Doe',
            "--address",
            "Jo@Example.org",
            "--address",
            "jd@example.net",
            "--timezone",
            "Asia/Tokyo",
            "--yes",
        ]
    )
    assert result.exit_code == 0, result.output
    data = read_toml(config)
    assert data["user"]["name"] == 'Jo "JD" Doe'
    assert data["user"]["addresses"] == ["jo@example.org", "jd@example.net"]
    assert data["accounts"]["archive"] == {
        "connector": "local",
        "mbox": "/srv/mail/archive.mbox",
        "sent_folders": ["Sent", "Sent Items"],
        "read_only": True,
        "calendar": "/srv/cal.ics",
    }
    assert read_toml(config.parent / "rules" / "work.toml")["work"]["timezone"] == "Asia/Tokyo"
    assert load_config(config).accounts[0].options["read_only"] is True


def test_unknown_option_is_refused_before_writing(tmp_path: Path) -> None:
    config = tmp_path / "cfg" / "config.toml"
    result = run(scripted(config, "--option", "mailDir=/x"))
    assert result.exit_code != 0
    assert "mailDir" in result.output
    assert "maildir" in result.output  # the options it does take
    assert not config.exists()


def test_yes_without_an_address_says_what_to_give(tmp_path: Path) -> None:
    config = tmp_path / "cfg" / "config.toml"
    args = [a for a in scripted(config) if a not in ("--address", "alex@brightpath.example")]
    result = run(args)
    assert result.exit_code != 0
    assert "--address" in result.output
    assert not config.exists()


def test_imap_and_caldav_interactively(
    private_home: Path, fake_registry: Callable[..., None]
) -> None:
    fake_registry(LocalConnector, FakeOAuth, FakeImap, FakeCalDav)
    answers = [
        "imap",
        "work-mail",
        "imap.fastmail.com",  # host
        "",  # port: default 993
        "alex@brightpath.example",  # username
        "pass show mail/work",  # password_command
        "y",  # another account
        "",  # the connector offered: the one that adds a calendar (caldav)
        "work-cal",
        "https://caldav.fastmail.com/dav/",
        "alex@brightpath.example",
        "",  # no command: type the secret now
        "app-password-typed",
        "Personal, Team",  # calendars read for busy time
        "nurture",  # calendar that receives the tasks
        "n",  # no more accounts
        "Alex Morgan",
        "",  # addresses: take the guess from the usernames
        "",  # time zone: take the guess ($TZ)
    ]
    result = run(["init"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    folder = private_home / "config" / "nurture"
    data = read_toml(folder / "config.toml")
    assert data["user"]["addresses"] == ["alex@brightpath.example"]
    assert data["accounts"]["work-mail"] == {
        "connector": "imap",
        "host": "imap.fastmail.com",
        "port": 993,
        "username": "alex@brightpath.example",
        "password_command": "pass show mail/work",
    }
    assert data["accounts"]["work-cal"] == {
        "connector": "caldav",
        "url": "https://caldav.fastmail.com/dav/",
        "username": "alex@brightpath.example",
        "read_calendars": ["Personal", "Team"],
        "calendar": "nurture",
    }
    assert "app-password-typed" not in (folder / "config.toml").read_text(encoding="utf-8")
    assert "app-password-typed" not in result.output
    state = private_home / "state" / "nurture"
    stored = state / "secrets" / "work-cal.password"
    assert mode(stored) == 0o600
    assert Secrets("work-cal", {}, state).get("password") == "app-password-typed"
    work = read_toml(folder / "rules" / "work.toml")
    assert work["tasks"]["calendar"] == "work-cal"
    assert work["work"]["timezone"] == "Europe/Berlin"
    assert "calendar of account 'work-cal'" in result.output
    config = load_config(folder / "config.toml")
    assert [a.connector for a in config.accounts] == ["imap", "caldav"]


def test_two_calendars_ask_which_one_gets_tasks(
    tmp_path: Path, fake_registry: Callable[..., None]
) -> None:
    fake_registry(LocalConnector, FakeOAuth)
    config = tmp_path / "cfg" / "config.toml"
    answers = [
        "microsoft",
        "work",
        "client-123",  # client_id; client_secret is not asked
        "y",
        "local",
        "home",
        "~/Mail",
        "",
        "~/.calendars/home",
        "n",
        "Alex Morgan",
        "alex@brightpath.example",
        "UTC",
        "work",  # which calendar gets the tasks
    ]
    result = run(["--config", str(config), "init"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert read_toml(config.parent / "rules" / "work.toml")["tasks"]["calendar"] == "work"
    assert "auth microsoft work" in result.output
    assert "auth local" not in result.output


def test_secret_on_the_command_line_is_refused(
    tmp_path: Path, fake_registry: Callable[..., None]
) -> None:
    fake_registry(StrictImap)
    config = tmp_path / "cfg" / "config.toml"
    base = ["--config", str(config), "init", "--connector", "imap", "--yes"]
    base += ["--option", "host=h.example", "--option", "username=u", "--address", "u@h.example"]
    refused = run([*base, "--option", "password=hunter2"])
    assert refused.exit_code != 0
    assert "password_command" in refused.output
    assert not config.exists()
    accepted = run([*base, "--option", "password_command=pass show imap"])
    assert accepted.exit_code == 0, accepted.output
    assert read_toml(config)["accounts"]["imap"]["password_command"] == "pass show imap"


@pytest.mark.parametrize("missing", ["host", "password_command"])
def test_yes_names_a_missing_required_option(
    tmp_path: Path, fake_registry: Callable[..., None], missing: str
) -> None:
    fake_registry(StrictImap)
    config = tmp_path / "cfg" / "config.toml"
    given = {"host": "h.example", "username": "u", "password_command": "pass show imap"}
    del given[missing]
    args = ["--config", str(config), "init", "--connector", "imap", "--yes", "--address", "u@h.x"]
    for key, value in given.items():
        args += ["--option", f"{key}={value}"]
    result = run(args)
    assert result.exit_code != 0
    assert missing in result.output
    assert not config.exists()


def _answers_for(plugin: str, account: str, values: dict[str, str]) -> list[str]:
    """The answers to init's questions for one account of the installed connector `plugin`.

    Built from the connector's own Option list, so the test follows the
    connector's questions; secrets are answered with a command.
    """
    answers = [plugin, account]
    for option in registry.load(plugin).options:
        if not (option.ask or option.required):
            continue
        if option.type is bool:
            answers.append("n")
        else:
            answers.append(values.get(option.name, ""))
    return answers


def test_real_imap_and_caldav_connectors(private_home: Path) -> None:
    installed = registry.available()
    if not {"imap", "caldav"} <= set(installed):
        if os.environ.get("CI") == "true":
            pytest.fail("the imap and caldav connectors must be installed on CI")
        pytest.skip("the imap and caldav connectors are not installed")
    user = "alex@brightpath.example"
    answers = [
        *_answers_for(
            "imap",
            "mail",
            {"host": "imap.fastmail.com", "user": user, "password": "pass show mail/fastmail"},
        ),
        "y",
        *_answers_for(
            "caldav",
            "calendar",
            {
                "url": "https://caldav.fastmail.com/",
                "user": user,
                "password": "pass show dav/fastmail",
                "calendars": "Personal, Work",
                "calendar": "nurture",
            },
        ),
        "n",
        "Alex Morgan",
        "",  # addresses: the login name is offered
        "UTC",
    ]
    # The hosts are real names but no test may reach them: this test is about the questions.
    result = run(["init", "--no-check"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    folder = private_home / "config" / "nurture"
    config = load_config(folder / "config.toml")
    assert config.addresses == (user,)
    mail, calendar = config.accounts
    assert (mail.connector, mail.options["password_command"]) == ("imap", "pass show mail/fastmail")
    assert calendar.connector == "caldav"
    assert calendar.options["password_command"] == "pass show dav/fastmail"
    assert load_rules(config.rules_dir).tasks.calendar == "calendar"


# ---- signing in before anything is written ------------------------------------------


class _Source(MailSource):
    def __init__(self, password: str | None) -> None:
        self.password = password

    def changes(self, cursor: str | None, since: datetime) -> Iterator[MailBatch]:
        if self.password != "right horse":
            raise AuthError("LOGIN failed: wrong password", "nurture auth imap mail")
        yield MailBatch(cursor="1")

    def bodies(self, ids: Sequence[str]) -> Iterator[tuple[str, Body]]:
        return iter(())


class CheckedImap(FakeImap):
    """FakeImap whose mail source refuses every password but "right horse"."""

    def mail(self) -> MailSource:
        return _Source(self.context.secret("password"))


def _imap_answers(password: str) -> list[str]:
    return ["imap", "mail", "imap.example", "", "alex@brightpath.example", "", password]


def test_init_signs_in_before_writing_and_offers_a_retry(
    private_home: Path, fake_registry: Callable[..., None]
) -> None:
    fake_registry(CheckedImap)
    answers = [
        *_imap_answers("wrong horse"),
        "r",  # try again: every question once more, with the answers given as defaults
        "",  # host: as before
        "",  # port
        "",  # username
        "",  # no command: type it
        "right horse",
        "n",  # no more accounts
        "Alex Morgan",
        "",
        "",
    ]
    result = run(["init"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "Could not sign in to mail: LOGIN failed: wrong password" in result.output
    assert "Signed in to mail: it works." in result.output
    state = private_home / "state" / "nurture"
    assert Secrets("mail", {}, state).get("password") == "right horse"
    data = read_toml(private_home / "config" / "nurture" / "config.toml")
    assert data["accounts"]["mail"]["host"] == "imap.example"


def test_init_quits_after_a_failed_sign_in_without_writing(
    private_home: Path, fake_registry: Callable[..., None]
) -> None:
    fake_registry(CheckedImap)
    result = run(["init"], input="\n".join([*_imap_answers("wrong horse"), "q"]) + "\n")
    assert result.exit_code != 0
    assert "nothing was written" in result.output
    assert not (private_home / "config" / "nurture" / "config.toml").exists()
    assert not (private_home / "state" / "nurture" / "secrets").exists()  # nor the password


def test_init_with_yes_refuses_an_account_it_cannot_sign_in_to(
    tmp_path: Path, fake_registry: Callable[..., None]
) -> None:
    fake_registry(CheckedImap)
    config = tmp_path / "cfg" / "config.toml"
    args = ["--config", str(config), "init", "--connector", "imap", "--yes", "--address", "a@b.cd"]
    args += ["--option", "host=h.example", "--option", "username=u"]
    result = run([*args, "--option", "password_command=echo wrong"])
    assert result.exit_code != 0 and "--no-check" in result.output
    assert "LOGIN failed" in result.output and not config.exists()
    assert run([*args, "--option", "password_command=echo right horse"]).exit_code == 0
    assert run([*args, "--force", "--no-check", "--option", "password_command=x"]).exit_code == 0


def test_an_untested_password_is_typed_twice(
    private_home: Path, fake_registry: Callable[..., None]
) -> None:
    fake_registry(CheckedImap)
    answers = [*_imap_answers("right horse"), "right hose", "right horse", "right horse"]
    answers += ["n", "Alex Morgan", "", ""]
    result = run(["init", "--no-check"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    state = private_home / "state" / "nurture"
    assert Secrets("mail", {}, state).get("password") == "right horse"


@pytest.mark.parametrize(
    ("gecos", "login", "addresses", "expected"),
    [
        ("Alex Morgan,,,", "amorgan", (), "Alex Morgan"),
        ("root", "root", (), ""),
        ("", "root", ("alex.morgan@brightpath.example",), "Alex Morgan"),
        ("amorgan", "amorgan", ("am@brightpath.example",), ""),
    ],
)
def test_the_offered_name_is_a_full_name_never_a_login(
    monkeypatch: pytest.MonkeyPatch,
    gecos: str,
    login: str,
    addresses: tuple[str, ...],
    expected: str,
) -> None:
    entry = pwd.struct_passwd((login, "x", 1000, 1000, gecos, "/home/x", "/bin/sh"))
    monkeypatch.setattr(pwd, "getpwuid", lambda _uid: entry)
    assert guess_name(addresses) == expected
