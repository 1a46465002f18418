"""`nurture report`: how well you keep in touch, in the terminal, as HTML or as JSON."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from ..durations import parse_duration
from ..errors import Problem, UserError
from ..files import write_private
from ..model import UTC
from .common import app_from, console, errors, fail, parse_now


@click.command()
@click.option(
    "--since",
    "period",
    default="90d",
    show_default=True,
    help='How far back to look: a duration such as "90d", "12w".',
)
@click.option("--tier", default=None, help="Only contacts of this tier.")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report as one self-contained HTML page with charts to this file (0600).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object (nurture/report/schema.json)."
)
@click.option(
    "--no-analyse",
    is_flag=True,
    help="Do not read the period's unanalysed mail first (faster; fewer asks are seen).",
)
@click.option("--now", "now_text", hidden=True, help="Pretend it is this ISO time (demo, tests).")
@click.pass_context
def report(
    ctx: click.Context,
    period: str,
    tier: str | None,
    html_path: Path | None,
    as_json: bool,
    no_analyse: bool,
    now_text: str | None,
) -> None:
    """Relationship health: reply times, debts, promises, keep-in-touch, nudges.

    Shows names, addresses, dates and subjects only — never message text.
    """
    from ..report import make, to_json
    from ..report.render_html import render as render_html
    from ..report.render_text import render as render_text

    try:
        span = parse_duration(period)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    now = parse_now(now_text) or datetime.now(UTC)
    with app_from(ctx) as app:
        if tier is not None and tier not in app.rules.tiers:
            fail(
                UserError(
                    f"no tier named {tier!r}",
                    [Problem("--tier", f"tiers: {', '.join(sorted(app.rules.tiers))}")],
                )
            )
        if not no_analyse:
            app.analyse_period(
                now - span,
                now,
                lambda n: errors.print(f"reading {n} messages of the period once (not stored) …"),
            )
        result = make(app.state, app.rules, app.config.addresses, now, span, tier)
        zone = app.rules.work.zone
        if html_path is not None:
            html_path.parent.mkdir(parents=True, exist_ok=True)
            # Names, addresses and subjects of your mail: readable by you only.
            write_private(html_path, render_html(result, zone))
        if as_json:
            click.echo(json.dumps(to_json(result), ensure_ascii=False, indent=2))
        elif html_path is not None:
            console.print(f"HTML report written to {html_path.resolve()}", soft_wrap=True)
        else:
            render_text(result, console, zone)
