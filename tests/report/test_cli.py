"""`nurture report` in the terminal and with --html, on the demo."""

from __future__ import annotations

import stat
from pathlib import Path

from click.testing import CliRunner

from nurture.cli import main

from .conftest import ANCHOR, Demo


def invoke(demo: Demo, *args: str, width: int = 120) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        ["--config", str(demo.paths.config), "report", "--now", ANCHOR.isoformat(), *args],
        env={"COLUMNS": str(width)},
    )
    return result.exit_code, result.output


def test_terminal_report_has_the_summary_on_top_and_every_section(demo: Demo) -> None:
    code, out = invoke(demo, "--no-analyse")
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


def test_html_writes_a_private_file_and_says_where_in_one_line(demo: Demo, tmp_path: Path) -> None:
    page = tmp_path / "out" / "report.html"
    code, out = invoke(demo, "--no-analyse", "--html", str(page))
    assert code == 0, out
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert stat.S_IMODE(page.stat().st_mode) == 0o600  # names and subjects of your mail
    assert out.splitlines() == [f"HTML report written to {page}"]  # not the whole report


HEADERS = {
    "You owe a reply": ("contact", "tier", "subject", "asked", "waiting"),
    "Promises": ("contact", "subject", "made", "due", "kept", "status"),
    "Keep in touch": ("contact", "tier", "cadence", "learned", "last", "since", "status"),
    "nurture's record": (
        "kind",
        "placed",
        "done",
        "dismissed",
        "snoozed",
        "resolved",
        "rate",
        "cause",
    ),
}


def test_at_80_columns_no_header_is_cut(demo: Demo) -> None:
    code, out = invoke(demo, "--no-analyse", width=80)
    assert code == 0, out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    for title, headers in HEADERS.items():
        start = next(i for i, line in enumerate(lines) if line.startswith(title))
        header = next(line for line in lines[start + 1 :] if line.split()[:1] == [headers[0]])
        assert header.split() == list(headers), (title, header)
    assert "follow up" in out and "follow-up" not in out  # the README's word for the kind


def test_one_tier_and_an_unknown_tier(demo: Demo) -> None:
    code, out = invoke(demo, "--no-analyse", "--tier", "key")
    assert code == 0 and "tier key" in out.splitlines()[0]
    code, out = invoke(demo, "--no-analyse", "--tier", "nobody")
    assert code == 2 and "no tier named 'nobody'" in out


def test_a_bad_period_is_refused(demo: Demo) -> None:
    code, out = invoke(demo, "--since", "lately")
    assert code == 2 and "--since" in out
