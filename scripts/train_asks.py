"""Train the ask classifier shipped as nurture/data/nlp/asks.json.

    .venv/bin/python scripts/train_asks.py --tsv ../shared/corpora/intent/parakweet-train.tsv

Data: ParakweetLabs/EmailIntentDataSet (Apache-2.0), sentences from Enron mail labelled
Yes when they request or propose something of the reader. The script tags each sentence
with the same spaCy pipeline the daemon uses, turns it into the named features of
`nurture.nlp.signals.ask_features`, reports stratified 5-fold cross-validation (each
fold's threshold chosen without seeing it), then fits on all the data and writes the
weights. Deterministic: the same data gives the same file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_linear

from nurture.nlp import _sentences
from nurture.nlp.classifier import LinearModel
from nurture.nlp.signals import ask_features, is_boilerplate

OUT = Path(__file__).resolve().parent.parent / "nurture" / "data" / "nlp" / "asks.json"
PRECISION_FLOOR = 0.86
# Mail has fewer asks than this training file (47% of its sentences ask): the held-out
# Parakweet test file has 31%, as the issue measuring it states. The threshold is chosen
# for precision at that share (positives weighted down, a Bayes prior shift), so a
# sentence must be surer to count as an ask than in-sample balance would demand.
TARGET_PRIOR = 0.31
FIT: dict[str, Any] = {"l2": 2.0, "steps": 300, "min_count": 2}


def load(tsv: Path) -> tuple[list[str], list[bool]]:
    sentences, labels = [], []
    for line in tsv.read_text(encoding="utf-8", errors="replace").splitlines():
        label, sep, sentence = line.partition("\t")
        if sep and label.strip() in {"Yes", "No"} and sentence.strip():
            sentences.append(sentence.strip())
            labels.append(label.strip() == "Yes")
    return sentences, labels


def featurise(sentences: list[str]) -> tuple[list[list[str]], list[bool]]:
    """The features of each sentence, and whether the rules veto it as the daemon would."""
    examples = []
    veto = []
    for text, parts in zip(sentences, _sentences(sentences, ""), strict=True):
        words = tuple(w for p in parts for w in p.words)
        tags = tuple(t for p in parts for t in p.tags)
        examples.append(ask_features(text, tags, words))
        veto.append(is_boilerplate(text, tags, words))
    return examples, veto


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tsv", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    sentences, labels = load(args.tsv)
    examples, veto = featurise(sentences)
    choose = train_linear.precision_floor_threshold(PRECISION_FLOOR, TARGET_PRIOR)
    cv = train_linear.cross_validate(examples, labels, choose, veto=veto, prior=TARGET_PRIOR, **FIT)
    print(f"5-fold CV: {cv}")
    oof = train_linear.out_of_fold(examples, labels, 5, **FIT)
    threshold = choose(labels, [0.0 if v else s for v, s in zip(veto, oof, strict=True)])
    fitted = train_linear.fit(examples, labels, **FIT)  # type: ignore[arg-type]
    model = LinearModel(
        name="asks",
        weights=fitted.weights,
        bias=fitted.bias,
        threshold=round(threshold, 3),
        meta={
            "data": "ParakweetLabs/EmailIntentDataSet parakweet-train.tsv (Apache-2.0)",
            "data_sha256": hashlib.sha256(args.tsv.read_bytes()).hexdigest(),
            "examples": len(labels),
            "cross_validation": cv,
            "fit": FIT,
            "precision_floor": PRECISION_FLOOR,
            "precision_floor_at_prior": TARGET_PRIOR,
            "script": "scripts/train_asks.py",
        },
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model.to_json(), indent=0, sort_keys=False) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, {len(fitted.weights)} weights)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
