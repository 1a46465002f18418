"""How long the personal model takes to train on a 100k-message history (target: under
10 s), and what it adds to a reconcile's detection (target: nothing measurable).

    python bench/personal_speed.py [MESSAGES]

The history is `report_speed`'s year of synthetic mail (one user, 400 contacts, threads
of one to six messages, signals for the messages the NLP would have read). Timed, each
the best of a few runs with the median beside it, and training's CPU time, which a busy
machine does not inflate: `detect.learn` (read the mail as
detection does, walk it, fit and choose by time-forward validation), loading the stored
model from its JSON, and `detect` with and without the model on the same inputs.
Building the store and reading it are not timed.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report_speed import NOW, USER, _rules, build

from nurture.contacts import Identity
from nurture.detect import LOOKBACK, Inputs, detect, learn
from nurture.personal import Personal
from nurture.state import State

MESSAGES = 100_000
TARGET_SECONDS = 10.0


def _timed(work: Any, repeat: int) -> tuple[list[float], Any]:
    """Wall times of `repeat` runs, sorted, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return sorted(times), result


def _cpu(work: Any) -> float:
    """CPU seconds of one run: what the work costs, whatever else the machine is doing."""
    start = time.process_time()
    work()
    return time.process_time() - start


def run(messages: int = MESSAGES, repeat: int = 3) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="nurture-personal-bench-") as tmp:
        folder = Path(tmp)
        build(folder, messages)
        state = State.open(folder)
        inputs = Inputs(
            messages=state.messages(since=NOW - LOOKBACK),
            signals=state.signals(),
            meetings=state.meetings(),
            rules=_rules(),
            identity=Identity((USER,), ("Alex Morgan", "Alex")),
            now=NOW,
        )
        state.close()
    train, model = _timed(lambda: learn(inputs), repeat)
    train_cpu = min(_cpu(lambda: learn(inputs)) for _ in range(repeat))
    text = model.to_json()
    load, _ = _timed(lambda: Personal.from_json(text), repeat)
    bare, plain = _timed(lambda: detect(inputs), repeat + 2)
    fitted, personal = _timed(lambda: detect(replace(inputs, personal=model)), repeat + 2)
    return {
        "messages": len(inputs.messages),
        "reply_rows": model.reply.rows if model.reply else 0,
        "follow_rows": model.follow.rows if model.follow else 0,
        "train_seconds": round(train[0], 2),
        "train_seconds_median": round(statistics.median(train), 2),
        "train_cpu_seconds": round(train_cpu, 2),
        "model_kb": round(len(text) / 1024, 1),
        "load_seconds": round(load[0], 3),
        "detect_seconds_without_model": round(bare[0], 3),
        "detect_seconds_with_model": round(fitted[0], 3),
        "detect_medians": [round(statistics.median(bare), 3), round(statistics.median(fitted), 3)],
        "suggestions": [len(plain), len(personal)],
        "load_average_1m": round(os.getloadavg()[0], 2),
        "target_seconds": TARGET_SECONDS,
        "ok": train[0] < TARGET_SECONDS,
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else MESSAGES), indent=2))
