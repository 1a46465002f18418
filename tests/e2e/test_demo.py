"""`nurture demo` as a new user runs it: every kind of nudge, none for machine mail or Cc."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from nurture.app import App
from nurture.cli import main


def test_the_demo_places_every_kind_and_nothing_for_machine_mail(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["demo", "--dir", str(tmp_path)], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "created" in first.output.splitlines()[-1]
    (day,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert "calendar written: " in first.output

    second = runner.invoke(main, ["demo", "--dir", str(tmp_path)], catch_exceptions=False)
    assert second.exit_code == 0, second.output
    assert second.output.splitlines()[-1].startswith("created 0, updated 0, removed 0")

    truth = json.loads((day / "truth.json").read_text())
    app = App.load(day / "config.toml")
    try:
        active = {k: e for k, e in app.state.ledger().items() if e.state == "active"}
    finally:
        app.close()
    kinds = {e.kind for e in active.values()}
    assert {"reply", "follow-up", "reconnect", "recover"} <= kinds

    found = {(e.kind, e.contact) for e in active.values()}
    for expected in truth["expected"]:
        assert (expected["kind"], expected["contact"]) in found, expected

    machine = {"newsletter", "notification", "auto-reply", "bounce", "cc-only"}
    nudged = {e.detail.get("message_id") for e in active.values()}
    for negative in truth["negatives"]:
        if negative["what"] in machine and negative.get("message_id"):
            assert negative["message_id"].strip("<>") not in nudged, negative
    assert len(list((day / "calendar").glob("*.ics"))) > len(active)  # tasks beside own events


def test_a_sample_an_older_nurture_made_is_made_again(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["demo", "--dir", str(tmp_path)], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    (day,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    config = day / "config.toml"
    # An older generator wrote another first line (and kept state elsewhere).
    lines = config.read_text(encoding="utf-8").splitlines(keepends=True)
    config.write_text("# nurture demo: an older sample\n" + "".join(lines[1:]), encoding="utf-8")
    (day / "stale-file").write_text("from the old sample", encoding="utf-8")

    again = runner.invoke(main, ["demo", "--dir", str(tmp_path)], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert "Generating the sample" in again.output
    assert not (day / "stale-file").exists()
    summary = again.output.splitlines()[-1]
    assert summary.startswith("created ") and not summary.startswith("created 0,"), summary
