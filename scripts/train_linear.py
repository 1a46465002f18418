"""Shared training code for nurture's small linear models (numpy only, deterministic).

L2-regularised logistic regression over named sparse features, trained full-batch
with Adam for a fixed number of steps from zero weights, so the same data always gives
the same model. Cross-validation is stratified with a fixed seed; settings and the decision
threshold are chosen on out-of-fold predictions of the training part only, never on the
fold that is scored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Fitted:
    weights: dict[str, float]
    bias: float
    dense: tuple[float, ...] = ()
    norm: float = 0.0


def fit(
    examples: Sequence[Sequence[str]],
    labels: Sequence[bool],
    *,
    l2: float = 1.0,
    steps: int = 400,
    min_count: int = 2,
    positive_weight: float = 1.0,
    dense: np.ndarray | None = None,
    dense_l2: float | None = None,
    norm: float = 0.0,
    nb_alpha: float = 0.0,
) -> Fitted:
    """Logistic regression weights for features seen at least `min_count` times.

    `dense` (one row per example) adds real-valued columns beside the named features;
    they are standardised while fitting (L2 `dense_l2`, default `l2`) and their weights
    are returned on the raw scale, the standardisation folded into them and the bias.

    `nb_alpha` > 0: each named feature enters scaled by `nb_scale` (how unevenly the
    classes use it, as in NBSVM, Wang and Manning 2012), so L2 holds back features that
    tell the classes apart less; the scale is folded into the returned weights.
    """
    counts = Counter(f for ex in examples for f in set(ex))
    vocab = sorted(f for f, c in counts.items() if c >= min_count)
    index = {f: i for i, f in enumerate(vocab)}
    nb = nb_scale(examples, labels, vocab, nb_alpha) if nb_alpha else np.ones(len(vocab))
    rows: list[int] = []
    cols: list[int] = []
    for r, ex in enumerate(examples):
        for f in sorted(set(ex)):
            j = index.get(f)
            if j is not None:
                rows.append(r)
                cols.append(j)
    row_arr = np.asarray(rows, dtype=np.int64)
    # `norm`: each named feature of an example counts 1 / (its feature count) ** norm
    # (0.5: the example's vector has unit length, as tf-idf models normalise).
    sizes = np.asarray([max(1, len(set(ex))) for ex in examples], dtype=np.float64)
    value = (sizes**-norm)[row_arr] if norm else np.ones(len(row_arr))
    col_arr = np.asarray(cols, dtype=np.int64)
    value = value * nb[col_arr]
    y = np.asarray(labels, dtype=np.float64)
    sample_w = np.where(y > 0, positive_weight, 1.0)
    n = len(examples)
    if dense is None:
        dense = np.zeros((n, 0))
    mean = dense.mean(axis=0) if len(dense) else np.zeros(dense.shape[1])
    scale = dense.std(axis=0) + 1e-6 if len(dense) else np.ones(dense.shape[1])
    x = ((dense - mean) / scale).astype(np.float64)
    d_l2 = l2 if dense_l2 is None else dense_l2
    w = np.zeros(len(vocab))
    u = np.zeros(x.shape[1])
    b = 0.0
    m_w = np.zeros_like(w)
    v_w = np.zeros_like(w)
    m_u = np.zeros_like(u)
    v_u = np.zeros_like(u)
    m_b = v_b = 0.0
    lr, beta1, beta2, eps = 0.05, 0.9, 0.999, 1e-8
    for t in range(1, steps + 1):
        z = np.bincount(row_arr, weights=w[col_arr] * value, minlength=n) + x @ u + b
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        err = (p - y) * sample_w
        g_w = np.bincount(col_arr, weights=err[row_arr] * value, minlength=len(vocab)) / n
        g_w += l2 * w / n
        g_u = x.T @ err / n + d_l2 * u / n
        g_b = float(err.mean())
        m_w = beta1 * m_w + (1 - beta1) * g_w
        v_w = beta2 * v_w + (1 - beta2) * g_w**2
        m_u = beta1 * m_u + (1 - beta1) * g_u
        v_u = beta2 * v_u + (1 - beta2) * g_u**2
        m_b = beta1 * m_b + (1 - beta1) * g_b
        v_b = beta2 * v_b + (1 - beta2) * g_b**2
        w -= lr * (m_w / (1 - beta1**t)) / (np.sqrt(v_w / (1 - beta2**t)) + eps)
        u -= lr * (m_u / (1 - beta1**t)) / (np.sqrt(v_u / (1 - beta2**t)) + eps)
        b -= lr * (m_b / (1 - beta1**t)) / (np.sqrt(v_b / (1 - beta2**t)) + eps)
    w = w * nb
    weights = {f: round(float(w[i]), 4) for f, i in index.items() if abs(w[i]) >= 1e-3}
    raw = u / scale
    bias = b - float(raw @ mean)
    return Fitted(weights, round(float(bias), 4), tuple(round(float(v), 5) for v in raw), norm)


# Every feature keeps at least this scale under `nb_alpha`, so one the classes use
# evenly can still learn a weight from its company.
NB_FLOOR = 0.2


def nb_scale(
    examples: Sequence[Sequence[str]], labels: Sequence[bool], vocab: Sequence[str], alpha: float
) -> np.ndarray:
    """Each feature's NB scale: `NB_FLOOR` + |log ratio| of its smoothed share of the
    positive and of the negative examples' features (each example counts a feature once)."""
    pos: Counter[str] = Counter()
    neg: Counter[str] = Counter()
    for ex, label in zip(examples, labels, strict=True):
        (pos if label else neg).update(set(ex))
    seen = len(set(pos) | set(neg))
    p_total = sum(pos.values()) + alpha * seen
    n_total = sum(neg.values()) + alpha * seen
    ratio = np.asarray(
        [np.log(((pos[f] + alpha) / p_total) / ((neg[f] + alpha) / n_total)) for f in vocab]
    )
    return NB_FLOOR + np.abs(ratio)


