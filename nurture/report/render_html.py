"""The report as one self-contained HTML file: inline CSS, inline SVG charts, no network.

The charts are drawn here as plain SVG (bars, a line with points), coloured
through CSS variables so they read in light and dark mode
(``prefers-color-scheme``). A Content-Security-Policy forbids every fetch;
the only script is a few lines that sort the per-contact table.
Only names, addresses, dates and subjects appear — never message text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence, Set
from datetime import datetime, timedelta, tzinfo
from html import escape

from ..durations import days_between
from .records import Figures, Report, format_hours, format_share, kind_label

CSS = """
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1d2430; --muted: #5b6676;
  --line: #d9dee5; --card: #f5f7fa; --accent: #2563eb; --good: #15803d; --warn: #b45309;
  --bad: #b91c1c; --faint: #a3acb9; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #12161c; --fg: #e6e9ee; --muted: #9aa4b2; --line: #2c3440; --card: #1b212a;
    --accent: #60a5fa; --good: #4ade80; --warn: #fbbf24; --bad: #f87171; --faint: #4b5563; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1120px; padding: 24px; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.muted { color: var(--muted); } .privacy { color: var(--muted); font-size: 13px; }
.nowrap { white-space: nowrap; }
.tiles { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 10px;
  margin-top: 14px; }
.tile { background: var(--card); border-radius: 6px; padding: 10px 12px; }
.tile b { display: block; font-size: 22px; white-space: nowrap; }
.tile b small { font-size: 12px; font-weight: 400; color: var(--muted); }
.tile span { color: var(--muted); font-size: 12px; }
.charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px; }
figure { margin: 0; background: var(--card); border-radius: 6px; padding: 10px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
figure p { margin: 4px 0 0; color: var(--muted); font-size: 12px; }
svg { width: 100%; height: auto; display: block; }
svg text { fill: var(--muted); font-size: 12px; }
svg text.title { fill: var(--fg); }
svg .axis { stroke: var(--line); stroke-width: 1; }
svg rect.datum { fill: var(--accent); } svg rect.datum.bad { fill: var(--bad); }
svg rect.datum.faint, svg circle.datum.faint { fill: var(--faint); }
svg path.datum { fill: none; stroke: var(--accent); stroke-width: 2; }
svg circle.datum { fill: var(--accent); }
.wide { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line);
  white-space: nowrap; }
td.t { white-space: normal; min-width: 12em; }
th { font-weight: 600; color: var(--muted); vertical-align: bottom; }
th.group { text-align: center; border-bottom: 1px solid var(--line); }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td small { display: block; color: var(--muted); }
tr.faint td { color: var(--muted); }
th button { all: unset; cursor: pointer; } th button::after { content: " ↕"; opacity: .5; }
.within { color: var(--good); } .due { color: var(--warn); } .lapsed { color: var(--bad); }
.untracked { color: var(--muted); } .late, .overdue { color: var(--warn); }
.missed { color: var(--bad); } .on-time { color: var(--good); }
.note { color: var(--warn); }
/* A phone: one chart a row, and chart text drawn larger, since the chart is scaled
   down to the screen (at 390 px wide, 18 units are 12 px): every other date goes. */
