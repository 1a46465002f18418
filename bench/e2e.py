"""End to end on a real mailbox: are nurture's reply nudges the ones the person needed?

    python bench/e2e.py --mailbox ../shared/corpora/mailboxes/linux-man \
        [--cutoffs N] [--shared ADDRESS ...] [--json] [--explain] [--features]

The mailbox folder holds raw messages in ``m/*.eml`` and ``person.json`` (see that
folder's README). The runner replays the mailbox day by day into a Maildir (the
person's own mail in ``.Sent``, mail naming them as the direct copy they received,
list-only mail as the list's copy) and runs nurture on it as its daemon would: one
``sync`` and one ``reconcile`` a day with ``now`` set, against an empty local calendar,
in ONE installation from `--warmup` days before the first cutoff to the last, so the
ledger and the tasks evolve as they would. Nothing at a cutoff T depends on mail dated
after T, so one timeline serves every cutoff.

At each cutoff T (every day of person.json's cutoff_range, or `--cutoffs` spread
evenly over it) it scores nurture's
reply tasks on the calendar. The labelled messages at T are the inbound messages from
a human that name the person in To/Cc (or a `--shared` address), dated before T, at
most nurture's horizon (`forget_after`) old, not answered by the person before T; one
is positive when the person answered it within 14 days after T. A reply task on any
other message is a false positive too. Beside nurture, in the same run, the naive
baseline nudges every labelled message (its AUC ranks them newest first, as an inbox
does). A reply task covers one person: a second row counts the older messages it lists
as waiting with the one it names as nudged too. Also: the ROC AUC of nurture's
needs-reply score (`e2e_nurture.needs_reply_score`), tasks created per week, and the
share of tasks whose description quotes their why.

`--explain` lists each cutoff's wrong and missed reply tasks (dates, senders, subjects:
terminal only, never stored); `--features` adds the ROC AUC of simple per-person
features over the same labelled messages (`e2e_features`).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from e2e_mailbox import Mail, Mailbox  # noqa: E402
from e2e_nurture import WHY_KINDS, Created, Nurture  # noqa: E402
from e2e_score import Decisions, decide, evenly, per_week  # noqa: E402
from scores import roc_auc  # noqa: E402

log = logging.getLogger("bench.e2e")

LABEL_AFTER = timedelta(days=14)  # a positive is answered within this long after T
WARMUP = timedelta(days=60)  # the daemon runs this long before the first cutoff
SETTLE = timedelta(days=28)  # nudges per week are counted from this long before it


@dataclass(frozen=True, slots=True)
class Scored:
    """One labelled message at one cutoff, with nurture's decision and score."""

    cutoff: datetime
    mail: Mail
    positive: bool
    nudged: bool
    score: float
    listed: bool = False  # a reply task lists it as waiting with the message it names


@dataclass(frozen=True, slots=True)
class Stray:
    """A reply task at a cutoff on a message outside the labelled ones, and why."""

    cutoff: datetime
    message_id: str
    reason: str


@dataclass(slots=True)
class Replay:
    """Everything a run of the timeline produced, for the figures and the explanations."""

    cutoffs: list[datetime]
    start: datetime
    scored: list[Scored] = field(default_factory=list)
    strays: list[Stray] = field(default_factory=list)
    created: list[Created] = field(default_factory=list)
    runs: int = 0
    reply_window: timedelta = timedelta(days=3)
    horizon: timedelta = timedelta(days=45)
    shared_supported: bool = False
    signals: dict[str, Any] = field(default_factory=dict)
    asks: dict[str, float] = field(default_factory=dict)  # with --features
    skipped: int = 0  # message files without a usable Date, and second copies


def pick_cutoffs(box: Mailbox, count: int | None = None) -> list[datetime]:
    """`count` cutoffs spread over person.json's cutoff_range (else the mail's last 80%).

    By default every day of the range. The replay runs daily whatever the count, so
    a cutoff costs only its scoring, and fewer cutoffs leave the figures to where
    they fall: on linux-man a burst of reports answered within a day swings the AUC
    of four interleaved sets of 16 cutoffs four weeks apart between 0.54 and 0.74.
    """
    if box.person.cutoff_range is not None:
        first, last = (
            datetime(d.year, d.month, d.day, tzinfo=UTC) for d in box.person.cutoff_range
        )
    else:
        begin, end = box.mails[0].date, box.mails[-1].date - LABEL_AFTER
        first = begin + (end - begin) / 5
        last = end
    if count is None:
        count = (last - first).days + 1
    return evenly(first, last, count)


