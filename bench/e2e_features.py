"""Simple per-person features at the end-to-end benchmark's cutoffs, and why a reply was missed.

For issue 13's personal reply model: how well does each feature, computed only from
the mail before the cutoff T (and, for the person's past reply rates, only from
messages whose 14-day outcome was known by T), tell the messages the person answered
after T from those he did not? Each feature's ROC AUC is given over all labelled
messages and over those whose reply window has passed (where nurture nudges). A
logistic regression over all of them, trained forward in time (at each block of
cutoffs only on labelled rows whose label was known by then), shows what a personal
model could reach; it is a measure, not a fitted figure, because no row it is scored
on was used to fit it (it reads the features only, never a body).
"""

from __future__ import annotations

import math
import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from e2e_mailbox import FALLBACK_WINDOW, Mail, Mailbox, normalise_subject
from scores import roc_auc

if TYPE_CHECKING:
    from e2e import Replay, Scored

OUTCOME = timedelta(days=14)
_PATCH = re.compile(r"\[(?:[^\]]*\s)?(?:PATCH|RFC)\b", re.I)
BLOCKS = 6  # the forward-trained model is refitted this many times over the cutoffs
RIDGE = 1.0
SPACING = timedelta(days=7)


def spaced(cutoffs: Sequence[datetime], gap: timedelta) -> list[datetime]:
    """The cutoffs from the first on, each at least `gap` after the one kept before it."""
    kept: list[datetime] = []
    for c in sorted(cutoffs):
        if not kept or c - kept[-1] >= gap:
            kept.append(c)
    return kept


class Threads:
    """Threads of the mail before a cutoff, as the mailbox README defines them.

    A thread is named by the first Message-ID in References, else by the root of the
    message In-Reply-To names; mail with neither joins the thread of the latest earlier
    message of the same normalised subject that shares a participant (within
    `FALLBACK_WINDOW`, as a person links a bare "RE: contract").
    """

    def __init__(self, mails: Sequence[Mail]) -> None:
        self.root: dict[str, str] = {}
        recent: dict[str, list[Mail]] = defaultdict(list)
        for m in mails:  # oldest first, so a parent's root is known before its replies
            key = normalise_subject(m.subject)
            top = m.references[0] if m.references else m.parent
            if not top and key:
                people = {m.sender, *m.recipients}
                for earlier in reversed(recent[key]):
                    if m.date - earlier.date > FALLBACK_WINDOW:
                        break
                    if people & {earlier.sender, *earlier.recipients}:
                        top = earlier.message_id
                        break
            self.root[m.message_id] = self.root.get(top, top) if top else m.message_id
            if key:
                recent[key].append(m)
        self.members: dict[str, list[Mail]] = defaultdict(list)
        for m in mails:
            self.members[self.root[m.message_id]].append(m)

    def of(self, mail: Mail) -> list[Mail]:
        return self.members[self.root[mail.message_id]]


@dataclass(frozen=True, slots=True)
class Row:
    cutoff: datetime
    mail: Mail
    positive: bool
    window_passed: bool
    values: dict[str, float]


class _History:
    """The person's past behaviour, as known at a cutoff: reply rates, latency, volume."""

    def __init__(self, box: Mailbox, cutoff: datetime) -> None:
        self.by_sender: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.by_domain: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.written_to: dict[str, int] = defaultdict(int)
        answered_total = seen_total = 0
        for m in box.mails:
            if m.date >= cutoff:
                break
            if box.own(m):
                for a in m.recipients:
                    self.written_to[a] += 1
                continue
            if not box.human(m) or not box.direct(m) or m.date > cutoff - OUTCOME:
                continue
            at = box.answered_at.get(m.message_id)
            hit = int(at is not None and at - m.date <= OUTCOME)
            domain = m.sender.rpartition("@")[2]
            for table, key in ((self.by_sender, m.sender), (self.by_domain, domain)):
                table[key][0] += hit
                table[key][1] += 1
            if hit and at is not None:
                self.latency[m.sender].append((at - m.date) / timedelta(hours=1))
            answered_total += hit
            seen_total += 1
        self.prior = (answered_total + 1) / (seen_total + 2)

    def rate(self, table: dict[str, list[int]], key: str, weight: float = 2.0) -> float:
        hits, seen = table.get(key, (0, 0))
        return (hits + self.prior * weight) / (seen + weight)


