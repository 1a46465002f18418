"""`nurture report` in the terminal and with --html, on the demo."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from nurture.cli import main

from .conftest import ANCHOR, Demo


def invoke(demo: Demo, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        ["--config", str(demo.paths.config), "report", "--now", ANCHOR.isoformat(), *args],
    )
    return result.exit_code, result.output


def test_terminal_report_has_the_summary_on_top_and_every_section(
    demo: Demo, tmp_path: Path
) -> None:
    page = tmp_path / "out" / "report.html"
    code, out = invoke(demo, "--no-analyse", "--html", str(page))
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("Relationship report")
    assert "never shows message text" in lines[1]
    assert lines[2].startswith("replies: median")
    for title in (
        "Replies, debts and promises",
        "You owe a reply",
        "Waiting on others",
        "Promises",
        "Keep in touch",
        "nurture's record",
        "Weekly trend",
    ):
        assert title in out, title
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert f"HTML report written to {page}" in out.replace("\n", "")


def test_one_tier_and_an_unknown_tier(demo: Demo) -> None:
    code, out = invoke(demo, "--no-analyse", "--tier", "key")
    assert code == 0 and "tier key" in out.splitlines()[0]
    code, out = invoke(demo, "--no-analyse", "--tier", "nobody")
    assert code == 2 and "no tier named 'nobody'" in out


def test_a_bad_period_is_refused(demo: Demo) -> None:
    code, out = invoke(demo, "--since", "lately")
    assert code == 2 and "--since" in out
