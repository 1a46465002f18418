"""The demo pipeline once per session: generate, sync, reconcile, analyse the period."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nurture.app import App
from nurture.demo.generator import DemoPaths, generate
from nurture.report import gather
from nurture.report.metrics import Inputs

ANCHOR = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
PERIOD = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class Demo:
    paths: DemoPaths
    truth: dict[str, Any]
    inputs: Inputs
    placed: dict[str, str]  # key → kind of every task the first reconcile created
    dismissed: dict[str, str]  # key → rule of the nudges the test user dismissed


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp("report") / "demo"
    paths = generate(root, ANCHOR)
    if "[paths]" not in paths.config.read_text(encoding="utf-8"):  # keep state in tmp
        with paths.config.open("a", encoding="utf-8") as f:
            f.write('\n[paths]\nstate = "state"\n')
    app = App.load(paths.config)
    try:
        applied = app.sync_all(ANCHOR).calendar
        assert applied is not None
        placed = {p.suggestion.key: p.suggestion.kind.value for p in applied.placements}
        # The user deletes two nudges: the first reconnect and the first reply, by key order.
        dismissed = {}
        for kind in ("reconnect", "reply"):
            key = min(k for k, v in placed.items() if v == kind)
            dismissed[key] = next(
                p.suggestion.rule for p in applied.placements if p.suggestion.key == key
            )
            app.dismiss(key, ANCHOR)
        app.analyse_period(ANCHOR - PERIOD, ANCHOR)
        inputs = gather(app.state, app.rules, app.config.addresses)
    finally:
        app.close()
    truth = json.loads(paths.truth.read_text(encoding="utf-8"))
    yield Demo(paths, truth, inputs, placed, dismissed)
