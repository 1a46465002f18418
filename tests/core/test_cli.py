"""`nurture sync`, `list`, `explain` and `dismiss` as a user reads them: short ids, one
vocabulary, times in the user's zone, and a dry run that says what it would do."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from nurture.cli import main
from nurture.cli.keys import digits, resolve, short_ids
from nurture.errors import UserError

from .conftest import NOW, Setup

ID = re.compile(r"│ ([0-9a-f]{7,}) ")


def nurture(setup: Setup, *args: str, width: int = 160) -> Result:
    return CliRunner().invoke(
        main,
        ["--config", str(setup.root / "config.toml"), *args],
        env={"COLUMNS": str(width)},
        catch_exceptions=False,
    )


def synced(setup: Setup, *args: str) -> Result:
    result = nurture(setup, "sync", "--now", NOW.isoformat(), *args)
    assert result.exit_code == 0, result.output
    return result


def test_short_ids_are_unique_prefixes_that_grow_only_when_two_share_a_start() -> None:
    keys = [f"reply:m{n}@test.example" for n in range(3000)]
    full = {k: digits(k) for k in keys}
    ids = short_ids(keys, minimum=3)
    assert len(set(ids.values())) == len(keys)
    starts = Counter(v[:n] for v in full.values() for n in range(3, 8))
    for key, short in ids.items():
        assert full[key].startswith(short)
        assert len(short) == 3 or starts[short[:-1]] > 1  # one digit fewer: ambiguous
    assert {len(v) for v in short_ids(keys).values()} == {7}  # few keys: seven digits
    assert resolve(short_ids(keys)[keys[5]], keys) == keys[5]


def test_a_prefix_that_fits_several_or_none_is_a_clear_error() -> None:
    keys = ["reply:a@x.example", "reply:b@x.example"]
    with pytest.raises(UserError) as many:
        resolve("reply:", keys, {"reply:a@x.example": "Reply to A"})
    text = str(many.value)
    assert "fits 2 suggestions" in text and "Reply to A" in text
    assert all(short_ids(keys)[k] in text for k in keys)
    with pytest.raises(UserError, match="no suggestion 'zzz'"):
        resolve("zzz", keys)


def test_list_shows_short_ids_that_explain_and_dismiss_accept(setup: Setup) -> None:
    mid = setup.ask(days_ago=4)
    table = synced(setup).output
    (short,) = ID.findall(table)
    assert len(short) == 7 and f"reply:{mid}" not in table
    listed = nurture(setup, "list")
    assert ID.findall(listed.output) == [short] and f"reply:{mid}" not in listed.output
    explained = nurture(setup, "explain", short)
    assert explained.exit_code == 0, explained.output
    assert f"reply:{mid}" in explained.output and "Renewal pricing" in explained.output
    gone = nurture(setup, "dismiss", short[:5])
    assert gone.exit_code == 0 and f"dismissed {short}" in gone.output
    assert "Renewal pricing" in gone.output
    assert setup.ledger()[f"reply:{mid}"] == "dismissed"
    unknown = nurture(setup, "explain", "0000000")
    assert unknown.exit_code == 2 and "no suggestion '0000000'" in unknown.output


def test_every_listing_names_kinds_as_the_readme_does(setup: Setup) -> None:
    setup.mail(
        sender="Alex Morgan <alex@brightpath.example>",
        to="Sam Ortiz <sam@client.example>",
        subject="Launch date",
        body="Hi Sam,\n\nWhen do you plan to launch the app?",
        date=NOW - timedelta(days=9),
        sent=True,
    )
    for output in (synced(setup).output, nurture(setup, "list").output):
        assert "follow up" in output and "follow-up" not in output


def test_a_dry_run_says_what_it_would_do_and_names_what_it_would_dismiss(setup: Setup) -> None:
    setup.ask(days_ago=4)
    plan = synced(setup, "--dry-run").output
    assert "would create" in plan and "Renewal pricing" in plan
    assert plan.splitlines()[-1].startswith("would create 1,")
    assert "created" not in plan
    synced(setup)
    (path,) = setup.calendar.glob("*.ics")
    path.unlink()  # the user deletes the task
    plan = synced(setup, "--dry-run").output
    (line,) = [x for x in plan.splitlines() if "would dismiss" in x]
    assert "Renewal pricing" in line and "deleted from the calendar" in line


def _in_chicago(setup: Setup) -> None:
    (setup.root / "rules" / "work.toml").write_text('[work]\ntimezone = "America/Chicago"\n')


def test_explain_shows_times_in_the_users_zone_and_an_address_without_a_blank_name(
    setup: Setup,
) -> None:
    _in_chicago(setup)
    mid = setup.ask(who="dana@client.example", days_ago=4)
    synced(setup)
    out = nurture(setup, "explain", f"reply:{mid}").output
    assert "contact:" in out and "<dana@client.example>" not in out
    assert re.search(r"contact:\s+dana@client\.example", out), out
    # asked Thu 19 Nov 08:00 UTC, reply window three days: Sun 22 Nov 02:00 in Chicago
    assert re.search(r"nudge from:\s+Sun 22 Nov 02:00", out), out
    assert "T08:00" not in out


def test_list_upcoming_shows_a_fresh_ask_and_when_it_comes_due(setup: Setup) -> None:
    _in_chicago(setup)
    setup.ask(days_ago=1)  # inside its three-day reply window: no task yet
    assert synced(setup).output.splitlines()[-1].startswith("created 0,")
    listed = nurture(setup, "list")
    assert "No pending suggestions." in listed.output and "--upcoming" in listed.output
    out = nurture(setup, "list", "--upcoming", "--now", NOW.isoformat()).output
    # asked Sun 22 Nov 08:00 UTC: due Wed 25 Nov 08:00 UTC, 02:00 in Chicago
    assert "Wed 25 Nov 02:00" in out and "reply" in out and "Renewal pricing" in out
    assert "reply window of tier" in out


def test_the_demo_says_how_to_go_on_in_lines_that_work_as_printed(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["demo", "--dir", str(tmp_path)], env={"COLUMNS": "60"}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    commands = [x.strip() for x in lines if "--config" in x]
    assert len(commands) == 3, lines
    for command in commands:  # whole lines, never cut at 60 columns
        assert command.split()[-1] in ("list", "status") or " explain " in command
        assert command.endswith("config.toml list") or "config.toml " in command
    shown = set(ID.findall(result.output))
    assert commands[1].split()[-1] in shown
    assert "follow-up" not in result.output and "follow up" in result.output


def test_dismiss_refuses_a_prefix_that_fits_several_and_dismisses_nothing(setup: Setup) -> None:
    setup.ask(days_ago=5, subject="Renewal pricing")
    setup.ask("Sam Ortiz <sam@client.example>", days_ago=4, subject="Contract draft")
    synced(setup)  # two senders: one sender's same text twice is one matter (detect)
    refused = nurture(setup, "dismiss", "reply:")
    assert refused.exit_code == 2 and "fits 2 suggestions" in refused.output
    assert set(setup.ledger().values()) == {"active"}
    ahead = nurture(setup, "dismiss", "reply:later@client.example")  # not seen yet
    assert ahead.exit_code == 0 and "not on the calendar" in ahead.output
    assert setup.ledger()["reply:later@client.example"] == "dismissed"
