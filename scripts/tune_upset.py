"""How nurture's message-level concern threshold was chosen, reproducibly.

    .venv/bin/python scripts/tune_upset.py [--corpus ../shared/corpora]

Reads `enron-categories/*/` (the UC Berkeley Enron categorised messages; upset =
any of the categories bench/eval.py names), computes each message's concern density
exactly as the daemon does (the newest text the model reads, the shipped lexicon in
nurture/nlp/signals.py), and prints:

- the F1 of each candidate density threshold on a coarse grid, and the best one, which
  is what `CONCERN_DENSITY_AT_HALF` holds;
- a stratified 5-fold cross-validation (over five seeds) in which each fold is scored
  with the threshold chosen on the other four: the figure to expect on mail the
  threshold was not chosen on.

The lexicon itself is hand-written (general words of concern and argument, not words
picked from the positives), so the threshold is the only thing fitted here.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import eval as corpus_eval
import train_linear

from nurture.model import Body
from nurture.nlp import (
    model_text,
    signals,
)
from nurture.nlp.text import body_text, newest_lines

GRID = [step / 100 for step in range(20, 81)]


def best_threshold(truth: list[bool], density: list[float]) -> tuple[float, float]:
    best_f1, best_t = -1.0, GRID[0]
    for threshold in GRID:
        f1 = train_linear.prf(truth, [d >= threshold for d in density])[2]
        if f1 > best_f1:
            best_f1, best_t = f1, threshold
    return best_t, best_f1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpora"))
    args = parser.parse_args()
    truth: list[bool] = []
    density: list[float] = []
    files = sorted((args.corpus / "enron-categories").glob("*/*.cats"))
    for cats in files:
        raw = cats.with_suffix(".txt").read_bytes()
        truth.append(bool(corpus_eval.labels_of(cats) & corpus_eval.UPSET_CATEGORIES))
        text = model_text(newest_lines(body_text(Body(raw=raw))))
        density.append(signals.concern_density(text))
    if not truth:
        print(f"no enron-categories under {args.corpus}", file=sys.stderr)
        return 1
    threshold, f1 = best_threshold(truth, density)
    p, r, _ = train_linear.prf(truth, [d >= threshold for d in density])
    digest = corpus_eval.labels_digest(files)
    print(f"{len(truth)} messages, {sum(truth)} upset; labels digest {digest}")
    print(f"best threshold {threshold:.2f}: precision {p:.3f} recall {r:.3f} F1 {f1:.3f}")
    print(f"shipped CONCERN_DENSITY_AT_HALF = {signals.CONCERN_DENSITY_AT_HALF}")
    scores = []
    for seed in (13, 7, 99, 3, 5):
        predicted = [False] * len(truth)
        for fold in train_linear.folds(truth, 5, seed):
            held = set(fold)
            train = [i for i in range(len(truth)) if i not in held]
            t, _ = best_threshold([truth[i] for i in train], [density[i] for i in train])
            for i in fold:
                predicted[i] = density[i] >= t
        scores.append(train_linear.prf(truth, predicted))
    print(
        "5-fold cross-validation, 5 seeds: "
        f"precision {statistics.mean(s[0] for s in scores):.3f} "
        f"recall {statistics.mean(s[1] for s in scores):.3f} "
        f"F1 {statistics.mean(s[2] for s in scores):.3f} "
        f"(range {min(s[2] for s in scores):.3f}-{max(s[2] for s in scores):.3f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