def replay(
    box: Mailbox,
    cutoffs: Sequence[datetime],
    work: Path,
    *,
    runs_per_day: int = 1,
    warmup: timedelta = WARMUP,
    progress: bool = False,
    read_all: bool = False,
) -> Replay:
    """Run nurture day by day up to the last cutoff, scoring it at each cutoff."""
    nurture = Nurture(work, box.person.name, box.person.addresses, box.shared)
    start = min(cutoffs) - warmup
    result = Replay(
        list(cutoffs),
        start,
        reply_window=nurture.reply_window,
        horizon=nurture.horizon,
        shared_supported=nurture.shared_supported,
        skipped=box.skipped,
    )
    pending = set(cutoffs)
    fed = 0
    try:
        for now in run_times(start, max(cutoffs), runs_per_day):
            while fed < len(box.mails) and box.mails[fed].date < now:
                mail = box.mails[fed]
                nurture.deliver(box.replay(mail), mail.date, sent=box.own(mail))
                fed += 1
            result.created += nurture.run(now)
            result.runs += 1
            if now in pending:
                pending.discard(now)
                _score(box, nurture, now, result)
            if progress and result.runs % 30 == 0:
                print(f"  {now:%Y-%m-%d}: {result.runs} runs", file=sys.stderr)
        if pending:
            raise ValueError(f"cutoffs not at a whole day from {start}: {sorted(pending)}")
        result.signals = nurture.signals()
        if read_all:
            result.asks = nurture.ask_scores({s.mail.message_id for s in result.scored})
    finally:
        nurture.close()
    return result


def run_times(start: datetime, last: datetime, per_day: int) -> Iterator[datetime]:
    """The daemon's cycles: `per_day` a day from `start` to `last`, each midnight exact."""
    day = 0
    while True:
        midnight = start + timedelta(days=day)
        for k in range(per_day):
            now = midnight + timedelta(days=1) * k / per_day
            if now > last:
                return
            yield now
        day += 1


def _score(box: Mailbox, nurture: Nurture, cutoff: datetime, result: Replay) -> None:
    labels = box.labelled(cutoff, result.horizon, LABEL_AFTER)
    nudged = {k.split(":", 1)[1] for k in nurture.task_keys() if k.startswith("reply:")}
    listed = nurture.waiting()
    scores = nurture.scores(lab.mail.message_id for lab in labels)
    for lab in labels:
        mid = lab.mail.message_id
        result.scored.append(
            Scored(cutoff, lab.mail, lab.positive, mid in nudged, scores[mid], mid in listed)
        )
    labelled = {lab.mail.message_id for lab in labels}
    for mid in sorted(nudged - labelled):
        mail = box.by_id().get(mid)
        result.strays.append(Stray(cutoff, mid, _stray_reason(box, mail, cutoff, result)))


def _stray_reason(box: Mailbox, mail: Mail | None, cutoff: datetime, result: Replay) -> str:
    if mail is None:
        return "not in the mailbox"
    answered = box.answered_at.get(mail.message_id)
    if answered is not None and answered < cutoff:
        return "answered before the cutoff"
    if not box.human(mail):
        return "from a machine"
    if not box.direct(mail):
        return "not addressed to the person"
    if cutoff - mail.date > result.horizon:
        return "older than the horizon"
    return "other"


# --- figures ------------------------------------------------------------------------


def _block(decisions: Decisions, auc: float | None, n: int, positives: int, nudges: int) -> dict:
    return {
        "precision": round(decisions.precision, 4),
        "recall": round(decisions.recall, 4),
        "f1": round(decisions.f1, 4),
        "auc": None if auc is None else round(auc, 4),
        "n": n,
        "positives": positives,
        "nudges": nudges,
    }


def _decisions(result: Replay, counts: Callable[[Scored], bool]) -> Decisions:
    """Right and wrong reply tasks over every cutoff, a labelled message counting as
    nudged when `counts` says so (tasks on unlabelled messages are wrong)."""
    found = Decisions()
    for cutoff in result.cutoffs:
        at = [s for s in result.scored if s.cutoff == cutoff]
        predicted = {s.mail.message_id for s in at if counts(s)}
        predicted |= {x.message_id for x in result.strays if x.cutoff == cutoff}
        found += decide({s.mail.message_id for s in at if s.positive}, predicted)
    return found