def rows(box: Mailbox, result: Replay, asks: dict[str, float]) -> list[Row]:
    """One row of features per labelled message and cutoff, from the mail before it."""
    out = []
    person = box.person.addresses
    at: dict[datetime, list[Scored]] = defaultdict(list)
    for s in result.scored:
        at[s.cutoff].append(s)
    for cutoff in sorted(at):
        labelled = at[cutoff]
        before = [m for m in box.mails if m.date < cutoff]
        threads = Threads(before)
        history = _History(box, cutoff)
        by_id = {m.message_id: m for m in before}
        for s in labelled:
            m = s.mail
            thread = threads.of(m)
            root = thread[0]
            own_in = [t for t in thread if box.own(t)]
            parent = by_id.get(m.parent)
            latency = history.latency.get(m.sender)
            values = {
                "recency": -(cutoff - m.date) / timedelta(hours=1),
                "ask score": asks.get(m.message_id, 0.0),
                "reply rate to sender": history.rate(history.by_sender, m.sender),
                "reply rate to domain": history.rate(
                    history.by_domain, m.sender.rpartition("@")[2]
                ),
                "sender's past messages": float(history.by_sender.get(m.sender, (0, 0))[1]),
                "his past mail to sender": float(history.written_to.get(m.sender, 0)),
                "his median latency to sender (neg.)": -(
                    statistics.median(latency) if latency else 24 * 14.0
                ),
                "in To (not only Cc)": float(any(a in person for a in m.to)),
                "fewer recipients": -float(len(set(m.recipients))),
                "[PATCH]/[RFC] subject": float(bool(_PATCH.search(m.subject))),
                "is a reply": float(m.threaded),
                "replies to his message": float(parent is not None and box.own(parent)),
                "he started the thread": float(box.own(root)),
                "sender started the thread": float(root.sender == m.sender),
                "he wrote in thread before it": float(any(t.date < m.date for t in own_in)),
                "he wrote in thread after it": float(any(t.date > m.date for t in own_in)),
                "newer inbound in thread": float(
                    any(t.date > m.date and not box.own(t) for t in thread)
                ),
                "thread size": float(len(thread)),
            }
            window_passed = cutoff - m.date >= result.reply_window
            out.append(Row(cutoff, m, s.positive, window_passed, values))
    return out


def feature_aucs(box: Mailbox, result: Replay) -> dict[str, Any]:
    """Each feature's ROC AUC (all labelled; reply window passed) and a forward-trained model."""
    table = rows(box, result, result.asks)
    if not table:
        return {}
    names = list(table[0].values)
    passed = [r for r in table if r.window_passed]
    aucs = {}
    for name in names:
        aucs[name] = {
            "all": _round(roc_auc([r.values[name] for r in table], [r.positive for r in table])),
            "window_passed": _round(
                roc_auc([r.values[name] for r in passed], [r.positive for r in passed])
            ),
        }
    model = _forward_auc(table, names)
    model_no_recency = _forward_auc(table, [n for n in names if n != "recency"])
    return {
        "rows": len(table),
        "positives": sum(r.positive for r in table),
        "rows_window_passed": len(passed),
        "positives_window_passed": sum(r.positive for r in passed),
        "auc": aucs,
        "forward_model": model,
        "forward_model_without_recency": model_no_recency,
    }


