"""`[report]` in the rule files: off by default, "fri 16:00", and every mistake named."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from nurture.rules import Weekly, check_rules, default_rules_dir


def problems_for(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "report.toml").write_text(text)
    _, problems = check_rules(tmp_path)
    return [str(p) for p in problems]


def test_the_shipped_rules_leave_it_off() -> None:
    book, problems = check_rules(None)
    assert problems == []
    assert (default_rules_dir() / "report.toml").is_file()
    assert book.report.weekly is None
    assert book.report.length == timedelta(minutes=30)
    assert book.report.since == timedelta(days=90)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fri 16:00", Weekly(4, time(16, 0))),
        ("Friday 16:00", Weekly(4, time(16, 0))),
        ("MON 7:05", Weekly(0, time(7, 5))),
        ("sunday   23:59", Weekly(6, time(23, 59))),
    ],
)
def test_a_weekday_and_a_time(tmp_path: Path, text: str, expected: Weekly) -> None:
    (tmp_path / "report.toml").write_text(
        f'[report]\nweekly = "{text}"\nlength = "45m"\nsince = "12w"\n'
    )
    book, problems = check_rules(tmp_path)
    assert problems == []
    assert book.report.weekly == expected
    assert book.report.length == timedelta(minutes=45)
    assert book.report.since == timedelta(weeks=12)


def test_off_turns_a_default_file_setting_off_again(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('[report]\nweekly = "fri 16:00"\n')
    (tmp_path / "b.toml").write_text('[report]\nweekly = "off"\n')
    book, problems = check_rules(tmp_path)
    assert problems == [] and book.report.weekly is None


def test_a_misspelt_weekday_gets_a_did_you_mean(tmp_path: Path) -> None:
    (problem,) = problems_for(tmp_path, '[report]\nweekly = "fryday 16:00"\n')
    assert "report.toml:2 report.weekly" in problem
    assert "'fryday' is not a weekday" in problem
    assert "did you mean 'friday'?" in problem


def test_an_unknown_key_gets_a_did_you_mean(tmp_path: Path) -> None:
    (problem,) = problems_for(tmp_path, '[report]\nweeky = "fri 16:00"\n')
    assert "report.toml:2 report.weeky" in problem
    assert "unknown key" in problem and "did you mean 'weekly'?" in problem


def test_every_mistake_is_reported_at_once_and_the_setting_stays_off(tmp_path: Path) -> None:
    (tmp_path / "report.toml").write_text(
        "[report]\n" 'weekly = "fri 4pm"\n' 'length = "2d"\n' 'since = "soon"\n' "colour = 1\n"
    )
    book, found = check_rules(tmp_path)
    text = [str(p) for p in found]
    assert len(text) == 4, text
    assert any("report.toml:2 report.weekly" in t and "'4pm' is not a time" in t for t in text)
    assert any("report.toml:3 report.length" in t and "at most a day" in t for t in text)
    assert any("report.toml:4 report.since" in t for t in text)
    assert any("report.toml:5 report.colour" in t and "[report] takes:" in t for t in text)
    assert book.report.weekly is None  # a broken value never turns it on
    assert book.report.length == timedelta(minutes=30)


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ('"fri"', "is not a weekday and a time"),
        ("5", "is not a weekday and a time"),
        ('"fri 16:00 weekly"', "is not a weekday and a time"),
        ('"fri 24:00"', "'24:00' is not a time of day"),
        ('"fri 16:75"', "'16:75' is not a time of day"),
    ],
)
def test_values_that_are_not_a_weekly_time(tmp_path: Path, value: str, what: str) -> None:
    (problem,) = problems_for(tmp_path, f"[report]\nweekly = {value}\n")
    assert "report.toml:2 report.weekly" in problem and what in problem
    assert '"fri 16:00"' in problem  # says what to write instead


def test_report_must_be_a_table(tmp_path: Path) -> None:
    (problem,) = problems_for(tmp_path, 'report = "fri 16:00"\n')
    assert "report.toml:1 report" in problem and "must be a table" in problem


def test_the_unknown_section_hint_lists_report(tmp_path: Path) -> None:
    (problem,) = problems_for(tmp_path, '[reprot]\nweekly = "fri 16:00"\n')
    assert "unknown section" in problem and "report" in problem.split("known:")[1]
