"""The report in the terminal: a one-line summary on top, then rich tables.

Times are shown in the user's working time zone, ages in calendar days there (as
nudges count them). Every table fits 80 columns without cutting a header: a contact
is shown by name (the address when there is none; --html and --json carry both),
subjects are shortened, and headers are single words. Only names, addresses, dates
and subjects appear — never message text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo

from rich import box
from rich.console import Console, Group, JustifyMethod, RenderableType
from rich.table import Table
from rich.text import Text

from ..durations import days_between
from .records import Figures, Report, Week, format_hours, format_share, kind_label

SPARKS = "▁▂▃▄▅▆▇█"
STATUS_STYLE = {"within": "green", "due": "yellow", "lapsed": "red", "untracked": "dim"}
ROWS = 25  # per list in the terminal; --html and --json carry every row
CONTACT_ROWS = 40
PROMISE_STYLE = {"on-time": "green", "late": "yellow", "missed": "red", "open": "cyan"}


def sparkline(values: Sequence[float | None]) -> str:
    """One character per value, scaled between the smallest and largest; blank for none."""
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    return "".join(
        " " if v is None else SPARKS[round((v - low) / span * (len(SPARKS) - 1))] for v in values
    )


def _when(value: datetime | None, zone: tzinfo) -> str:
    return "–" if value is None else value.astimezone(zone).strftime("%d %b %Y")


def _date(value: datetime | None, zone: tzinfo) -> str:
    """A date in a table: the period's span is in the title, so no year."""
    return "–" if value is None else value.astimezone(zone).strftime("%d %b")


def _days(value: float | None) -> str:
    """A cadence in days (or hours, below two days)."""
    return "–" if value is None else f"{value:.0f}d" if value >= 2 else f"{value * 24:.0f}h"


def _age(then: datetime, now: datetime, zone: tzinfo) -> str:
    """How long ago, in calendar days in the user's zone: the days a nudge's title says."""
    days = days_between(then, now, zone)
    return "today" if days <= 0 else f"{days}d"


def _who(name: str, address: str) -> str:
    return name or address


def _list(title: str) -> Table:
    """A table of people: the name and subject columns give way, the others never wrap."""
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)


def _person(table: Table) -> None:
    table.add_column("contact", max_width=22, overflow="ellipsis", no_wrap=True)


def _subject(table: Table) -> None:
    table.add_column("subject", ratio=1, min_width=12, overflow="ellipsis", no_wrap=True)


def _fixed(table: Table, *names: str, justify: JustifyMethod = "left") -> None:
    for name in names:
        table.add_column(name, no_wrap=True, justify=justify)


def _add(table: Table, *cells: str | Text, style: str = "") -> None:
    """One row, every cell plain text: a subject such as "[draft] plan" or a name with
    ":" in it is shown as written, never read as rich markup or an emoji code (markup
    would drop it, or stop the report on a stray "[/...]"); plain cells are also
    much cheaper for rich to lay out."""
    table.add_row(*(Text(c) if isinstance(c, str) else c for c in cells), style=style)


def _more(table: Table, total: int, shown: int) -> None:
    if total > shown:
        table.caption = f"… {total - shown} more: see --html or --json"