def figures(result: Replay) -> dict[str, Any]:
    """The benchmark's figures: nurture, the baseline, nudges per week, tasks with why."""
    scored = result.scored
    positives = sum(1 for s in scored if s.positive)
    truth = [s.positive for s in scored]
    ours = _decisions(result, lambda s: s.nudged)
    nudges = ours.tp + ours.fp
    reply = _block(ours, roc_auc([s.score for s in scored], truth), len(scored), positives, nudges)
    # a reply task covers one person: the messages it lists as waiting count as nudged too
    covering = _decisions(result, lambda s: s.nudged or s.listed)
    listing = _block(covering, None, len(scored), positives, covering.tp + covering.fp)
    recency = [-(s.cutoff - s.mail.date).total_seconds() for s in scored]
    baseline = _block(
        Decisions(positives, len(scored) - positives, 0),
        roc_auc(recency, truth),
        len(scored),
        positives,
        len(scored),
    )
    window = result.reply_window
    split = {}
    for name, keep in (
        ("younger_than_reply_window", lambda s: s.cutoff - s.mail.date < window),
        ("reply_window_passed", lambda s: s.cutoff - s.mail.date >= window),
    ):
        part = [s for s in scored if keep(s)]
        hits = sum(1 for s in part if s.positive)
        split[name] = _block(
            Decisions(hits, len(part) - hits, positives - hits), None, len(part), hits, len(part)
        )
    start, end = min(result.cutoffs) - SETTLE, max(result.cutoffs)
    counted = [c for c in result.created if start <= c.at <= end]
    every = per_week((c.at for c in counted), start, end)
    replies = per_week((c.at for c in counted if c.kind == "reply"), start, end)
    why = [c for c in counted if c.kind in WHY_KINDS]
    return {
        "reply": reply,
        "baseline": baseline,
        "nudges_per_week": {
            "mean": every.mean,
            "max": every.max,
            "reply": {"mean": replies.mean, "max": replies.max},
            "weeks": every.weeks,
        },
        "with_why": round(sum(c.with_why for c in why) / len(why), 4) if why else None,
        "detail": {
            "reply_with_listed": listing,
            "cutoffs": [c.date().isoformat() for c in result.cutoffs],
            "baseline_split": split,
            "stray_reasons": dict(Counter(x.reason for x in result.strays)),
            "created_by_kind": dict(Counter(c.kind for c in counted)),
            "with_why_by_kind": {
                kind: [sum(c.with_why for c in why if c.kind == kind), n]
                for kind, n in Counter(c.kind for c in why).items()
            },
            "runs": result.runs,
            "files_skipped": result.skipped,
            "shared_inboxes_supported": result.shared_supported,
        },
    }


def render(name: str, shared: Sequence[str], out: dict[str, Any], seconds: float) -> str:
    r, b, d = out["reply"], out["baseline"], out["detail"]
    w = out["nudges_per_week"]
    cutoffs = d["cutoffs"]
    head = (
        f"end to end on {name}: {len(cutoffs)} cutoffs {cutoffs[0]} … {cutoffs[-1]}, "
        f"{r['n']} labelled messages, {r['positives']} positive"
    )
    if shared:
        head += f"; shared inboxes: {', '.join(shared)}"
    lines = [
        head,
        "",
        f"{'':34}{'precision':>10}{'recall':>8}{'F1':>7}{'AUC':>7}{'nudges':>8}",
    ]

    def row(label: str, block: dict, note: str = "") -> str:
        auc = "   —  " if block["auc"] is None else f"{block['auc']:7.3f}"
        return (
            f"{label:34}{block['precision']:10.3f}{block['recall']:8.3f}{block['f1']:7.3f}"
            f"{auc}{block['nudges']:8d}{note}"
        )

    lines.append(row("nurture (reply tasks)", r, "   AUC: needs-reply score"))
    lines.append(row("  and the messages they list", d["reply_with_listed"], "   waiting with it"))
    lines.append(row("baseline: every labelled message", b, "   AUC: newest first"))
    for key, label in (
        ("younger_than_reply_window", "  of them younger than reply window"),
        ("reply_window_passed", "  of them reply window passed"),
    ):
        lines.append(row(label, d["baseline_split"][key]))
    why = out["with_why"]
    by_kind = ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(d["with_why_by_kind"].items()))
    lines += [
        "",
        f"tasks created per week ({w['weeks']} weeks): all kinds mean {w['mean']} "
        f"(max {w['max']}); reply mean {w['reply']['mean']} (max {w['reply']['max']})",
        f"created by kind: {dict(sorted(d['created_by_kind'].items()))}",
        "tasks quoting their why: " + ("none created" if why is None else f"{why:.0%} ({by_kind})"),
        f"reply tasks outside the labelled messages: {d['stray_reasons'] or 'none'}",
        f"{d['runs']} daily runs in {seconds:.0f} s",
    ]
    if d["files_skipped"]:
        lines.append(
            f"{d['files_skipped']} message files skipped (no usable Date, or a second copy)"
        )
    if shared and not d["shared_inboxes_supported"]:
        lines.append("note: this nurture has no shared inboxes; --shared only widened the labels")
    return "\n".join(lines)


