"""The relationship report as data: the records `compute` fills and the renderers read.

`nurture.report.metrics` computes a `Report`; `render_text`, `render_html` and
`to_json` (below) present it. The JSON schema in schema.json describes these records
field by field. Nothing here reads mail: the records hold names, addresses, dates,
subjects and figures only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from typing import Any

from ..model import UTC, Kind

PRIVACY = "Names, addresses, dates and subjects only: this report never shows message text."


# ---- the report ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figures:
    """The headline figures for one tier (or "all")."""

    tier: str
    reply_within_hours: float | None
    asked: int
    answered: int
    median_reply_hours: float | None
    p90_reply_hours: float | None
    judged: int
    within_window: int
    within_share: float | None
    open_debts: int
    oldest_debt_days: float | None
    questions_waiting: int
    promises_on_time: int
    promises_late: int
    promises_missed: int
    promises_open: int
    contacts_within: int
    contacts_due: int
    contacts_lapsed: int


@dataclass(frozen=True, slots=True)
class Debt:
    """Mail that asked something of the user and has no reply yet."""

    contact: str
    name: str
    tier: str
    subject: str
    asked_at: datetime
    age_days: float
    overdue: bool


@dataclass(frozen=True, slots=True)
class Waiting:
    """A question of the user's that nobody answered yet."""

    contact: str
    name: str
    tier: str
    subject: str
    asked_at: datetime
    age_days: float
    overdue: bool


@dataclass(frozen=True, slots=True)
class Promise:
    contact: str
    name: str
    tier: str
    subject: str
    made_at: datetime
    due: datetime
    kept_at: datetime | None
    status: str  # on-time | late | missed | open


@dataclass(frozen=True, slots=True)
class ContactHealth:
    """One relationship: its tier, cadence (rule and learned) and staleness."""

    address: str
    name: str
    tier: str
    weight: float
    rule_cadence: str  # "learned", "off", or e.g. "21 days"
    rule_cadence_days: float | None
    learned_cadence_days: float | None
    cadence_days: float | None
    first_touch: datetime
    last_touch: datetime
    days_since: float
    staleness: float | None  # days since last touch / cadence
    status: str  # within | due | lapsed | untracked
    touches: int
    new: bool
    gone_quiet: bool
    open_debts: int


@dataclass(frozen=True, slots=True)
class KeepInTouch:
    tracked: int
    within: int
    due: int
    lapsed: int
    untracked: int
    gone_quiet: tuple[str, ...]
    new: tuple[str, ...]
    contacts: tuple[ContactHealth, ...]


@dataclass(frozen=True, slots=True)
class KindRecord:
    """nurture's record for one nudge kind over the period."""

    kind: str
    placed: int
    updated: int
    snoozed: int
    dismissed: int
    done: int
    resolved: int
    dismiss_rate: float | None
    top_dismiss_rule: str | None
    top_dismiss_signal: str | None


@dataclass(frozen=True, slots=True)
class Cause:
    name: str
    dismissals: int


@dataclass(frozen=True, slots=True)
class NudgeRecord:
    placed: int
    updated: int
    snoozed: int
    dismissed: int
    done: int
    resolved: int
    dismiss_rate: float | None
    kinds: tuple[KindRecord, ...]
    top_dismiss_rule: Cause | None
    top_dismiss_signal: Cause | None


@dataclass(frozen=True, slots=True)
class Week:
    """The headline figures for one week (Monday to Monday in the user's time zone)."""

    start: datetime
    end: datetime
    asked: int
    answered: int
    judged: int  # the asks `within_share` is a share of (their window passed, or answered)
    median_reply_hours: float | None
    within_share: float | None
    open_debts: int
    questions_waiting: int
    promises_on_time: int
    promises_late: int
    promises_missed: int
    contacts_within: int
    contacts_due: int
    contacts_lapsed: int
    nudges_placed: int
    nudges_done: int
    nudges_dismissed: int


@dataclass(frozen=True, slots=True)
class Bin:
    label: str
    upper_hours: float | None
    count: int


@dataclass(frozen=True, slots=True)
class Report:
    generated_at: datetime
    since: datetime
    until: datetime
    tier_filter: str | None
    privacy: str
    summary: str
    overall: Figures
    tiers: tuple[Figures, ...]
    reply_histogram: tuple[Bin, ...]
    debts: tuple[Debt, ...]
    waiting: tuple[Waiting, ...]
    promises: tuple[Promise, ...]
    keep_in_touch: KeepInTouch
    nudges: NudgeRecord
    weeks: tuple[Week, ...]
    messages: int = 0
    notes: tuple[str, ...] = field(default=())


# ---- formatting --------------------------------------------------------------------


def format_hours(hours: float | None) -> str:
    if hours is None:
        return "–"
    if hours < 1:
        return f"{round(hours * 60)}m"
    if hours < 48:
        return f"{hours:.1f}h"
    return f"{hours / 24:.1f}d"


def format_share(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


def kind_label(kind: str) -> str:
    """A recorded kind as the README names it ("follow up"); an unknown one as recorded."""
    try:
        return Kind(kind).label
    except ValueError:
        return kind


# ---- JSON ------------------------------------------------------------------------


_PLAIN = (str, int, float, bool, type(None))
_FIELDS: dict[type, tuple[str, ...]] = {}  # dataclass → its field names (asked per record)


def to_json(value: Any) -> Any:
    """The report as JSON-ready data: datetimes as ISO 8601 UTC ("...Z"), tuples as lists."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    names = _FIELDS.get(kind)
    if names is None and is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS[kind] = tuple(f.name for f in fields(value))
    if names is not None:
        return {name: to_json(getattr(value, name)) for name in names}
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value