def _tier_table(report: Report) -> Table:
    table = Table(
        title="Replies, debts and promises",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("tier", no_wrap=True, min_width=9)
    for column in ("window", "asked", "median", "p90", "within", "owed", "oldest", "waiting"):
        table.add_column(column, justify="right", no_wrap=True, min_width=len(column))
    table.add_column("kept", justify="right", no_wrap=True, min_width=4)  # on time / judged

    def row(f: Figures, style: str = "") -> None:
        judged = f.promises_on_time + f.promises_late + f.promises_missed
        _add(
            table,
            f.tier,
            format_hours(f.reply_within_hours),
            str(f.asked),
            format_hours(f.median_reply_hours),
            format_hours(f.p90_reply_hours),
            format_share(f.within_share),
            str(f.open_debts),
            _days(f.oldest_debt_days),
            str(f.questions_waiting),
            f"{f.promises_on_time}/{judged}" if judged else "–",
            style=style,
        )

    for f in report.tiers:
        if f.asked or f.questions_waiting or f.contacts_within + f.contacts_due + f.contacts_lapsed:
            row(f)
    row(report.overall, "bold")
    table.caption = "within: answered inside the reply window · kept: promises kept on time / due"
    return table


def _debts(report: Report, zone: tzinfo) -> Table:
    table = _list(f"You owe a reply ({len(report.debts)})")
    _person(table)
    _fixed(table, "tier")
    _subject(table)
    _fixed(table, "asked", "waiting")
    _more(table, len(report.debts), ROWS)
    for d in sorted(report.debts, key=lambda d: -d.age_days)[:ROWS]:
        _add(
            table,
            _who(d.name, d.contact),
            d.tier,
            d.subject,
            _date(d.asked_at, zone),
            Text(_age(d.asked_at, report.until, zone), style="red" if d.overdue else ""),
        )
    return table


def _waiting(report: Report, zone: tzinfo) -> Table:
    table = _list(f"Waiting on others ({len(report.waiting)})")
    _person(table)
    _fixed(table, "tier")
    _subject(table)
    _fixed(table, "asked", "waiting")
    _more(table, len(report.waiting), ROWS)
    for w in sorted(report.waiting, key=lambda w: -w.age_days)[:ROWS]:
        _add(
            table,
            _who(w.name, w.contact),
            w.tier,
            w.subject,
            _date(w.asked_at, zone),
            Text(_age(w.asked_at, report.until, zone), style="yellow" if w.overdue else ""),
        )
    return table


def _promises(report: Report, zone: tzinfo) -> Table:
    table = _list(f"Promises ({len(report.promises)})")
    _person(table)
    _subject(table)
    _fixed(table, "made", "due", "kept", "status")
    _more(table, len(report.promises), ROWS)
    for p in report.promises[-ROWS:]:
        _add(
            table,
            _who(p.name, p.contact),
            p.subject,
            _date(p.made_at, zone),
            _date(p.due, zone),
            _date(p.kept_at, zone),
            Text(p.status, style=PROMISE_STYLE.get(p.status, "")),
        )
    return table


def _contacts(report: Report, zone: tzinfo) -> RenderableType:
    k = report.keep_in_touch
    table = _list(f"Keep in touch: {k.within} within cadence, {k.due} due, {k.lapsed} lapsed")
    _person(table)
    _fixed(table, "tier", "cadence", "learned", "last")
    _fixed(table, "since", justify="right")
    table.add_column("status", min_width=9)  # "untracked · new" may take two lines
    table.caption = "cadence: set by a rule, or learned from your history · since: days"
    _more(table, len(k.contacts), CONTACT_ROWS)
    for c in k.contacts[:CONTACT_ROWS]:
        _add(
            table,
            _who(c.name, c.address),
            c.tier,
            c.rule_cadence,
            _days(c.learned_cadence_days),
            _date(c.last_touch, zone),
            str(days_between(c.last_touch, report.until, zone)),
            Text(
                c.status + (" · new" if c.new else ""),
                style=STATUS_STYLE.get(c.status, ""),
            ),
        )
    names = {c.address: c.name or c.address for c in k.contacts}
    lines = [
        Text("Went quiet this period: " + (", ".join(names[a] for a in k.gone_quiet) or "none")),
        Text("New relationships: " + (", ".join(names[a] for a in k.new) or "none")),
    ]
    return Group(table, *lines)


def _nudges(report: Report) -> RenderableType:
    n = report.nudges
    table = _list(
        f"nurture's record: {n.placed} placed, {n.done} done, {n.dismissed} dismissed, "
        f"{n.snoozed} snoozed, {n.resolved} resolved"
    )
    _fixed(table, "kind")
    _fixed(table, "placed", "done", "dismissed", "snoozed", "resolved", "rate", justify="right")
    table.add_column("cause", ratio=1, min_width=8, overflow="fold")
    table.caption = (
        "resolved: the reason went away by itself · rate: share of placed nudges you "
        "dismissed · cause: the rule or signal behind most dismissals"
    )
    for k in n.kinds:
        _add(
            table,
            kind_label(k.kind),
            str(k.placed),
            str(k.done),
            str(k.dismissed),
            str(k.snoozed),
            str(k.resolved),
            format_share(k.dismiss_rate),
            " / ".join(x for x in (k.top_dismiss_rule, k.top_dismiss_signal) if x) or "–",
        )
    parts: list[RenderableType] = [table]
    if n.top_dismiss_rule or n.top_dismiss_signal:
        cause = n.top_dismiss_rule or n.top_dismiss_signal
        assert cause is not None
        parts.append(
            Text(
                f"Most dismissals came from {cause.name} ({cause.dismissals}); "
                "if that keeps happening, adjust that rule.",
                style="yellow",
            )
        )
    return Group(*parts)


TREND: tuple[tuple[str, Callable[[Week], float | None], Callable[[float | None], str]], ...] = (
    ("median reply", lambda w: w.median_reply_hours, format_hours),
    ("within window", lambda w: w.within_share, format_share),
    ("owed replies", lambda w: w.open_debts, lambda v: "–" if v is None else f"{v:.0f}"),
    ("waiting on others", lambda w: w.questions_waiting, lambda v: f"{v or 0:.0f}"),
    ("promises kept on time", lambda w: w.promises_on_time, lambda v: f"{v or 0:.0f}"),
    ("lapsed contacts", lambda w: w.contacts_lapsed, lambda v: f"{v or 0:.0f}"),
    ("nudges placed", lambda w: w.nudges_placed, lambda v: f"{v or 0:.0f}"),
    ("nudges dismissed", lambda w: w.nudges_dismissed, lambda v: f"{v or 0:.0f}"),
)


def _trend(report: Report, zone: tzinfo) -> Table:
    weeks = report.weeks
    first = _when(weeks[0].start, zone) if weeks else ""
    table = Table(title=f"Weekly trend (from {first})", title_justify="left")
    for column in ("figure", "week by week", "first", "last"):
        table.add_column(column)
    for label, get, show in TREND:
        values = [get(w) for w in weeks]
        known = [v for v in values if v is not None]
        _add(
            table,
            label,
            sparkline(values),
            show(known[0]) if known else "–",
            show(known[-1]) if known else "–",
        )
    return table


def render(report: Report, console: Console, zone: tzinfo) -> None:
    """Print the whole report."""
    scope = f"tier {report.tier_filter}" if report.tier_filter else "all tiers"
    console.print(
        Text(
            f"Relationship report · {_when(report.since, zone)} – {_when(report.until, zone)} "
            f"· {scope} · {report.messages} messages",
            style="bold",
        )
    )
    console.print(Text(report.privacy, style="dim"))
    console.print(Text(report.summary, style="bold cyan"))
    for note in report.notes:
        console.print(Text("note: " + note, style="yellow"))
    console.print()
    for part in (
        _tier_table(report),
        _debts(report, zone),
        _waiting(report, zone),
        _promises(report, zone),
        _contacts(report, zone),
        _nudges(report),
        _trend(report, zone),
    ):
        console.print(part)
        console.print()
