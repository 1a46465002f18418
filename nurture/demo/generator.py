"""Write the demo: a Maildir++, a vdir calendar, config and rule files, and the ground truth.

`generate(dest, anchor)` is deterministic: the same anchor gives a
byte-identical tree (file names, contents and modification times), because
every random choice comes from one seeded generator in `story` and MIME
boundaries and Message-IDs are derived from it, never from the clock.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from ..errors import Problem, UserError
from . import people as P
from .bulk import generate_bulk
from .calendar import to_ical
from .mail import SENT, Mail, render
from .people import ALEX, ALEX_ALIAS, Person
from .story import Story, iso
from .timeline import build

__all__ = ["DemoPaths", "generate", "generate_bulk", "is_current"]

HOSTNAME = "brightpath-demo"
# Bump when the sample changes (its story, its layout, its config): a sample made by an
# older nurture is then made again instead of being reused.
SAMPLE_VERSION = 2


@dataclass(frozen=True, slots=True)
class DemoPaths:
    """Where `generate` put everything."""

    root: Path
    maildir: Path
    calendar: Path
    config: Path
    rules: Path
    truth: Path
    anchor: datetime


def is_current(dest: Path) -> bool:
    """Whether `dest` holds a complete sample made by this version of the generator."""
    try:
        with (Path(dest) / "config.toml").open(encoding="utf-8") as config:
            return config.readline() == _CONFIG.partition("\n")[0] + "\n"
    except OSError:
        return False


def generate(dest: Path, anchor: datetime) -> DemoPaths:
    """Write six months of Alex Morgan's mail and calendar into `dest`, ending at `anchor`.

    `dest` must be absent or empty, so a demo never mixes with older files.
    """
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UserError(
            "cannot write the demo",
            [Problem(str(dest), "exists and is not an empty folder", "choose a new folder")],
        )
    story = build(anchor)
    paths = DemoPaths(
        root=dest,
        maildir=dest / "mail",
        calendar=dest / "calendar",
        config=dest / "config.toml",
        rules=dest / "rules",
        truth=dest / "truth.json",
        anchor=story.anchor,
    )
    _write_maildir(paths.maildir, story)
    _write_calendar(paths.calendar, story)
    _write_config(paths)
    paths.truth.write_text(
        json.dumps(truth(story), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    # Files other than mail carry the anchor as their time, so the whole tree is reproducible.
    stamp = int(story.anchor.timestamp())
    sent_marker = paths.maildir / ".Sent" / "maildirfolder"
    for path in (
        paths.config,
        paths.truth,
        sent_marker,
        *paths.rules.iterdir(),
        *paths.calendar.iterdir(),
    ):
        os.utime(path, (stamp, stamp))
    return paths


# ---- Maildir ---------------------------------------------------------------------


def _make_maildir(path: Path) -> None:
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)


def _write_maildir(root: Path, story: Story) -> None:
    """INBOX at the root, the sent folder as `.Sent` (Maildir++)."""
    _make_maildir(root)
    _make_maildir(root / ".Sent")
    (root / ".Sent" / "maildirfolder").write_bytes(b"")
    answered = {m.parent.message_id for m in story.mails if m.from_user and m.parent is not None}
    for seq, mail in enumerate(story.mails, start=1):
        folder = root / ".Sent" if mail.folder == SENT else root
        stamp = int(mail.date.timestamp())
        base = f"{stamp}.M{seq:06d}P4242.{HOSTNAME}"
        if mail.seen:
            flags = "RS" if mail.message_id in answered and mail.folder != SENT else "S"
            path = folder / "cur" / f"{base}:2,{flags}"
        else:
            path = folder / "new" / base
        path.write_bytes(render(mail))
        os.utime(path, (stamp, stamp))


# ---- calendar --------------------------------------------------------------------


def _write_calendar(root: Path, story: Story) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for event in story.events:
        name = event.uid.split("@", 1)[0] + ".ics"
        (root / name).write_text(to_ical(event), encoding="utf-8", newline="")


# ---- config and rules ------------------------------------------------------------

_CONFIG = f"""\
# nurture demo, sample {SAMPLE_VERSION}: Alex Morgan's mail and calendar (generated; deletable).
[user]
name = "Alex Morgan"
addresses = ["alex@brightpath.example", "alex.morgan@mail.example"]

[paths]
state = "state"   # the demo keeps its own state beside its data, never in yours

[accounts.mail]
connector = "local"
maildir = "mail"

[accounts.calendar]
connector = "local"
calendar = "calendar"
"""

_TIERS = """\
# Tiers for the demo. Durations: "90m", "36h", "2d", "3w".
[tiers.key]
weight = 3.0
reply_within = "1d"
follow_up_after = "3d"
cadence = "learned"
recover = true

[tiers.client]
weight = 2.0
reply_within = "2d"
follow_up_after = "5d"
cadence = "learned"
recover = true

[tiers.prospect]
weight = 1.5
reply_within = "1d"
follow_up_after = "4d"
cadence = "learned"
recover = true

[tiers.colleague]
weight = 1.0
reply_within = "2d"
follow_up_after = "5d"
cadence = "off"
recover = false

