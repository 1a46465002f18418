"""The spaCy pipeline wrapper: what runs, and what happens when spaCy fails mid-batch."""

from __future__ import annotations

import gc
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


def test_numpy_blas_and_blis_give_the_same_tags_and_sentences() -> None:
    name = pipeline.default_model()
    on_blis = pipeline._load(name, numpy_blas=False)
    on_numpy = pipeline._load(name, numpy_blas=True)
    texts = [
        "Hi Alex,\n\nCould you send me the revised budget before the board meeting? "
        "I'll get back to you on the venue by Friday.\n\nThanks,\nSam",
        "We are still waiting for the signed contract, which is frustrating. "
        "Please review the draft and add your comments in the document.",
        "The shipment arrived this morning and everything looks fine. Cheers",
        "Add support for the new sensor.\n\nSigned-off-by: Sam Lee <sam@example.org>",
    ] * 3

    def read(nlp: object) -> list[list[tuple[str, str, bool]]]:
        return [
            [(t.text, t.tag_, bool(t.is_sent_start)) for t in doc]
            for doc in nlp.pipe(texts, batch_size=4)  # type: ignore[attr-defined]
        ]

    assert read(on_numpy) == read(on_blis)
    ops = [nlp.get_pipe("tok2vec").model.ops for nlp in (on_blis, on_numpy)]
    assert [o.use_blis for o in ops] == [True, False]


def test_the_loaded_model_is_kept_out_of_garbage_collections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fresh load freezes the model's objects: collections no longer walk them."""
    monkeypatch.setattr(pipeline, "_loaded", {})
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    nlp = pipeline.load()
    assert gc.get_freeze_count() > 10_000
    # The pipeline and its vocabulary are among the frozen: no generation tracks them.
    tracked = {id(o) for generation in range(3) for o in gc.get_objects(generation)}
    assert id(nlp) not in tracked and id(nlp.vocab) not in tracked
