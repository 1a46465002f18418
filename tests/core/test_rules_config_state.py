"""Rule files, config.toml and the state store: validation with located problems, safety."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nurture.config import load_config
from nurture.errors import UserError
from nurture.model import Address, FolderRole, Message
from nurture.rules import check_rules, default_rules_dir, load_rules
from nurture.state import MIGRATIONS, State


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_every_rule_problem_is_reported_at_once_with_file_line_and_key(tmp_path: Path) -> None:
    write(
        tmp_path,
        "tiers.toml",
        '[tiers.key]\nweight = 2\nreply_withn = "1d"\n' 'follow_up_after = "soon"\n',
    )
    write(tmp_path, "contacts.toml", '[[contacts]]\nmatch = "*@x.example"\ntier = "vip"\n')
    write(tmp_path, "extra.toml", "[colours]\nred = 1\n")
    _, problems = check_rules(tmp_path)
    text = [str(p) for p in problems]
    assert any(
        "tiers.toml:3" in t and "reply_withn" in t and "did you mean 'reply_within'" in t
        for t in text
    )
    assert any("tiers.toml:4" in t and "follow_up_after" in t for t in text)
    assert any("contacts.toml:1" in t and "unknown tier 'vip'" in t for t in text)
    assert any("extra.toml:1" in t and "unknown section" in t for t in text)
    assert len(problems) == 4


def test_a_toml_syntax_error_names_its_line(tmp_path: Path) -> None:
    write(tmp_path, "work.toml", '[work]\nstart = "09:00"\nend = \n')
    _, problems = check_rules(tmp_path)
    assert len(problems) == 1 and "work.toml:3" in str(problems[0])


def test_contacts_first_match_wins_and_user_rules_come_first(tmp_path: Path) -> None:
    write(
        tmp_path,
        "contacts.toml",
        '[[contacts]]\nmatch = "ceo@acme.example"\ntier = "key"\n'
        '[[contacts]]\nmatch = ["*@ACME.example"]\ntier = "client"\n',
    )
    book = load_rules(tmp_path)
    assert book.match_contact("CEO@acme.example")[0].name == "key"
    tier, rule = book.match_contact("ops@acme.example")
    assert tier.name == "client" and rule is not None and "contacts.toml:4" in rule.where
    assert book.match_contact("who@else.example") == (book.tiers["default"], None)


def test_the_shipped_default_rules_are_valid() -> None:
    book, problems = check_rules(None)
    assert problems == []
    assert {"key", "client", "colleague", "default"} <= set(book.tiers)
    assert len(list(default_rules_dir().glob("*.toml"))) >= 3


def test_ignore_rules_match_senders_domains_and_subjects(tmp_path: Path) -> None:
    write(
        tmp_path,
        "ignore.toml",
        '[ignore]\ndomains = ["vendor.example"]\n' 'subjects = ["[jira]*"]\n',
    )
    book = load_rules(tmp_path)
    assert book.ignored(Address("a@mail.vendor.example"), "hi")
    assert book.ignored(Address("a@x.example"), "[JIRA] PROJ-1 updated")
    assert not book.ignored(Address("dana@client.example"), "Pricing")


def test_config_rejects_unknown_keys_and_secrets(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "config.toml",
        '[user]\nname = "A"\naddresses = ["a@x.example"]\ncolour = "red"\n'
        '[accounts.m]\nconnector = "local"\nmaildir = "m"\npassword = "hunter2"\n',
    )
    with pytest.raises(UserError) as info:
        load_config(path)
    text = str(info.value)
    assert "config.toml:4 user.colour" in text
    assert "unknown option" in text and "password" in text
    assert "hunter2" not in text


def test_config_without_addresses_says_what_to_do(tmp_path: Path) -> None:
    path = write(tmp_path, "config.toml", '[accounts.m]\nconnector = "local"\nmaildir = "m"\n')
    with pytest.raises(UserError, match="no addresses"):
        load_config(path)


def test_state_is_private_wal_and_migrated(tmp_path: Path) -> None:
    state = State.open(tmp_path / "s")
    try:
        mode = stat.S_IMODE(os.stat(state.path).st_mode)
        assert mode == 0o600
        assert state.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert state.schema_version == len(MIGRATIONS)
        columns = {r[1] for r in state.db.execute("PRAGMA table_info(messages)")}
        assert not columns & {"body", "text", "html", "raw"}
    finally:
        state.close()


def test_a_batch_and_its_cursor_commit_together(tmp_path: Path) -> None:
    state = State.open(tmp_path / "s")
    now = datetime(2026, 11, 23, tzinfo=UTC)
    good = Message(
        id="1", message_id="a@x", date=now, sender=Address("a@x.example"), folder=FolderRole.INBOX
    )
    bad = Message(id="2", message_id="b@x", date=now, sender=Address("b@x.example"))
    object.__setattr__(bad, "headers", {"x": object()})  # not JSON: the insert fails midway
    try:
        state.commit_batch("acct", [good], [], "cursor-1", now)
        with pytest.raises(TypeError):
            state.commit_batch("acct", [good, bad], [], "cursor-2", now)
        assert state.cursor("acct") == "cursor-1"
        assert state.message_count() == 1
    finally:
        state.close()
