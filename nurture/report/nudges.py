"""How nurture's own nudges fared: placed, snoozed, done, dismissed, resolved, per kind,
and which rule and which signal draw the most dismissals (from the ledger's history)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from ..contacts import normalise
from ..model import Kind, LedgerEntry, LedgerState
from ..rules import Tier
from .people import TierOf
from .records import Cause, KindRecord, NudgeRecord
from .stats import ratio, rounded

ACTIONS = ("placed", "updated", "snoozed", "dismissed", "done", "resolved")
History = Sequence[tuple[datetime, str, str, str, str]]  # (at, key, kind, contact, action)

# Calendar events of nurture's that are not nudges: the weekly report event.
NOT_NUDGES = frozenset({Kind.REPORT.value})


def record(
    ledger: Mapping[str, LedgerEntry],
    history: History,
    since: datetime,
    now: datetime,
    tier_of: TierOf,
    wanted: Callable[[Tier], bool],
) -> NudgeRecord:
    """Placed, updated, snoozed, dismissed, done and resolved in [since, now], per kind,
    with the rule and the signal behind most dismissals."""
    rows = [
        (at, key, kind, action)
        for at, key, kind, contact, action in history
        if since <= at <= now and kind not in NOT_NUDGES and wanted(tier_of(normalise(contact)))
    ]
    counts: Counter[tuple[str, str]] = Counter((kind, action) for _, _, kind, action in rows)
    totals: Counter[str] = Counter(action for _, _, _, action in rows)
    placed_keys: dict[str, set[str]] = {}
    for _, key, kind, action in rows:
        if action == "placed":
            placed_keys.setdefault(kind, set()).add(key)
    dismissed_keys = {
        key for at, key, _, _, action in history if action == "dismissed" and since <= at <= now
    }
    dismissed_entries = [
        e
        for e in ledger.values()
        if e.state is LedgerState.DISMISSED
        and e.kind not in NOT_NUDGES
        and since <= e.updated <= now
        and wanted(tier_of(normalise(e.contact)))
    ]

    def top(entries: Iterable[LedgerEntry], field_name: str) -> Cause | None:
        counted = Counter(str(e.detail[field_name]) for e in entries if e.detail.get(field_name))
        if not counted:
            return None
        name, count = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        return Cause(name, count)

    kinds = sorted({kind for _, _, kind, _ in rows} | {e.kind for e in dismissed_entries})
    records = []
    for kind in kinds:
        placed = placed_keys.get(kind, set())
        of_kind = [e for e in dismissed_entries if e.kind == kind]
        rule, signal = top(of_kind, "rule"), top(of_kind, "signal")
        records.append(
            KindRecord(
                kind=kind,
                **{a: counts[(kind, a)] for a in ACTIONS},
                dismiss_rate=rounded(ratio(len(placed & dismissed_keys), len(placed)), 4),
                top_dismiss_rule=rule.name if rule else None,
                top_dismiss_signal=signal.name if signal else None,
            )
        )
    every_placed = set().union(*placed_keys.values()) if placed_keys else set()
    return NudgeRecord(
        **{a: totals[a] for a in ACTIONS},
        dismiss_rate=rounded(ratio(len(every_placed & dismissed_keys), len(every_placed)), 4),
        kinds=tuple(records),
        top_dismiss_rule=top(dismissed_entries, "rule"),
        top_dismiss_signal=top(dismissed_entries, "signal"),
    )
