"""The weekly report's files: what was published, made again when stale, written owner-only.

`nurture.weekly` decides (pure) when the report is stale and what the week's
event says; this module does the I/O that goes with it, for the application:
it reads ``reports/latest.json``, makes the report again through
`nurture.report`, and writes ``latest.html``, the week's copy and the summary,
mode 0600 in a 0700 folder (the report names people, addresses and subjects).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from .files import write_private
from .model import UTC
from .report import make
from .report.render_html import render
from .rules import Rulebook
from .state import State
from .weekly import Published, Slot, copy_name, stale

log = logging.getLogger(__name__)

FOLDER = "reports"
LATEST = "latest.html"
META = "latest.json"


def folder(state_dir: Path) -> Path:
    return state_dir / FOLDER


def published(where: Path) -> Published | None:
    """What the last run wrote, or None when there is no complete report to link."""
    try:
        meta = json.loads((where / META).read_text(encoding="utf-8"))
        result = Published(
            summary=str(meta["summary"]),
            made=datetime.fromisoformat(meta["made"]).astimezone(UTC),
            since=timedelta(seconds=float(meta["since"])),
            latest=where / LATEST,
            copy=where / str(meta["copy"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return result if result.latest.is_file() else None


def publish(
    where: Path, html: str, summary: str, made: datetime, since: timedelta, name: str
) -> Published:
    """Write the report (the week's copy `name` and latest.html), then its summary."""
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(where, 0o700)
    copy = where / name
    write_private(copy, html)
    write_private(where / LATEST, html)
    meta = {
        "summary": summary,
        "made": made.astimezone(UTC).isoformat(),
        "since": since.total_seconds(),
        "copy": name,
    }
    write_private(where / META, json.dumps(meta, ensure_ascii=False))  # last: the pair is complete
    return Published(summary, made.astimezone(UTC), since, where / LATEST, copy)


def refresh(
    where: Path,
    state: State,
    rules: Rulebook,
    addresses: Sequence[str],
    now: datetime,
    current: Slot,
    *,
    analyse: Callable[[datetime, timedelta], object] | None,
) -> Published | None:
    """The report to link this week: the files in `where`, made again when stale.

    `analyse(now, period)` reads the period's mail first; without it (a dry run)
    nothing is analysed or written, and a missing report is computed in memory
    only, to show what the event would say. A report that cannot be made does
    not stop the nudges: the last one is linked, and the next reconcile tries again.
    """
    pub = published(where)
    if pub is not None and not stale(pub, rules, now, current):
        return pub
    since = rules.report.since
    name = copy_name(current, rules)
    try:
        if analyse is None:
            if pub is not None:
                return pub
            result = make(state, rules, addresses, now, since)
            return Published(result.summary, now, since, where / LATEST, where / name)
        analyse(now, since)
        result = make(state, rules, addresses, now, since)
        html = render(result, rules.work.zone)
        return publish(where, html, result.summary, now, since, name)
    except Exception as exc:  # a connector or disk failure; the calendar goes on without it
        log.warning(
            "weekly report: could not make it (%s); %s",
            exc,
            "linking the last one" if pub else "no event until it can be made",
        )
        return pub
