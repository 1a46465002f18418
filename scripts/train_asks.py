"""Train the ask classifier shipped as nurture/data/nlp/asks.json.

    .venv/bin/python scripts/train_asks.py --tsv ../shared/corpora/intent/parakweet-train.tsv

Data: ParakweetLabs/EmailIntentDataSet (Apache-2.0), sentences from Enron mail labelled
Yes when they request or propose something of the reader. The script tags each sentence
with the same spaCy pipeline the daemon uses, turns it into the named features of
`nurture.nlp.signals.ask_features`, reports nested stratified 5-fold cross-validation
(each fold's feature set, regularisation and threshold chosen without seeing it), then
chooses them on all the data the same way, fits and writes the weights. No rule vetoes
anything here: the classifier scores whether a sentence requests something of the
reader, as the labels say; which asks wait on a reply is decided later, by
`nurture.nlp.signals.awaits_reply`. Deterministic: the same data gives the same file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_linear

from nurture.nlp import _sentences
from nurture.nlp.classifier import LinearModel
from nurture.nlp.signals import ask_features

OUT = Path(__file__).resolve().parent.parent / "nurture" / "data" / "nlp" / "asks.json"
# The threshold is the best-F1 one whose out-of-fold precision reaches this, as if
# `TARGET_PRIOR` of the sentences asked. Nested cross-validation kept the outer
# precision at 0.869 with 0.85 here (0.876 with 0.86, for less recall).
PRECISION_FLOOR = 0.85
# Mail has fewer asks than this training file (47% of its sentences ask): the held-out
# Parakweet test file has 31%, as the issue measuring it states. The threshold is chosen
# for precision at that share (positives weighted down, a Bayes prior shift), so a
# sentence must be surer to count as an ask than in-sample balance would demand.
TARGET_PRIOR = 0.31
# Features added to the words, pairs and openings of round 2 ("words"): triples, clause
# openings, verbs and the first three tags. Prefixes, tag pairs and skip pairs, and the
# tagger's token vectors, added at most 0.003 of cross-validated AUC and were left out.
_ADDED = ("t:", "cl:", "clt:", "vbw:", "tag012:")
STEPS = 300
GRID = [
    train_linear.Setting(variant, {"l2": l2, "steps": STEPS, "min_count": 2, "nb_alpha": nb})
    for variant in ("words", "full")
    for l2 in (1.0, 2.0, 4.0, 8.0)
    for nb in (0.0, 0.5)
]


def load(tsv: Path) -> tuple[list[str], list[bool]]:
    sentences, labels = [], []
    for line in tsv.read_text(encoding="utf-8", errors="replace").splitlines():
        label, sep, sentence = line.partition("\t")
        if sep and label.strip() in {"Yes", "No"} and sentence.strip():
            sentences.append(sentence.strip())
            labels.append(label.strip() == "Yes")
    return sentences, labels


def featurise(sentences: list[str]) -> dict[str, list[list[str]]]:
    """The features of each sentence, as the daemon computes them ("full"), and without
    the later additions ("words"), for the nested choice between them."""
    full = []
    for text, parts in zip(sentences, _sentences(sentences, ""), strict=True):
        words = tuple(w for p in parts for w in p.words)
        tags = tuple(t for p in parts for t in p.tags)
        full.append(ask_features(text, tags, words))
    words_only = [[f for f in ex if not f.startswith(_ADDED)] for ex in full]
    return {"words": words_only, "full": full}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tsv", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    sentences, labels = load(args.tsv)
    variants = featurise(sentences)
    choose = train_linear.precision_floor_threshold(PRECISION_FLOOR, TARGET_PRIOR)
    cv = train_linear.cross_validate(variants, labels, choose, GRID, prior=TARGET_PRIOR)
    print(f"nested 5-fold CV: {cv}")
    setting, oof = train_linear.select(variants, labels, GRID, 5)
    if setting.variant != "full":
        raise SystemExit(f"cross-validation chose {setting}: the daemon computes 'full'")
    threshold = choose(labels, oof)
    fitted = train_linear.fit(variants["full"], labels, **setting.fit)  # type: ignore[arg-type]
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
            "fit": setting.fit,
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