def predict(
    model: Fitted, examples: Sequence[Sequence[str]], dense: np.ndarray | None = None
) -> list[float]:
    out = []
    extra = dense @ np.asarray(model.dense) if model.dense and dense is not None else None
    for i, ex in enumerate(examples):
        distinct = set(ex)
        z = sum(model.weights.get(f, 0.0) for f in distinct)
        z = model.bias + (z / max(1, len(distinct)) ** model.norm if model.norm else z)
        if extra is not None:
            z += float(extra[i])
        out.append(float(1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))))
    return out


def auc(truth: Sequence[bool], scores: Sequence[float]) -> float:
    """ROC AUC with ties counted half (the Mann-Whitney statistic)."""
    y = np.asarray(truth, dtype=bool)
    s = np.asarray(scores, dtype=float)
    pos = int(y.sum())
    neg = len(y) - pos
    if not pos or not neg:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    sorted_s = s[order]
    # Tied scores share the mean of their ranks.
    starts = np.flatnonzero(np.r_[True, sorted_s[1:] != sorted_s[:-1]])
    ends = np.r_[starts[1:], len(s)]
    ranks = np.empty(len(s))
    ranks[order] = np.repeat((starts + ends + 1) / 2, ends - starts)
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def folds(labels: Sequence[bool], k: int, seed: int = 13) -> list[list[int]]:
    """Stratified folds with a fixed seed."""
    rng = np.random.default_rng(seed)
    result: list[list[int]] = [[] for _ in range(k)]
    for value in (True, False):
        idx = [i for i, y in enumerate(labels) if y == value]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            result[j % k].append(int(i))
    return result


def prior_weight(labels: Sequence[bool], prior: float) -> float:
    """The weight on positives that makes `labels` count as if `prior` of them were positive."""
    positives = sum(labels)
    odds = positives / max(1, len(labels) - positives)
    return (prior / (1 - prior)) / odds if odds else 1.0


