"""What detection keeps in state and config: signals it reads later, the evidence
lifecycle, the personal model's table, shared inboxes, windows the user chose."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from nurture.config import load_config
from nurture.errors import UserError
from nurture.model import Ask, Commitment, LedgerEntry, LedgerState, Signals
from nurture.rules import check_rules, default_rules_dir
from nurture.state import MIGRATIONS, State, signals_from_json, signals_to_json

from .letters import NOW


def test_signals_keep_the_chaser_fingerprints_and_addressee() -> None:
    sig = Signals(
        asks=(Ask("Could you call me back?", 0.8),),
        commitments=(Commitment("I'll send it Friday.", NOW, 0.9),),
        upset=0.6,
        chaser=1.0,
        fingerprint="0123456789abcdef",
        sentence_keys=("a1b2c3d4e5f6",),
        addressee="maureen@client.example",
        version="nlp-x",
    )
    assert signals_from_json(signals_to_json(sig), "nlp-x") == sig


def test_the_text_hash_is_stored_under_its_old_name() -> None:
    """Signals written before `Signals.digest` became `text_hash` still read back,
    and new ones are written the same way (the key "digest" is kept)."""
    old = json.dumps({"digest": "0123456789abcdef"})
    assert signals_from_json(old, "v").text_hash == "0123456789abcdef"
    assert json.loads(signals_to_json(Signals(text_hash="fedcba9876543210")))["digest"] == (
        "fedcba9876543210"
    )


def test_cleared_sentences_keep_their_keys(tmp_path: Path) -> None:
    state = State.open(tmp_path)
    sig = Signals(asks=(Ask("Could you call me back?", 0.8),), sentence_keys=("k1",), version="v")
    state.store_signals([("a@x", sig), ("b@x", sig)])
    state.forget_evidence({"b@x"})
    cleared = state.signals_of("a@x")
    assert cleared is not None and cleared.asks == (Ask("", 0.8),)
    assert cleared.sentence_keys == ("k1",)
    assert state.signals_of("b@x") == sig
    state.close()


def _entry(state: LedgerState, evidence: str) -> LedgerEntry:
    return replace(
        LedgerEntry.new("recover:m1@x", "uid", NOW, state=state),
        title='Call Dana Lee — upset: "This is not what we agreed on at all, and I am…"',
        detail={
            "evidence": evidence,
            "why": f'On Mon you promised Dana: "{evidence}" and have not written since.',
        },
    )


SENTENCE = "This is not what we agreed on at all, and I am tired of asking again."


def test_an_active_nudge_keeps_its_sentence_and_an_ended_one_loses_it(tmp_path: Path) -> None:
    state = State.open(tmp_path)
    state.put_ledger(_entry(LedgerState.ACTIVE, SENTENCE), "placed", NOW)
    assert state.ledger()["recover:m1@x"].detail["evidence"] == SENTENCE
    for ended in (LedgerState.RESOLVED, LedgerState.DISMISSED, LedgerState.DONE):
        state.put_ledger(_entry(ended, SENTENCE), str(ended), NOW)
        entry = state.ledger()["recover:m1@x"]
        assert entry.detail["evidence"] == ""
        assert "agreed on" not in entry.title + entry.detail["why"]
    state.close()


def test_the_migration_clears_the_sentences_of_nudges_that_ended(tmp_path: Path) -> None:
    path = tmp_path / State.FILE
    db = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:3], start=1):
        db.executescript(script)
        db.execute(f"PRAGMA user_version = {number}")
    for key, state in (("reply:a", "resolved"), ("reply:b", "active"), ("reply:c", "dismissed")):
        db.execute(
            "INSERT INTO ledger VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                key,
                "reply",
                "",
                "u",
                state,
                "",
                None,
                None,
                "",
                "",
                "",
                json.dumps({"evidence": "Could you call me?", "why": "w"}),
                0,
                0,
            ),
        )
    db.commit()
    db.close()
    state = State.open(tmp_path)
    ledger = state.ledger()
    assert state.schema_version == len(MIGRATIONS)
    assert ledger["reply:a"].detail["evidence"] == "" == ledger["reply:c"].detail["evidence"]
    assert ledger["reply:b"].detail["evidence"] == "Could you call me?"
    assert state.personal("personal") is None
    state.store_personal("personal", NOW, '{"version": 1}')
    assert state.personal("personal") == (NOW, '{"version": 1}')
    state.close()


def _config(tmp_path: Path, user: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[user]\nname = "Alex Morgan"\n{user}\n'
        '[accounts.mail]\nconnector = "local"\nmaildir = "mail"\n'
    )
    (tmp_path / "mail").mkdir(exist_ok=True)
    return path


def test_shared_inboxes_are_read_from_config(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        'addresses = ["alex@brightpath.example"]\nshared = ["Support@Brightpath.example"]',
    )
    assert load_config(path).shared == ("support@brightpath.example",)
    bad = _config(tmp_path, 'addresses = ["alex@brightpath.example"]\nshared = "support"')
    with pytest.raises(UserError) as caught:
        load_config(bad)
    (problem,) = caught.value.problems
    assert "shared" in problem.where and "config.toml:4" in problem.where
    assert "list of mail addresses" in problem.what


def test_a_reply_window_the_users_file_changes_is_chosen_and_a_copied_one_is_not(
    tmp_path: Path,
) -> None:
    shipped = (default_rules_dir() / "tiers.toml").read_text()
    (tmp_path / "tiers.toml").write_text(shipped)  # what `nurture init` copies
    book, problems = check_rules(tmp_path)
    assert not problems
    assert not any(t.reply_chosen or t.follow_up_chosen for t in book.tiers.values())
    (tmp_path / "tiers.toml").write_text(shipped + '\n[tiers.vip]\nreply_within = "4h"\n')
    (tmp_path / "zz.toml").write_text('[tiers.key]\nreply_within = "6h"\n')  # read last
    book, _ = check_rules(tmp_path)
    assert book.tiers["key"].reply_chosen and book.tiers["key"].reply_within == timedelta(hours=6)
    assert not book.tiers["key"].follow_up_chosen
    assert book.tiers["vip"].reply_chosen and not book.tiers["default"].reply_chosen
    (tmp_path / "zz.toml").write_text('[tiers.key]\nreply_within = "1d"\n')  # shipped again
    assert not check_rules(tmp_path)[0].tiers["key"].reply_chosen