def explain(box: Mailbox, result: Replay) -> str:
    """nurture's wrong reply tasks and the positives it missed, each message once.

    For the terminal only (dates, senders, subjects; never stored). A wrong task is
    shown at the first cutoff where it was wrong; a missed positive at the first one
    past its reply window, if any; each with how many cutoffs it was so.
    """
    from e2e_features import miss_reason

    wrong: dict[str, list[Scored]] = {}
    missed: dict[str, list[Scored]] = {}
    for s in result.scored:
        if s.nudged and not s.positive:
            wrong.setdefault(s.mail.message_id, []).append(s)
        elif s.positive and not s.nudged:
            missed.setdefault(s.mail.message_id, []).append(s)
    lines = [f"wrong reply tasks on labelled messages: {len(wrong)} messages"]
    for items in wrong.values():
        s = items[0]
        lines.append(_line(s.mail, s.cutoff, s.score, f"{len(items)} cutoffs"))
    strays: dict[str, list[Stray]] = {}
    for x in result.strays:
        strays.setdefault(x.message_id, []).append(x)
    lines.append(f"reply tasks on messages not labelled: {len(strays)} messages")
    for mid, xs in strays.items():
        mail = box.by_id().get(mid)
        note = f"{xs[0].reason}; {len(xs)} cutoffs"
        lines.append(_line(mail, xs[0].cutoff, -1, note) if mail else f"{mid} [{note}]")
    lines.append(f"positives missed: {len(missed)} messages")
    for items in missed.values():
        # shown where it matters most: the first cutoff its reply window had passed
        due = [s for s in items if s.cutoff - s.mail.date >= result.reply_window]
        s = (due or items)[0]
        reason = miss_reason(box, s.mail, s.cutoff, result)
        lines.append(_line(s.mail, s.cutoff, s.score, f"{reason}; {len(items)} cutoffs"))
    return "\n".join(lines)


def _line(mail: Mail, cutoff: datetime, score: float, note: str) -> str:
    age = (cutoff - mail.date) / timedelta(days=1)
    return (
        f"  {cutoff:%Y-%m-%d} {age:5.1f}d score {score:4.2f} {mail.sender:32.32} "
        f"to {len(mail.to)} cc {len(mail.cc)} {mail.subject[:70]!r} [{note}] {mail.path.name}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--mailbox", type=Path, required=True, help="folder with m/ and person.json"
    )
    parser.add_argument(
        "--cutoffs", type=int, help="how many cutoffs (default: every day of the cutoff range)"
    )
    parser.add_argument(
        "--shared", nargs="+", default=[], metavar="ADDRESS", help="shared inbox addresses"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--explain", action="store_true", help="list wrong and missed tasks")
    parser.add_argument("--features", action="store_true", help="per-person feature AUCs")
    parser.add_argument("--runs-per-day", type=int, default=1, help="daemon cycles a day")
    parser.add_argument("--work", type=Path, help="keep the replayed Maildir and state here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if (args.cutoffs is not None and args.cutoffs < 1) or args.runs_per_day < 1:
        parser.error("--cutoffs and --runs-per-day must be at least 1")
    if not (args.mailbox / "person.json").is_file():
        parser.error(f"{args.mailbox}: no person.json here (see the mailbox folder's README)")
    began = time.monotonic()
    box = Mailbox.load(args.mailbox, args.shared)
    cutoffs = pick_cutoffs(box, args.cutoffs)
    work = args.work or Path(tempfile.mkdtemp(prefix="nurture-e2e-"))
    if args.work:
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
    try:
        result = replay(
            box,
            cutoffs,
            work,
            runs_per_day=args.runs_per_day,
            progress=not args.json,
            read_all=args.features,
        )
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    out = figures(result)
    if args.features:
        from e2e_features import feature_aucs

        out["features"] = feature_aucs(box, result)
    seconds = time.monotonic() - began
    out["seconds"] = round(seconds, 1)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(render(args.mailbox.name, args.shared, out, seconds))
        if args.features:
            from e2e_features import render_features

            print(render_features(out["features"]))
        if args.explain:
            print(explain(box, result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
