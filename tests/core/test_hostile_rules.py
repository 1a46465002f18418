"""Hostile rule files: each is one problem naming file, line and key; none hangs or crashes.

From the hostile run: arrays nested 50,000 deep raised RecursionError, a length
of "99999999999999999999w" raised OverflowError, a horizon of "3000000d" passed
`rules check` and then crashed every sync, a symlink to /dev/zero read 2.7 GB,
and a FIFO named x.toml hung the daemon's only worker. `rules check` and the
sync must agree: whatever one reports, the other refuses.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from nurture.errors import Problem, UserError
from nurture.rules import check_rules

from .conftest import Setup

Writer = Callable[[Path], None]


def _text(text: str) -> Writer:
    return lambda path: path.write_text(text)


CASES: dict[str, tuple[Writer, str]] = {
    "deep arrays": (
        _text("[tiers.key]\nweight = 2\ncadence = " + "[" * 50_000 + "]" * 50_000 + "\n"),
        "x.toml:3 tiers.key.cadence",
    ),
    "overflowing length": (
        _text('[tasks]\nlength = "99999999999999999999w"\n'),
        "x.toml:2 tasks.length",
    ),
    "far horizon": (_text('[tasks]\nhorizon = "3000000d"\n'), "x.toml:2 tasks.horizon"),
    "far reply window": (
        _text('[tiers.key]\nreply_within = "5000w"\n'),
        "x.toml:2 tiers.key.reply_within",
    ),
    "cadence in numbers": (_text("[tiers.key]\ncadence = 1e300\n"), "x.toml:2 tiers.key.cadence"),
    "weight not a number": (_text("[tiers.key]\nweight = nan\n"), "x.toml:2 tiers.key.weight"),
    "symlink to /dev/zero": (lambda p: p.symlink_to("/dev/zero"), "x.toml: not read"),
    "fifo": (lambda p: os.mkfifo(p), "x.toml: not read"),
    "huge": (_text("# " + "x" * 2_000_000 + "\n"), "x.toml: not read"),
}


def _within(seconds: float, call: Callable[[], object]) -> object:
    """Run `call` in a thread; fail (not hang) when it does not return in time."""
    result: list[object] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            result.append(call())
        except BaseException as exc:
            failed.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if failed:
        raise failed[0]
    assert result, f"did not return within {seconds} s"
    return result[0]


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_rule_file_is_one_named_problem(setup: Setup, case: str) -> None:
    write, where = CASES[case]
    write(setup.root / "rules" / "x.toml")
    book, problems = _within(30, lambda: check_rules(setup.root / "rules"))  # type: ignore[misc]
    assert book is not None
    texts = [str(p) for p in problems]
    assert len(problems) == 1 and where in texts[0], texts
    with pytest.raises(UserError) as refused:
        _within(30, setup.app)
    assert [str(p) for p in refused.value.problems] == texts, "rules check and sync disagree"


def test_each_bounded_duration_still_takes_its_longest_sane_value(setup: Setup) -> None:
    (setup.root / "rules" / "x.toml").write_text(
        '[tasks]\nhorizon = "365d"\nlength = "1d"\nforget_after = "3650d"\n'
        '[tiers.key]\nreply_within = "52w"\ncadence = "10w"\n'
    )
    book, problems = check_rules(setup.root / "rules")
    assert problems == [], problems
    assert book.tasks.horizon.days == 365 and book.tiers["key"].reply_within.days == 364
    assert isinstance(problems, list) and all(isinstance(p, Problem) for p in problems)