def prf(
    truth: Sequence[bool], predicted: Sequence[bool], positive_weight: float = 1.0
) -> tuple[float, float, float]:
    """Precision, recall and F1; `positive_weight` counts each positive that many times
    (a prior shift: precision as it would be with more or fewer positives)."""
    tp = positive_weight * sum(1 for t, p in zip(truth, predicted, strict=True) if t and p)
    fp = sum(1 for t, p in zip(truth, predicted, strict=True) if not t and p)
    fn = positive_weight * sum(1 for t, p in zip(truth, predicted, strict=True) if t and not p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


Chooser = Callable[[Sequence[bool], Sequence[float]], float]


def best_f1_threshold(truth: Sequence[bool], scores: Sequence[float]) -> float:
    best, best_t = -1.0, 0.5
    for t in np.linspace(0.05, 0.95, 91):
        f1 = prf(truth, [s >= t for s in scores])[2]
        if f1 > best:
            best, best_t = f1, float(t)
    return best_t


def precision_floor_threshold(floor: float, prior: float | None = None) -> Chooser:
    """The threshold with the best F1 among those whose precision reaches `floor`,
    both measured as if `prior` of the examples were positive (None: as they are)."""

    def choose(truth: Sequence[bool], scores: Sequence[float]) -> float:
        best, best_t = -1.0, 0.5
        weight = prior_weight(truth, prior) if prior is not None else 1.0
        for t in np.linspace(0.05, 0.95, 91):
            p, _, f1 = prf(truth, [s >= t for s in scores], weight)
            if p >= floor and f1 > best:
                best, best_t = f1, float(t)
        return best_t

    return choose


def _rows(dense: np.ndarray | None, rows: Sequence[int]) -> np.ndarray | None:
    return None if dense is None else dense[np.asarray(rows, dtype=np.int64)]


def out_of_fold(
    examples: Sequence[Sequence[str]],
    labels: Sequence[bool],
    k: int,
    dense: np.ndarray | None = None,
    **fit_args: float,
) -> list[float]:
    scores = [0.0] * len(examples)
    for fold in folds(labels, k):
        held = set(fold)
        train = [i for i in range(len(examples)) if i not in held]
        model = fit(
            [examples[i] for i in train],
            [labels[i] for i in train],
            dense=_rows(dense, train),
            **fit_args,  # type: ignore[arg-type]
        )
        found = predict(model, [examples[i] for i in fold], _rows(dense, fold))
        for i, s in zip(fold, found, strict=True):
            scores[i] = s
    return scores


@dataclass(frozen=True, slots=True)
class Setting:
    """One choice to cross-validate: a feature variant and the arguments of `fit`."""

    variant: str
    fit: dict[str, float]


def select(
    variants: Mapping[str, Sequence[Sequence[str]]],
    labels: Sequence[bool],
    grid: Sequence[Setting],
    k: int,
) -> tuple[Setting, list[float]]:
    """The setting whose out-of-fold scores rank the labels best (ROC AUC over `k`
    folds), and those scores. Each setting names its feature variant and fit arguments."""
    best: tuple[float, Setting, list[float]] | None = None
    for setting in grid:
        scores = out_of_fold(variants[setting.variant], labels, k, None, **setting.fit)
        score = auc(labels, scores)
        if best is None or score > best[0]:
            best = (score, setting, scores)
    assert best is not None, "an empty grid"
    return best[1], best[2]


def cross_validate(
    variants: Mapping[str, Sequence[Sequence[str]]],
    labels: Sequence[bool],
    choose: Chooser,
    grid: Sequence[Setting],
    *,
    k: int = 5,
    inner: int = 3,
    prior: float | None = None,
) -> dict[str, Any]:
    """Honest nested k-fold figures: each fold is scored by a setting, model and threshold
    chosen on the other folds only (the setting and threshold by `inner`-fold
    cross-validation inside them). With `prior`, precision, recall and F1 are also given
    as if that share of the examples were positive.
    """
    predicted = [False] * len(labels)
    scores = [0.0] * len(labels)
    picks: list[str] = []
    for fold in folds(labels, k):
        held = set(fold)
        train = [i for i in range(len(labels)) if i not in held]
        tr_y = [labels[i] for i in train]
        part = {name: [examples[i] for i in train] for name, examples in variants.items()}
        setting, inner_scores = select(part, tr_y, grid, inner)
        threshold = choose(tr_y, inner_scores)
        model = fit(part[setting.variant], tr_y, **setting.fit)  # type: ignore[arg-type]
        found = predict(model, [variants[setting.variant][i] for i in fold])
        for i, s in zip(fold, found, strict=True):
            scores[i] = s
            predicted[i] = s >= threshold
        picks.append(f"{setting.variant} {setting.fit} threshold {threshold:.2f}")
    p, r, f1 = prf(labels, predicted)
    result: dict[str, Any] = {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4)}
    result["auc"] = round(auc(labels, scores), 4)
    if prior is not None:
        p, r, f1 = prf(labels, predicted, prior_weight(labels, prior))
        result.update(
            {
                f"precision_at_prior_{prior}": round(p, 4),
                f"recall_at_prior_{prior}": round(r, 4),
                f"f1_at_prior_{prior}": round(f1, 4),
            }
        )
    result["n"] = len(labels)
    result["folds_chose"] = picks
    return result