@media (max-width: 720px) {
  body { padding: 14px; }
  .charts { grid-template-columns: minmax(0, 1fr); }
  .tiles { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  figure { padding: 8px; }
  svg text { font-size: 18px; }
  svg text.minor { display: none; }
}
"""

SORT_SCRIPT = """
document.querySelectorAll("table.sortable th button").forEach(function (button) {
  button.addEventListener("click", function () {
    var th = button.parentElement, table = th.closest("table"), body = table.tBodies[0];
    var index = Array.prototype.indexOf.call(th.parentElement.children, th);
    var down = th.getAttribute("aria-sort") !== "descending";
    table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", down ? "descending" : "ascending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[index].dataset.value, y = b.cells[index].dataset.value;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (isNaN(nx) || isNaN(ny)) ? String(x).localeCompare(String(y)) : nx - ny;
      return down ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
// "report.html#sort=staleness" opens the contact table sorted by that column.
var wanted = decodeURIComponent((location.hash.match(/sort=([^&]+)/) || [])[1] || "");
document.querySelectorAll("table.sortable th button").forEach(function (button) {
  if (wanted && button.textContent === wanted) { button.click(); }
});
"""

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)

WIDTH, HEIGHT = 520, 250
ROWS = 200  # per list; the JSON output carries every row
CONTACT_ROWS = 2000
# Room for tick labels at the phone's text size (18 units) and the axis titles.
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 30, 56
COUNTS = 28  # the row of counts under a line chart, above its dates
FEW = 5  # a weekly share over fewer asks than this is drawn grey, off the line
WHOLE_WEEK = timedelta(days=6, hours=22)  # a week with a clock change is still whole


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _frame(chart_id: str, title: str, body: str) -> str:
    return (
        f'<svg id="{chart_id}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def _axes(
    top: float, fmt: Callable[[float], str], axes: tuple[str, str], *, counts: bool = False
) -> str:
    """Three grid lines with their values, the y title above them, the x title below;
    with `counts`, the plot ends higher, over a row of counts marked "n"."""
    plot_h = HEIGHT - TOP - BOTTOM - (COUNTS if counts else 0)
    y_title, x_title = axes
    parts = [
        f'<text class="title" x="{LEFT - 6}" y="{TOP - 14}">{escape(y_title)}</text>',
        f'<text class="title" x="{_num(LEFT + (WIDTH - LEFT - RIGHT) / 2)}" y="{HEIGHT - 4}" '
        f'text-anchor="middle">{escape(x_title)}</text>',
    ]
    if counts:
        parts.append(f'<text x="{LEFT - 6}" y="{HEIGHT - BOTTOM}" text-anchor="end">n</text>')
    for share in (0.0, 0.5, 1.0):
        y = TOP + plot_h * (1 - share)
        parts.append(
            f'<line class="axis" x1="{LEFT}" y1="{_num(y)}" x2="{WIDTH - RIGHT}" y2="{_num(y)}"/>'
            f'<text x="{LEFT - 6}" y="{_num(y + 5)}" text-anchor="end">{fmt(top * share)}</text>'
        )
    return "".join(parts)


def _tick(x: float, label: str, index: int, every: int, *, thin: bool) -> str:
    """A label under the axis: every `every`-th one; with `thin` (dates), on a phone only
    every other of those."""
    if index % every:
        return ""
    y = HEIGHT - BOTTOM + 24
    minor = ' class="minor"' if thin and (index // every) % 2 else ""
    return f'<text{minor} x="{_num(x)}" y="{_num(y)}" text-anchor="middle">{escape(label)}</text>'


def nice(top: float) -> float:
    """The axis top at or above `top`: 1, 2 or 5 times a power of ten, or a whole even
    number up to 10, so the middle grid line is a round value too."""
    if top <= 10:
        return float(max(2, math.ceil(top / 2) * 2))
    power = 10 ** math.floor(math.log10(top))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= top))


def bar_chart(
    chart_id: str,
    title: str,
    bars: Sequence[tuple[str, float]],
    *,
    axes: tuple[str, str],
    label_every: int = 1,
    bad: bool = False,
    faint: Sequence[bool] = (),
) -> str:
    """Vertical bars, one `rect class="datum"` per value above zero, labels under them.

    `axes` names the y and the x axis; a bar `faint` is drawn grey (a part week).
    """
    top = nice(max((v for _, v in bars), default=0.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(bars), 1)
    parts = [_axes(top, lambda v: _num(v), axes)]
    for i, (label, value) in enumerate(bars):
        x = LEFT + i * step
        h = plot_h * value / top
        grey = i < len(faint) and faint[i]
        kind = "datum" + (" faint" if grey else " bad" if bad else "")
        if value > 0:
            parts.append(
                f'<rect class="{kind}" x="{_num(x + step * 0.15)}" '
                f'y="{_num(TOP + plot_h - h)}" width="{_num(step * 0.7)}" height="{_num(h)}">'
                f"<title>{escape(label)}: {_num(value)}{' (so far)' if grey else ''}</title></rect>"
            )
        parts.append(_tick(x + step / 2, label, i, label_every, thin=label_every > 1))
    return _frame(chart_id, title, "".join(parts))


def line_chart(
    chart_id: str,
    title: str,
    points: Sequence[tuple[str, float | None, int, bool]],
    *,
    axes: tuple[str, str],
    top: float = 1.0,
    fmt: Callable[[float], str] = lambda v: f"{v:.0%}",
    label_every: int = 1,
) -> str:
    """A line through the points that count (`path class="datum"`), a circle on each point.

    Each point is (label, value, n, whole): n, the items it rests on, is written under
    it; a point of fewer than `FEW` items, or of a part week, is grey and off the line.
    """
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM - COUNTS
    step = plot_w / max(len(points), 1)
    parts = [_axes(top, fmt, axes, counts=True)]
    coords = []
    for i, (label, value, n, whole) in enumerate(points):
        x = LEFT + step * (i + 0.5)
        counts = whole and n >= FEW
        parts.append(f'<text x="{_num(x)}" y="{HEIGHT - BOTTOM}" text-anchor="middle">{n}</text>')
        if value is not None:
            y = TOP + plot_h * (1 - min(value, top) / top)
            if counts:
                coords.append((x, y))
            why = "" if counts else " (a part week)" if not whole else f" (only {n})"
            parts.append(
                f'<circle class="datum{"" if counts else " faint"}" cx="{_num(x)}" '
                f'cy="{_num(y)}" r="{3.5 if counts else 3}">'
                f"<title>{escape(label)}: {fmt(value)} of {n}{why}</title></circle>"
            )
        parts.append(_tick(x, label, i, label_every, thin=label_every > 1))
    if coords:
        d = " ".join(
            f"{'M' if i == 0 else 'L'}{_num(x)} {_num(y)}" for i, (x, y) in enumerate(coords)
        )
        parts.insert(1, f'<path class="datum" d="{d}"/>')
    return _frame(chart_id, title, "".join(parts))


def _day(value: datetime | None, zone: tzinfo) -> str:
    return "–" if value is None else value.astimezone(zone).strftime("%d %b %Y")


def _date(value: datetime | None, report: Report, zone: tzinfo) -> str:
    """A date in a table: the year only when it is not the report's."""
    if value is None:
        return "–"
    local = value.astimezone(zone)
    same = local.year == report.until.astimezone(zone).year
    return local.strftime("%d %b" if same else "%d %b %Y")


def _cadence(days: float | None) -> str:
    if days is None:
        return "–"
    return f"{days:.0f} days" if days >= 2 else f"{days * 24:.0f} hours"


def _ago(then: datetime, now: datetime, zone: tzinfo) -> str:
    """How long ago in calendar days in the user's zone, as nudges and the terminal say."""
    days = days_between(then, now, zone)
    return "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days"


def _who(name: str, address: str) -> str:
    """A contact: the name, and the address under it in small type."""
    if name:
        return f"{escape(name)}<small>{escape(address)}</small>"
    return escape(address)


def _whole(start: datetime, end: datetime) -> bool:
    """A whole week, not the period's first days or the current week so far."""
    return end - start >= WHOLE_WEEK


Header = str | tuple[str, str]  # a column, or (group, column) under a shared heading


def _table(
    headers: Sequence[Header],
    rows: Sequence[Sequence[str]],
    numeric: set[int],
    *,
    text: Set[int] = frozenset(),
    faint: Sequence[bool] = (),
) -> str:
    """A table in a scrolling box. Cells never wrap except the `text` columns (subjects);
    columns of one group share a heading above theirs; `faint` rows are greyed."""
    names = [h[1] if isinstance(h, tuple) else h for h in headers]
    groups = [h[0] if isinstance(h, tuple) else "" for h in headers]

    def cls(i: int) -> str:
        kind = "n" if i in numeric else "t" if i in text else ""
        return f' class="{kind}"' if kind else ""

    head = "".join(f"<th{cls(i)}>{escape(h)}</th>" for i, h in enumerate(names))
    if any(groups):
        top, i = [], 0
        while i < len(groups):
            j = i
            while j < len(groups) and groups[j] == groups[i]:
                j += 1
            label = escape(groups[i]) if groups[i] else ""
            span = f' colspan="{j - i}"' if j - i > 1 else ""
            top.append(f'<th class="group"{span}>{label}</th>' if label else "<th></th>" * (j - i))
            i = j
        head = f"<tr>{''.join(top)}</tr><tr>{head}</tr>"
    else:
        head = f"<tr>{head}</tr>"
    body = "".join(
        ('<tr class="faint">' if k < len(faint) and faint[k] else "<tr>")
        + "".join(f"<td{cls(i)}>{cell}</td>" for i, cell in enumerate(row))
        + "</tr>"
        for k, row in enumerate(rows)
    )
    if not rows:
        body = f'<tr><td colspan="{len(headers)}" class="muted">none</td></tr>'
    return f'<div class="wide"><table><thead>{head}</thead><tbody>{body}</tbody></table></div>'


def _tiers(report: Report) -> str:
    def row(f: Figures) -> list[str]:
        return [
            escape(f.tier),
            format_hours(f.reply_within_hours),
            str(f.asked),
            format_hours(f.median_reply_hours),
            format_hours(f.p90_reply_hours),
            format_share(f.within_share),
            str(f.open_debts),
            str(f.questions_waiting),
            str(f.promises_on_time),
            str(f.promises_late),
            str(f.promises_missed),
            str(f.promises_open),
            str(f.contacts_within),
            str(f.contacts_due),
            str(f.contacts_lapsed),
        ]

    shown = [f for f in report.tiers if f.asked or f.questions_waiting or f.contacts_within]
    rows = [row(f) for f in shown]
    rows.append([f"<b>{cell}</b>" for cell in row(report.overall)])
    headers: list[Header] = [
        "tier",
        ("replies", "window"),
        ("replies", "asked"),
        ("replies", "median"),
        ("replies", "90%"),
        ("replies", "in time"),
        ("replies", "owed"),
        "waiting",
        ("promises", "on time"),
        ("promises", "late"),
        ("promises", "missed"),
        ("promises", "open"),
        ("contacts", "within"),
        ("contacts", "due"),
        ("contacts", "lapsed"),
    ]
    return _table(headers, rows, set(range(1, 15)))


def _contacts(report: Report, zone: tzinfo) -> str:
    headers = (
        ("contact", "text"),
        ("tier", "text"),
        ("value", "num"),
        ("cadence", "text"),
        ("learned", "num"),
        ("last touch", "num"),
        ("since", "num"),
        ("staleness", "num"),
        ("status", "text"),
        ("owed", "num"),
    )
    head = "".join(
        f'<th class="{"n" if kind == "num" else ""}"><button type="button">'
        f"{escape(name)}</button></th>"
        for name, kind in headers
    )
    rows = []
    for c in report.keep_in_touch.contacts[:CONTACT_ROWS]:
        since = days_between(c.last_touch, report.until, zone)
        cells = (
            (c.name or c.address, _who(c.name, c.address)),
            (c.tier, escape(c.tier)),
            (str(c.weight), _num(c.weight)),
            (c.rule_cadence, escape(c.rule_cadence)),
            (
                str(c.learned_cadence_days if c.learned_cadence_days is not None else -1),
                _cadence(c.learned_cadence_days),
            ),
            (str(c.last_touch.timestamp()), _date(c.last_touch, report, zone)),
            (str(since), str(since)),
            (
                str(c.staleness if c.staleness is not None else -1),
                "–" if c.staleness is None else f"{c.staleness:.1f}×",
            ),
            (
                c.status,
                f'<span class="{c.status}">{escape(c.status)}</span>'
                + (' <span class="muted">new</span>' if c.new else ""),
            ),
            (str(c.open_debts), str(c.open_debts)),
        )
        rows.append(
            "<tr>"
            + "".join(
                f'<td class="{"n" if kind == "num" else ""}" data-value="{escape(value)}">'
                f"{shown}</td>"
                for (value, shown), (_, kind) in zip(cells, headers, strict=True)
            )
            + "</tr>"
        )
    return (
        f'<div class="wide"><table class="sortable" id="contacts"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _charts(report: Report, zone: tzinfo) -> str:
    """Four charts, two by two: reply times, in time per week, lapsed, owed."""
    weeks = report.weeks
    labels = [w.start.astimezone(zone).strftime("%d %b") for w in weeks]
    whole = [_whole(w.start, w.end) for w in weeks]
    part = [not w for w in whole]
    every = max(1, -(-len(weeks) // 7))  # at most seven dates under a chart
    grey = "Grey: a part week (the period's first days, or this week so far)."
    charts = [
        (
            "Time to reply (asks answered this period)",
            bar_chart(
                "chart-reply-times",
                "Time to reply",
                [(b.label, b.count) for b in report.reply_histogram],
                axes=("asks", "time to reply"),
            ),
            "",
        ),
        (
            "Answered within the reply window, per week",
            line_chart(
                "chart-within-window",
                "Share answered within the reply window per week",
                [
                    (label, w.within_share, w.judged, ok)
                    for label, w, ok in zip(labels, weeks, whole, strict=True)
                ],
                axes=("answered in time", "week of"),
                label_every=every,
            ),
            f"n: asks of the week whose window has passed. Grey, off the line: fewer than "
            f"{FEW} asks, or a part week.",
        ),
        (
            "Lapsed contacts, per week",
            bar_chart(
                "chart-lapsed",
                "Lapsed contacts per week",
                list(zip(labels, [float(w.contacts_lapsed) for w in weeks], strict=True)),
                axes=("contacts", "week of"),
                label_every=every,
                bad=True,
                faint=part,
            ),
            grey,
        ),
        (
            "Replies owed at each week's end",
            bar_chart(
                "chart-owed",
                "Replies owed at the end of each week",
                list(zip(labels, [float(w.open_debts) for w in weeks], strict=True)),
                axes=("replies owed", "week of"),
                label_every=every,
                faint=part,
            ),
            grey,
        ),
    ]
    return "".join(
        f"<figure><figcaption>{escape(caption)}</figcaption>{svg}"
        + (f"<p>{escape(legend)}</p>" if legend else "")
        + "</figure>"
        for caption, svg, legend in charts
    )


def render(report: Report, zone: tzinfo) -> str:
    """The whole report as one HTML document."""
    o, k, n = report.overall, report.keep_in_touch, report.nudges
    weeks = report.weeks
    judged = o.promises_on_time + o.promises_late + o.promises_missed
    tiles = [
        (
            f"{format_hours(o.median_reply_hours)} "
            f"<small>90%: {format_hours(o.p90_reply_hours)}</small>",
            "median reply",
        ),
        (format_share(o.within_share), "answered within window"),
        (str(o.open_debts), "replies owed"),
        (str(o.questions_waiting), "waiting on others"),
        (f"{o.promises_on_time}/{judged}", "promises kept on time"),
        (f"{k.within}/{k.tracked}", "contacts within cadence"),
        (str(k.lapsed), "lapsed contacts"),
        (format_share(n.dismiss_rate), "nudges dismissed"),
    ]
    names = {c.address: c.name or c.address for c in k.contacts}
    debts = _table(
        ("contact", "tier", "subject", "asked", "waiting"),
        [
            [
                _who(d.name, d.contact),
                escape(d.tier),
                escape(d.subject),
                _date(d.asked_at, report, zone),
                f'<span class="{"overdue" if d.overdue else ""}">'
                f"{_ago(d.asked_at, report.until, zone)}</span>",
            ]
            for d in sorted(report.debts, key=lambda d: -d.age_days)[:ROWS]
        ],
        set(),
        text={2},
    )
    waiting = _table(
        ("contact", "tier", "subject", "asked", "waiting"),
        [
            [
                _who(w.name, w.contact),
                escape(w.tier),
                escape(w.subject),
                _date(w.asked_at, report, zone),
                f'<span class="{"overdue" if w.overdue else ""}">'
                f"{_ago(w.asked_at, report.until, zone)}</span>",
            ]
            for w in sorted(report.waiting, key=lambda w: -w.age_days)[:ROWS]
        ],
        set(),
        text={2},
    )
    promises = _table(
        ("contact", "subject", "made", "due", "kept", "status"),
        [
            [
                _who(p.name, p.contact),
                escape(p.subject),
                _date(p.made_at, report, zone),
                _date(p.due, report, zone),
                _date(p.kept_at, report, zone),
                f'<span class="{p.status}">{escape(p.status)}</span>',
            ]
            for p in report.promises[-ROWS:]
        ],
        set(),
        text={1},
    )
    kinds = _table(
        ("kind", "placed", "done", "dismissed", "snoozed", "resolved", "dismiss rate", "cause"),
        [
            [
                escape(kind_label(r.kind)),
                str(r.placed),
                str(r.done),
                str(r.dismissed),
                str(r.snoozed),
                str(r.resolved),
                format_share(r.dismiss_rate),
                escape(" / ".join(x for x in (r.top_dismiss_rule, r.top_dismiss_signal) if x))
                or "–",
            ]
            for r in n.kinds
        ],
        set(range(1, 7)),
        text={7},
    )
    cause = n.top_dismiss_rule or n.top_dismiss_signal
    cause_line = (
        f"<p>Most dismissals came from <b>{escape(cause.name)}</b> ({cause.dismissals}). "
        "A high dismiss rate is you telling nurture it is wrong: adjust that rule.</p>"
        if cause
        else ""
    )
    scope = f"tier {report.tier_filter}" if report.tier_filter else "all tiers"
    quiet = ", ".join(escape(names[a]) for a in k.gone_quiet) or "none"
    new = ", ".join(escape(names[a]) for a in k.new) or "none"
    whole = [_whole(w.start, w.end) for w in weeks]
    trend_rows = [
        [
            w.start.astimezone(zone).strftime("%d %b")
            + ("" if ok else " (so far)" if w.end == report.until else " (part)"),
            str(w.asked),
            format_hours(w.median_reply_hours),
            f"{format_share(w.within_share)} of {w.judged}" if w.judged else "–",
            str(w.open_debts),
            str(w.questions_waiting),
            str(w.promises_on_time),
            str(w.promises_late),
            str(w.promises_missed),
            str(w.contacts_within),
            str(w.contacts_due),
            str(w.contacts_lapsed),
            str(w.nudges_placed),
            str(w.nudges_dismissed),
        ]
        for w, ok in zip(weeks, whole, strict=True)
    ]
    trend = _table(
        (
            "week of",
            ("asks", "asked"),
            ("asks", "median reply"),
            ("asks", "in time"),
            "owed",
            "waiting",
            ("promises", "on time"),
            ("promises", "late"),
            ("promises", "missed"),
            ("contacts", "within"),
            ("contacts", "due"),
            ("contacts", "lapsed"),
            ("nudges", "placed"),
            ("nudges", "dismissed"),
        ),
        trend_rows,
        set(range(1, 14)),
        faint=[not ok for ok in whole],
    )
    tile_html = "".join(
        f'<div class="tile"><b>{v}</b><span>{escape(t)}</span></div>' for v, t in tiles
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>nurture · relationship report</title>
<style>{CSS}</style>
</head>
<body>
<h1>Relationship report</h1>
<div class="muted"><span class="nowrap">{_day(report.since, zone)} –
{_day(report.until, zone)}</span> · {scope} · {report.messages} messages</div>
<p class="privacy">{escape(report.privacy)}</p>
{"".join(f'<p class="note">{escape(note)}</p>' for note in report.notes)}
<div class="tiles">{tile_html}</div>
<h2>Charts</h2>
<div class="charts">{_charts(report, zone)}</div>
<h2>Per tier</h2>
{_tiers(report)}
<h2>Replies you owe ({len(report.debts)})</h2>
{debts}
<h2>Waiting on others ({len(report.waiting)})</h2>
{waiting}
<h2>Promises ({len(report.promises)})</h2>
{promises}
<h2>Keep in touch: {k.within} within cadence, {k.due} due, {k.lapsed} lapsed</h2>
<p>Went quiet this period: {quiet}<br>New relationships: {new}</p>
<p class="muted">Click a column to sort. <i>Value</i> is the tier's weight; <i>cadence</i>
is set by a rule, or learned from your history (<i>learned</i>); <i>since</i> counts days
since the last touch, and <i>staleness</i> divides them by the cadence.</p>
{_contacts(report, zone)}
<h2>nurture's own record</h2>
<p>{n.placed} placed, {n.done} done, {n.dismissed} dismissed, {n.snoozed} snoozed,
{n.resolved} resolved by themselves.</p>
{kinds}
{cause_line}
<h2>Weekly trend</h2>
<p class="muted">In time: the share of the week's asks answered within their reply window,
of those whose window has passed. Grey rows are part weeks: the period's first days, and
this week so far.</p>
{trend}
<script>{SORT_SCRIPT}</script>
</body>
</html>
"""