def _forward_auc(table: Sequence[Row], names: Sequence[str]) -> dict[str, Any]:
    """ROC AUC of `forward_model` over its scored rows, and once the window has passed."""
    scores, truth, window = forward_model(table, names)
    later = [(s, t) for s, t, w in zip(scores, truth, window, strict=True) if w]
    return {
        "all": _round(roc_auc(scores, truth)),
        "window_passed": _round(roc_auc([s for s, _ in later], [t for _, t in later])),
        "rows_scored": len(scores),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def forward_model(
    table: Sequence[Row], names: Sequence[str]
) -> tuple[list[float], list[bool], list[bool]]:
    """Scores of a logistic regression trained only on rows whose label was known in time.

    The cutoffs are cut into `BLOCKS` blocks; each block's rows are scored by a model
    fitted on the rows of earlier cutoffs whose 14-day outcome had passed by the
    block's first cutoff. The first block, with nothing before it, is not scored. The
    fit reads cutoffs `SPACING` apart: a message is labelled at every daily cutoff of
    its 45 days, so the other days add rows, not information, and cost the fit time.
    """
    cutoffs = sorted({r.cutoff for r in table})
    sparse = set(spaced(cutoffs, SPACING))
    size = max(1, math.ceil(len(cutoffs) / BLOCKS))
    scores: list[float] = []
    truth: list[bool] = []
    window: list[bool] = []
    for start in range(size, len(cutoffs), size):
        block = set(cutoffs[start : start + size])
        first = cutoffs[start]
        train = [r for r in table if r.cutoff in sparse and r.cutoff + OUTCOME <= first]
        if not any(r.positive for r in train) or all(r.positive for r in train):
            continue
        predict = _fit(train, names)
        for r in table:
            if r.cutoff in block:
                scores.append(predict(r))
                truth.append(r.positive)
                window.append(r.window_passed)
    return scores, truth, window


def _fit(train: Sequence[Row], names: Sequence[str]) -> Callable[[Row], float]:
    """Ridge logistic regression by Newton's method, on standardised features."""
    means = [statistics.fmean(r.values[n] for r in train) for n in names]
    spreads = [statistics.pstdev([r.values[n] for r in train]) or 1.0 for n in names]

    def x(r: Row) -> list[float]:
        return [1.0] + [
            (r.values[n] - m) / s for n, m, s in zip(names, means, spreads, strict=True)
        ]

    xs = [x(r) for r in train]
    ys = [1.0 if r.positive else 0.0 for r in train]
    k = len(names) + 1
    w = [0.0] * k
    for _ in range(12):  # Newton's method: converged in under 10 steps here
        grad = [0.0] * k
        hess = [[0.0] * k for _ in range(k)]
        for xi, yi in zip(xs, ys, strict=True):
            z = sum(a * b for a, b in zip(w, xi, strict=True))
            p = 1 / (1 + math.exp(-max(min(z, 30), -30)))
            g = p - yi
            h = p * (1 - p)
            for a in range(k):
                grad[a] += g * xi[a]
                row = hess[a]
                ha = h * xi[a]
                for b in range(a, k):
                    row[b] += ha * xi[b]
        for a in range(k):
            for b in range(a):
                hess[a][b] = hess[b][a]
            if a:
                grad[a] += RIDGE * w[a]
                hess[a][a] += RIDGE
        step = _solve(hess, grad)
        w = [wi - si for wi, si in zip(w, step, strict=True)]
        if max(abs(s) for s in step) < 1e-6:
            break
    return lambda r: sum(a * b for a, b in zip(w, x(r), strict=True))


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Solve a·x = b by Gaussian elimination with partial pivoting (a is small)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        if abs(m[col][col]) < 1e-12:
            continue
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            for c in range(col, n + 1):
                m[r][c] -= f * m[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        if abs(m[r][r]) < 1e-12:
            continue
        x[r] = (m[r][n] - sum(m[r][c] * x[c] for c in range(r + 1, n))) / m[r][r]
    return x


def render_features(found: dict[str, Any]) -> str:
    if not found:
        return "features: no labelled messages"
    lines = [
        "",
        f"per-person features, ROC AUC over {found['rows']} labelled rows "
        f"({found['positives']} positive); reply window passed: "
        f"{found['rows_window_passed']} ({found['positives_window_passed']} positive)",
        f"{'':40}{'all':>8}{'window passed':>15}",
    ]
    for name, auc in sorted(found["auc"].items(), key=lambda kv: -abs((kv[1]["all"] or 0.5) - 0.5)):
        lines.append(f"{name:40}{_fmt(auc['all']):>8}{_fmt(auc['window_passed']):>15}")
    for key, label in (
        ("forward_model", "logistic regression, trained forward"),
        ("forward_model_without_recency", "  the same without recency"),
    ):
        m = found[key]
        lines.append(f"{label:40}{_fmt(m['all']):>8}{_fmt(m['window_passed']):>15}")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def miss_reason(box: Mailbox, mail: Mail, cutoff: datetime, result: Replay) -> str:
    """Why nurture had no reply task on a positive message, in its pipeline's terms."""
    reasons = []
    if cutoff - mail.date < result.reply_window:
        reasons.append("younger than the reply window")
    sig = result.signals.get(mail.message_id)
    thread = Threads([m for m in box.mails if m.date < cutoff]).of(mail)
    if sig is not None and sig.automated is not None:
        reasons.append(f"judged automated ({sig.automated})")
    if any(box.own(t) and t.date > mail.date for t in thread):
        reasons.append("his later mail in the thread")
    if sig is None:
        reasons.append("not read by nurture")
    elif sig.ask_score < 0.5:
        reasons.append("no ask found")
    if not any(a in box.person.addresses for a in mail.to) and not (sig and sig.greets_user):
        reasons.append("on Cc only, not greeted")
    if any(t.date > mail.date and not box.own(t) for t in thread):
        reasons.append("newer inbound in the thread")
    return " + ".join(reasons) or "other"
