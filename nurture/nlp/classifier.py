"""A small logistic-regression scorer over named sentence features, shipped as JSON.

The weights live in ``nurture/data/nlp/<name>.json`` and are made reproducibly by
``scripts/train_asks.py`` (see ``nurture/data/nlp/README.md``). A JSON table of named
weights keeps the model small, diffable and explainable: `explain` can list the features
that pushed a sentence over the line. When the file is missing, callers fall back to the
hand-written rules.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from itertools import repeat
from typing import Any

log = logging.getLogger(__name__)

_lock = threading.Lock()
_cache: dict[str, LinearModel | None] = {}


@dataclass(frozen=True, slots=True)
class LinearModel:
    """Weights by feature name, a bias and the decision threshold chosen in training.

    `norm`: each feature of an example counts 1 / (the example's count of distinct
    features) ** norm; 0.5 gives every example's vector unit length, as a tf-idf model
    normalises it, so a long text does not score high merely for having many words.
    """

    name: str
    weights: dict[str, float]
    bias: float
    threshold: float
    meta: dict[str, Any]
    norm: float = 0.0

    def score(self, features: Iterable[str]) -> float:
        """The probability that the features describe a positive example."""
        get = self.weights.get
        # map() with a second iterable calls get(feature, 0.0) in C: twice as fast as a
        # generator on the hundred features of a window.
        if self.norm:
            distinct = features if isinstance(features, set | frozenset) else set(features)
            total = sum(map(get, distinct, repeat(0.0))) / max(1, len(distinct)) ** self.norm
        else:
            total = sum(map(get, features, repeat(0.0)))
        total += self.bias
        if total >= 0:
            return 1.0 / (1.0 + math.exp(-total))
        z = math.exp(total)
        return z / (1.0 + z)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "bias": self.bias,
            "threshold": self.threshold,
            "meta": self.meta,
            "norm": self.norm,
            "weights": dict(sorted(self.weights.items())),
        }


def load(name: str) -> LinearModel | None:
    """The shipped model `name`, read once per process; None when it is not installed."""
    with _lock:
        if name in _cache:
            return _cache[name]
        model: LinearModel | None = None
        try:
            text = (
                resources.files("nurture")
                .joinpath("data", "nlp", f"{name}.json")
                .read_text(encoding="utf-8")
            )
            data = json.loads(text)
            model = LinearModel(
                name=str(data["name"]),
                weights={str(k): float(v) for k, v in data["weights"].items()},
                bias=float(data["bias"]),
                threshold=float(data["threshold"]),
                meta=dict(data.get("meta", {})),
                norm=float(data.get("norm", 0.0)),
            )
        except FileNotFoundError:
            log.info("no shipped %s model; using rules", name)
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("shipped %s model is unreadable; using rules", name, exc_info=True)
        _cache[name] = model
        return model