[tiers.default]
weight = 1.0
reply_within = "3d"
follow_up_after = "7d"
cadence = "learned"
recover = true
"""

_WORK = """\
[work]
timezone = "Europe/London"
days = ["mon", "tue", "wed", "thu", "fri"]
start = "09:00"
end = "17:30"

[tasks]
calendar = "calendar"
length = "20m"
daily_budget = 6
grouping = "event"
as = "event"
"""


def _contacts_toml() -> str:
    lines = ["# Who is who (first match wins; globs are case-insensitive, on the address)."]
    for pattern, tier, escalation in P.CONTACT_RULES:
        lines += ["", "[[contacts]]", f'match = "{pattern}"', f'tier = "{tier}"']
        if escalation:
            lines.append(f'escalation = "{escalation}"')
    return "\n".join(lines) + "\n"


def _write_config(paths: DemoPaths) -> None:
    paths.config.write_text(_CONFIG, encoding="utf-8")
    paths.rules.mkdir(parents=True, exist_ok=True)
    (paths.rules / "contacts.toml").write_text(_contacts_toml(), encoding="utf-8")
    (paths.rules / "tiers.toml").write_text(_TIERS, encoding="utf-8")
    (paths.rules / "work.toml").write_text(_WORK, encoding="utf-8")


# ---- ground truth ----------------------------------------------------------------


def tier_of(address: str) -> str:
    """The tier the demo's contacts.toml gives an address (first match wins)."""
    for pattern, tier, _ in P.CONTACT_RULES:
        if fnmatch(address.lower(), pattern.lower()):
            return tier
    return "default"


def _involves(mail: Mail, person: Person) -> bool:
    return person is mail.sender or person in mail.to or person in mail.cc


def _last_two_way(story: Story, person: Person) -> datetime | None:
    """Last mail or meeting between Alex and `person`, if they ever wrote both ways."""
    user = (ALEX, ALEX_ALIAS)
    inbound = [
        m.date
        for m in story.mails
        if m.sender is person and any(u in m.to or u in m.cc for u in user)
    ]
    outbound = [m.date for m in story.mails if m.sender in user and _involves(m, person)]
    if not inbound or not outbound:
        return None
    met = [
        e.end
        for e in story.events
        if isinstance(e.end, datetime)
        and e.rrule is None
        and person in (e.organizer, *e.attendees)
        and e.end <= story.anchor
    ]
    return max([*inbound, *outbound, *met])


def truth(story: Story) -> dict[str, Any]:
    """The ground truth, computed from the story's own objects (never typed by hand).

    Times are ISO 8601 in UTC with a ``Z``; Message-IDs keep their angle brackets.

    - ``expected``: the nudges a correct nurture places at the anchor — kind
      (reply, follow-up, reconnect, recover), contact, the message it is about
      (null for reconnect and for a meeting without a recap) and why.
    - ``negatives``: messages that must not cause a nudge, by reason: newsletter,
      notification, auto-reply, bounce, cc-only, answered (an ask Alex answered),
      kept-promise, within-cadence (the last message with a steady contact),
      invitation, recap-sent, forwarded (a question inside a forwarded block).
    - ``contacts``: everyone in the story with the tier contacts.toml gives them,
      role, the rhythm the story used (``cadence_days``, null for one-offs and
      machines), ``last_two_way`` (last mail or meeting, if mail went both ways)
      and the number of messages involving them.
    - ``replies``: every message that asked something of Alex, when, and when
      Alex answered (null: still open) — for reply-time figures.
    - ``questions``: what Alex asked of others and when they answered.
    - ``promises``: Alex's dated promises; ``due`` is 17:30 London on the named
      day; ``kept_at`` is when Alex wrote to that contact with the thing (null:
      not yet); kept late when ``kept_at`` > ``due``.
    - ``meetings``: past meetings with people outside Brightpath and their recap.
    """
    contacts = []
    for person in P.CONTACTS:
        last = _last_two_way(story, person)
        contacts.append(
            {
                "address": person.address,
                "name": person.name,
                "organization": person.org,
                "tier": tier_of(person.address),
                "role": person.role,
                "timezone": person.tz,
                "cadence_days": story.cadence.get(person.address),
                "last_two_way": iso(last) if last else None,
                "messages": sum(1 for m in story.mails if _involves(m, person)),
            }
        )
    return {
        "anchor": iso(story.anchor),
        "user": [ALEX.address, ALEX_ALIAS.address],
        "expected": story.expected,
        "negatives": story.negatives,
        "contacts": contacts,
        "replies": sorted(story.replies, key=lambda r: (r["asked_at"], r["asked_message_id"])),
        "questions": sorted(story.questions, key=lambda r: (r["asked_at"], r["asked_message_id"])),
        "promises": sorted(story.promises, key=lambda r: r["made_at"]),
        "meetings": sorted(story.meetings, key=lambda r: r["start"]),
        "counts": {
            "messages": len(story.mails),
            "inbox": sum(1 for m in story.mails if m.folder != SENT),
            "sent": sum(1 for m in story.mails if m.folder == SENT),
            "events": len(story.events),
        },
    }
