"""The spaCy pipeline wrapper: what runs, and what happens when spaCy fails mid-batch."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pytest

from nurture.model import Body
from nurture.nlp import Reader, analyse, pipeline

from .conftest import make_message


class _FailsAfter:
    """A stand-in pipeline that hands out `good` real docs, then raises (as spaCy can)."""

    def __init__(self, real: object, good: int) -> None:
        self.real = real
        self.good = good

    def pipe(self, texts: Iterable[str], batch_size: int = 1) -> Iterator[object]:
        for n, doc in enumerate(self.real.pipe(texts, batch_size=batch_size)):  # type: ignore[attr-defined]
            if n == self.good:
                raise RuntimeError("out of memory in the middle of a batch")
            yield doc


def test_a_failure_part_way_keeps_each_message_its_own_sentences(
    monkeypatch: pytest.MonkeyPatch, reader: Reader
) -> None:
    real = pipeline.load()
    monkeypatch.setattr(pipeline, "load", lambda name="": _FailsAfter(real, good=2))
    texts = [
        "Could you send the first report?",
        "The second note asks nothing.",
        "Can we meet on Thursday about the third item?",
        "Thanks, all good with the fourth.",
        "Would you sign the fifth contract by Friday?",
    ]
    result = analyse([(make_message(), Body(text=t)) for t in texts], reader)
    asked = [[a.sentence for a in s.asks] for s in result]
    assert asked == [
        [texts[0]],
        [],
        [texts[2]],
        [],
        [texts[4]],
    ]
