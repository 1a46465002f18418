"""Issue 13's failure patterns through the whole pipeline (Maildir, NLP, calendar):
the why of a task that comes due later, the sentence gone once a nudge ends,
informing sentences and the user's own promises end to end, shared inboxes from
config.toml, and the personal model kept in state."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from nurture.app import PERSONAL
from nurture.cli import main
from nurture.detect import Inputs, learn
from nurture.model import LedgerState

from .conftest import NOW, USER, Setup
from .letters import DANA, IDENTITY, ME, RULES, H, asking, correspondence, letter


def _ledger_entries(setup: Setup) -> dict:
    app = setup.app()
    try:
        return app.state.ledger()
    finally:
        app.close()


def test_a_task_that_comes_due_on_a_later_run_still_quotes_its_ask(setup: Setup) -> None:
    mid = setup.ask(days_ago=1)  # the default tier's window is three days
    assert setup.sync(NOW).created == 0
    later = setup.sync(NOW + timedelta(days=3))
    (placement,) = later.placements
    assert placement.suggestion.key == f"reply:{mid}"
    assert placement.suggestion.evidence == ("Could you send me the renewal pricing for next year?")
    (task,) = setup.calendar.glob("*.ics")
    unfolded = task.read_text().replace("\r\n ", "").replace("\n ", "")
    assert "renewal pricing for next year" in unfolded


def test_a_nudge_that_ends_keeps_no_sentence(setup: Setup) -> None:
    mid = setup.ask(days_ago=4)
    setup.sync(NOW)
    entry = _ledger_entries(setup)[f"reply:{mid}"]
    assert entry.state is LedgerState.ACTIVE and "renewal pricing" in entry.detail["evidence"]
    setup.reply(mid, days_ago=0.01)
    setup.sync(NOW)
    ended = _ledger_entries(setup)[f"reply:{mid}"]
    assert ended.state is LedgerState.RESOLVED
    assert ended.detail["evidence"] == ""
    assert "renewal pricing for next year" not in str(ended.detail) + ended.title


def test_an_upset_quote_leaves_the_title_of_a_dismissed_nudge(setup: Setup) -> None:
    mid = setup.mail(
        sender="Dana Lee <dana@client.example>",
        to=f"Alex Morgan <{USER}>",
        subject="Order 1182",
        body=(
            "Alex,\n\nThis is unacceptable. I still haven't received the order and it has "
            "been three weeks. Nobody has replied to my last two emails.\n\nDana"
        ),
        date=NOW - timedelta(days=1),
    )
    setup.sync(NOW)
    entry = _ledger_entries(setup).get(f"recover:{mid}")
    assert entry is not None and entry.detail["evidence"]
    (task,) = setup.calendar.glob("*.ics")
    task.unlink()  # the user deletes it: dismissed
    setup.sync(NOW)
    ended = _ledger_entries(setup)[f"recover:{mid}"]
    assert ended.state is LedgerState.DISMISSED
    assert ended.detail["evidence"] == ""
    assert entry.detail["evidence"] not in ended.title + str(ended.detail)


def test_sentences_that_inform_make_no_reply_task(setup: Setup) -> None:
    for n, body in enumerate(
        (
            "Hi Alex,\n\nPlease see the following articles:\n\nhttps://news.example/a\n\nDana",
            "Hi Alex,\n\nPlease note - there was a small change to the agenda.\n\nDana",
            "Hi Alex,\n\nWe can expect a request for the updated figures soon.\n\nDana",
            "Hi Alex,\n\nPlease discard my last message, it went out too early.\n\nDana",
            "Hi Alex,\n\nPlease find our response inline.\n\nDana",
        )
    ):
        setup.mail(
            sender="Dana Lee <dana@client.example>",
            to=f"Alex Morgan <{USER}>",
            subject=f"Update {n}",
            body=body,
            date=NOW - timedelta(days=4),
        )
    patch = (
        "Add support for the period rounding in the pwm driver.\n\n"
        "Implement the apply() for pwm so that the duty cycle is kept.\n\n"
        "Signed-off-by: Dana Lee <dana@client.example>\n---\n"
        " drivers/pwm/core.c | 2 +-\n"
    )
    setup.mail(
        sender="Dana Lee <dana@client.example>",
        to=f"Alex Morgan <{USER}>",
        subject="[PATCH] pwm: keep the duty cycle",
        body=patch,
        date=NOW - timedelta(days=4),
    )
    report = setup.sync(NOW)
    assert [p.suggestion.key for p in report.placements if p.suggestion.kind == "reply"] == []


def test_the_users_own_promise_is_not_a_question_to_follow_up(setup: Setup) -> None:
    setup.mail(
        sender=f"Alex Morgan <{USER}>",
        to="Sam Ortiz <sam@other.example>",
        subject="Supplier",
        body="Hi Sam,\n\nI'll ask next time I talk to him.\n\nAlex",
        date=NOW - timedelta(days=9),
        sent=True,
    )
    report = setup.sync(NOW)
    assert not [p for p in report.placements if p.suggestion.key.startswith("follow-up:")]


def test_mail_to_a_shared_inbox_named_in_config_is_the_users(tmp_path: Path) -> None:
    setup = Setup(tmp_path, rules='[[contacts]]\nmatch = "*@client.example"\ntier = "client"\n')
    config = setup.root / "config.toml"
    config.write_text(
        config.read_text().replace(
            f'addresses = ["{USER}"]',
            f'addresses = ["{USER}"]\nshared = ["support@brightpath.example"]',
        )
    )
    mid = setup.mail(
        sender="Dana Lee <dana@client.example>",
        to="Support <support@brightpath.example>",
        subject="Login fails",
        body="Hello,\n\nCould you reset my password for the portal?\n\nDana\n\n"
        "-- \nTo unsubscribe from this group, send an email to support+leave@lists.example\n",
        date=NOW - timedelta(days=3),
        headers={"List-Id": "<support.brightpath.example>", "Precedence": "list"},
    )
    report = setup.sync(NOW)
    assert [p.suggestion.key for p in report.placements] == [f"reply:{mid}"]
    setup.mail(
        sender="Priya Shah <priya@brightpath.example>",
        to="Dana Lee <dana@client.example>",
        cc="Support <support@brightpath.example>",
        subject="Re: Login fails",
        body="Done: check your mail for the reset link.\n\nPriya",
        date=NOW + timedelta(hours=1),
        reply_to=mid,
    )
    assert setup.sync(NOW + timedelta(hours=2)).removed == 1


def test_the_personal_model_is_trained_at_the_first_sync_and_daily(setup: Setup) -> None:
    messages, signals = correspondence()
    app = setup.app()
    try:
        app.state.commit_batch("mail", messages, [], "", NOW)
        app.state.store_signals(signals.items())
        assert app.state.personal(PERSONAL) is None
        app.reconcile(NOW)
        trained, _ = app.state.personal(PERSONAL) or (None, "")
        assert trained == NOW
        app.reconcile(NOW + timedelta(hours=5))
        assert (app.state.personal(PERSONAL) or (None,))[0] == NOW  # not a day old yet
        app.reconcile(NOW + timedelta(days=1))
        assert (app.state.personal(PERSONAL) or (None,))[0] == NOW + timedelta(days=1)
    finally:
        app.close()
    assert learn(Inputs(messages, signals, (), RULES, IDENTITY, NOW)).reply is not None


def test_explain_names_what_carried_a_learned_nudge(setup: Setup) -> None:
    messages, signals = correspondence()
    late = letter(DANA, ME, NOW - 20 * H, subject="Order late")
    app = setup.app()
    try:
        app.state.commit_batch("mail", [*messages, late], [], "", NOW)
        app.state.store_signals([*signals.items(), (late.message_id, asking())])
        app.reconcile(NOW)
    finally:
        app.close()
    shown = CliRunner().invoke(
        main,
        ["--config", str(setup.root / "config.toml"), "explain", f"reply:{late.message_id}"],
        catch_exceptions=False,
    )
    assert shown.exit_code == 0, shown.output
    assert re.search(r"learned:\s+needs your reply: \d+%", shown.output)
    assert re.search(r"because:\s+you answer Dana Lee within", shown.output)


def test_a_snoozed_reply_task_keeps_the_users_time_when_the_person_writes_again(
    setup: Setup,
) -> None:
    first = setup.ask(days_ago=4)
    setup.sync(NOW)
    (path,) = setup.calendar.glob("*.ics")
    text = path.read_text()
    start = re.search(r"DTSTART:(\S+)", text).group(1)  # type: ignore[union-attr]
    end = re.search(r"DTEND:(\S+)", text).group(1)  # type: ignore[union-attr]
    path.write_text(  # the user moves it to Friday afternoon: "not before then"
        text.replace(f"DTSTART:{start}", "DTSTART:20261127T150000Z").replace(
            f"DTEND:{end}", "DTEND:20261127T152000Z"
        )
    )
    setup.sync(NOW)  # the move is seen
    second = setup.ask(days_ago=3, subject="Contract dates")
    report = setup.sync(NOW + timedelta(hours=1))
    assert (report.created, report.removed) == (1, 1)  # the task moved to the newer message
    live = {k for k, e in _ledger_entries(setup).items() if e.state is LedgerState.ACTIVE}
    assert live == {f"reply:{second}"}
    (path,) = setup.calendar.glob("*.ics")
    text = path.read_text().replace("\r\n ", "").replace("\n ", "")
    assert 'wait with it: "Renewal pricing"' in text  # the first message waits with it
    assert "DTSTART:20261127T150000Z" in text  # at the time the user chose
    assert f"reply:{first}" in _ledger_entries(setup)
