"""The report as one self-contained HTML file: inline CSS, inline SVG charts, no network.

The charts are drawn here as plain SVG (bars, a line with points), coloured
through CSS variables so they read in light and dark mode
(``prefers-color-scheme``). A Content-Security-Policy forbids every fetch;
the only script is a few lines that sort the per-contact table.
Only names, addresses, dates and subjects appear — never message text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from html import escape

from .records import Figures, Report, format_hours, format_share

CSS = """
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1d2430; --muted: #5b6676;
  --line: #d9dee5; --card: #f5f7fa; --accent: #2563eb; --good: #15803d; --warn: #b45309;
  --bad: #b91c1c; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #12161c; --fg: #e6e9ee; --muted: #9aa4b2; --line: #2c3440; --card: #1b212a;
    --accent: #60a5fa; --good: #4ade80; --warn: #fbbf24; --bad: #f87171; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1120px; padding: 24px; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.muted { color: var(--muted); } .privacy { color: var(--muted); font-size: 13px; }
.summary { font-weight: 600; margin: 12px 0 16px; padding: 10px 14px; background: var(--card);
  border-left: 4px solid var(--accent); border-radius: 4px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; }
.tile { background: var(--card); border-radius: 6px; padding: 10px 12px; }
.tile b { display: block; font-size: 22px; } .tile span { color: var(--muted); font-size: 12px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 16px; }
figure { margin: 0; background: var(--card); border-radius: 6px; padding: 10px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg { width: 100%; height: auto; display: block; }
svg text { fill: var(--muted); font-size: 11px; }
svg .axis { stroke: var(--line); stroke-width: 1; }
svg rect.datum { fill: var(--accent); } svg rect.datum.bad { fill: var(--bad); }
svg path.datum { fill: none; stroke: var(--accent); stroke-width: 2; }
svg circle.datum { fill: var(--accent); }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); }
th { font-weight: 600; color: var(--muted); vertical-align: bottom; }
.wide { overflow-x: auto; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
th button { all: unset; cursor: pointer; } th button::after { content: " ↕"; opacity: .5; }
.within { color: var(--good); } .due { color: var(--warn); } .lapsed { color: var(--bad); }
.untracked { color: var(--muted); } .late, .overdue { color: var(--warn); }
.missed { color: var(--bad); } .on-time { color: var(--good); }
.note { color: var(--warn); }
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

WIDTH, HEIGHT = 520, 220
ROWS = 200  # per list; the JSON output carries every row
CONTACT_ROWS = 2000
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 12, 34


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _frame(chart_id: str, title: str, body: str) -> str:
    return (
        f'<svg id="{chart_id}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def _axes(top: float, fmt: Callable[[float], str]) -> str:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = []
    for share in (0.0, 0.5, 1.0):
        y = TOP + plot_h * (1 - share)
        parts.append(
            f'<line class="axis" x1="{LEFT}" y1="{_num(y)}" x2="{WIDTH - RIGHT}" y2="{_num(y)}"/>'
            f'<text x="{LEFT - 4}" y="{_num(y + 4)}" text-anchor="end">{fmt(top * share)}</text>'
        )
    return "".join(parts)


def bar_chart(
    chart_id: str,
    title: str,
    bars: Sequence[tuple[str, float]],
    *,
    label_every: int = 1,
    bad: bool = False,
) -> str:
    """Vertical bars, one `rect class="datum"` per value above zero, labels under them."""
    top = max((v for _, v in bars), default=0.0) or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(bars), 1)
    parts = [_axes(top, lambda v: _num(v))]
    for i, (label, value) in enumerate(bars):
        x = LEFT + i * step
        h = plot_h * value / top
        if value > 0:
            parts.append(
                f'<rect class="datum{" bad" if bad else ""}" x="{_num(x + step * 0.15)}" '
                f'y="{_num(TOP + plot_h - h)}" width="{_num(step * 0.7)}" height="{_num(h)}">'
                f"<title>{escape(label)}: {_num(value)}</title></rect>"
            )
        if i % label_every == 0:
            parts.append(
                f'<text x="{_num(x + step / 2)}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    return _frame(chart_id, title, "".join(parts))


def line_chart(
    chart_id: str,
    title: str,
    points: Sequence[tuple[str, float | None]],
    *,
    top: float = 1.0,
    fmt: Callable[[float], str] = lambda v: f"{v:.0%}",
    label_every: int = 1,
) -> str:
    """A line through the known points (`path class="datum"`) and a circle on each."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points), 1)
    parts = [_axes(top, fmt)]
    coords = []
    for i, (label, value) in enumerate(points):
        x = LEFT + step * (i + 0.5)
        if value is not None:
            y = TOP + plot_h * (1 - min(value, top) / top)
            coords.append((x, y))
            parts.append(
                f'<circle class="datum" cx="{_num(x)}" cy="{_num(y)}" r="3.5">'
                f"<title>{escape(label)}: {fmt(value)}</title></circle>"
            )
        if i % label_every == 0:
            parts.append(
                f'<text x="{_num(x)}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    if coords:
        d = " ".join(
            f"{'M' if i == 0 else 'L'}{_num(x)} {_num(y)}" for i, (x, y) in enumerate(coords)
        )
        parts.insert(1, f'<path class="datum" d="{d}"/>')
    return _frame(chart_id, title, "".join(parts))


def _day(value: datetime | None, zone: tzinfo) -> str:
    return "–" if value is None else value.astimezone(zone).strftime("%d %b %Y")


def _age(days: float | None) -> str:
    if days is None:
        return "–"
    return f"{days:.0f} days" if days >= 2 else f"{days * 24:.0f} hours"


def _who(name: str, address: str) -> str:
    if name:
        return f'{escape(name)} <span class="muted">&lt;{escape(address)}&gt;</span>'
    return escape(address)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int]) -> str:
    head = "".join(
        f'<th class="n">{escape(h)}</th>' if i in numeric else f"<th>{escape(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    if not rows:
        body = f'<tr><td colspan="{len(headers)}" class="muted">none</td></tr>'
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="wide">{table}</div>'


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
            f"{f.promises_on_time} / {f.promises_late} / {f.promises_missed} / {f.promises_open}",
            f"{f.contacts_within} / {f.contacts_due} / {f.contacts_lapsed}",
        ]

    shown = [f for f in report.tiers if f.asked or f.questions_waiting or f.contacts_within]
    rows = [row(f) for f in shown]
    total = row(report.overall)
    rows.append([f"<b>{cell}</b>" for cell in total])
    headers = (
        "tier",
        "reply window",
        "asked",
        "median reply",
        "90th pct",
        "within window",
        "owed",
        "waiting",
        "promises on time / late / missed / open",
        "contacts within / due / lapsed",
    )
    return _table(headers, rows, set(range(1, 10)))


def _contacts(report: Report, zone: tzinfo) -> str:
    headers = (
        ("contact", "text"),
        ("tier", "text"),
        ("value", "num"),
        ("rule cadence", "text"),
        ("learned cadence", "num"),
        ("last touch", "num"),
        ("days since", "num"),
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
        cells = (
            (c.name or c.address, _who(c.name, c.address)),
            (c.tier, escape(c.tier)),
            (str(c.weight), _num(c.weight)),
            (c.rule_cadence, escape(c.rule_cadence)),
            (
                str(c.learned_cadence_days if c.learned_cadence_days is not None else -1),
                _age(c.learned_cadence_days),
            ),
            (str(c.last_touch.timestamp()), _day(c.last_touch, zone)),
            (str(c.days_since), f"{c.days_since:.0f}"),
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
        f'<table class="sortable" id="contacts"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def render(report: Report, zone: tzinfo) -> str:
    """The whole report as one HTML document."""
    o, k, n = report.overall, report.keep_in_touch, report.nudges
    weeks = report.weeks
    labels = [w.start.astimezone(zone).strftime("%d %b") for w in weeks]
    every = max(1, len(weeks) // 7)
    charts = [
        (
            "Reply-time distribution (asks answered this period)",
            bar_chart(
                "chart-reply-times",
                "Reply-time distribution",
                [(b.label, b.count) for b in report.reply_histogram],
            ),
        ),
        (
            "Answered within the reply window, per week",
            line_chart(
                "chart-within-window",
                "Share answered within the reply window per week",
                list(zip(labels, [w.within_share for w in weeks], strict=True)),
                label_every=every,
            ),
        ),
        (
            "Lapsed contacts, per week",
            bar_chart(
                "chart-lapsed",
                "Lapsed contacts per week",
                list(zip(labels, [float(w.contacts_lapsed) for w in weeks], strict=True)),
                label_every=every,
                bad=True,
            ),
        ),
        (
            "Replies owed at each week's end",
            bar_chart(
                "chart-owed",
                "Replies owed at the end of each week",
                list(zip(labels, [float(w.open_debts) for w in weeks], strict=True)),
                label_every=every,
            ),
        ),
    ]
    tiles = [
        (format_hours(o.median_reply_hours), "median time to reply"),
        (format_hours(o.p90_reply_hours), "90th percentile"),
        (format_share(o.within_share), "answered within window"),
        (str(o.open_debts), "replies owed"),
        (str(o.questions_waiting), "waiting on others"),
        (
            f"{o.promises_on_time}/{o.promises_on_time + o.promises_late + o.promises_missed}",
            "promises kept on time",
        ),
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
                _day(d.asked_at, zone),
                f'<span class="{"overdue" if d.overdue else ""}">{_age(d.age_days)}</span>',
            ]
            for d in sorted(report.debts, key=lambda d: -d.age_days)[:ROWS]
        ],
        set(),
    )
    waiting = _table(
        ("contact", "tier", "subject", "asked", "waiting"),
        [
            [
                _who(w.name, w.contact),
                escape(w.tier),
                escape(w.subject),
                _day(w.asked_at, zone),
                f'<span class="{"overdue" if w.overdue else ""}">{_age(w.age_days)}</span>',
            ]
            for w in sorted(report.waiting, key=lambda w: -w.age_days)[:ROWS]
        ],
        set(),
    )
    promises = _table(
        ("contact", "subject", "made", "due", "kept", "status"),
        [
            [
                _who(p.name, p.contact),
                escape(p.subject),
                _day(p.made_at, zone),
                _day(p.due, zone),
                _day(p.kept_at, zone),
                f'<span class="{p.status}">{escape(p.status)}</span>',
            ]
            for p in report.promises[-ROWS:]
        ],
        set(),
    )
    kinds = _table(
        ("kind", "placed", "done", "dismissed", "snoozed", "resolved", "dismiss rate", "cause"),
        [
            [
                escape(r.kind),
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
    trend_rows = [
        [
            _day(w.start, zone),
            str(w.asked),
            format_hours(w.median_reply_hours),
            format_share(w.within_share),
            str(w.open_debts),
            str(w.questions_waiting),
            f"{w.promises_on_time}/{w.promises_late}/{w.promises_missed}",
            f"{w.contacts_within}/{w.contacts_due}/{w.contacts_lapsed}",
            f"{w.nudges_placed}/{w.nudges_done}/{w.nudges_dismissed}",
        ]
        for w in weeks
    ]
    trend = _table(
        (
            "week of",
            "asked",
            "median reply",
            "within window",
            "owed",
            "waiting",
            "promises on time/late/missed",
            "within/due/lapsed",
            "nudges placed/done/dismissed",
        ),
        trend_rows,
        set(range(1, 9)),
    )
    figures = "".join(
        f"<figure><figcaption>{escape(caption)}</figcaption>{svg}</figure>"
        for caption, svg in charts
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
<div class="muted">{_day(report.since, zone)} – {_day(report.until, zone)} · {scope} ·
{report.messages} messages</div>
<p class="privacy">{escape(report.privacy)}</p>
<div class="summary" id="summary">{escape(report.summary)}</div>
{"".join(f'<p class="note">{escape(note)}</p>' for note in report.notes)}
<div class="tiles">{tile_html}</div>
<h2>Charts</h2>
<div class="charts">{figures}</div>
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
<p class="muted">Click a column to sort: <i>value</i> is the tier's weight,
<i>staleness</i> is days since the last touch divided by the cadence.</p>
{_contacts(report, zone)}
<h2>nurture's own record</h2>
<p>{n.placed} placed, {n.done} done, {n.dismissed} dismissed, {n.snoozed} snoozed,
{n.resolved} resolved by themselves.</p>
{kinds}
{cause_line}
<h2>Weekly trend</h2>
{trend}
<script>{SORT_SCRIPT}</script>
</body>
</html>
"""
