"""Complaints of unmet expectations, on customer messages written for this test.

`data/customer-messages.tsv` holds short messages customers write to companies, in the
project's own words: complaints (`Yes`: something paid for, ordered or promised that
did not happen, often with time or repetition) and the rest (`No`: questions, orders,
praise, plain requests). Nothing is fitted or chosen on it; it checks that the tone's
score separates the two as a reader would, and that the recover line stays precise.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from nurture.detect import UPSET_MIN
from nurture.model import UTC, Address, Body, Message
from nurture.nlp import Reader, analyse

DATA = Path(__file__).parent / "data" / "customer-messages.tsv"
SHOP = Reader(addresses=("help@example.com",), names=("Help Desk",))


def _labelled() -> tuple[list[str], list[bool]]:
    texts, labels = [], []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        label, _, text = line.partition("\t")
        texts.append(text)
        labels.append(label == "Yes")
    return texts, labels


def _scores(texts: list[str]) -> list[float]:
    items = [
        (
            Message(
                id=str(i),
                message_id=f"{i}@example.org",
                date=datetime(2026, 3, 4, 15, 0, tzinfo=UTC),
                sender=Address(f"customer{i}@example.org", "A Customer"),
                to=(Address("help@example.com"),),
                subject="",
            ),
            Body(text=text),
        )
        for i, text in enumerate(texts)
    ]
    return [s.upset for s in analyse(items, SHOP)]


def _auc(labels: list[bool], scores: list[float]) -> float:
    positives = [s for s, y in zip(scores, labels, strict=True) if y]
    negatives = [s for s, y in zip(scores, labels, strict=True) if not y]
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def test_the_set_is_balanced_and_large_enough() -> None:
    _, labels = _labelled()
    assert sum(labels) >= 60 and len(labels) - sum(labels) >= 60


def test_the_complaint_score_separates_complaints_from_the_rest() -> None:
    texts, labels = _labelled()
    assert _auc(labels, _scores(texts)) >= 0.9


def test_the_recover_line_is_precise_on_customer_messages() -> None:
    texts, labels = _labelled()
    scores = _scores(texts)
    flagged = [y for s, y in zip(scores, labels, strict=True) if s >= UPSET_MIN]
    assert len(flagged) >= 0.3 * sum(labels)
    assert sum(flagged) >= 0.8 * len(flagged)
