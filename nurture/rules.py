"""Rule files → one validated, frozen `Rulebook`.

Every ``*.toml`` in the rules folder is read in name order on top of the
built-in defaults (the repository's rules/, installed as nurture/data/rules/). Sections:

``[tiers.NAME]``   weight, reply_within, follow_up_after, cadence, recover
``[[contacts]]``   match (glob or list of globs), tier, name, cadence, escalation, ignore
``[ignore]``       senders, domains, subjects (globs), automated (bool)
``[work]``         timezone, days, start, end
``[tasks]``        calendar, length, daily_budget, grouping, digest_at, as, horizon, forget_after
``[report]``       weekly ("off" or e.g. "fri 16:00"), length, since

Unknown sections and keys are errors. All problems are collected with file,
line and key, so one `nurture rules check` shows everything to fix. Contacts
are matched first-match-wins (user files before defaults); `match_contact`
returns the rule that matched so `nurture explain` can say which.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .durations import LONGEST, parse_duration
from .errors import Problem, UserError
from .model import Address
from .tomlfile import TomlFile, load

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The longest value each bounded duration takes: past these nothing useful
# happens, and far past them the date arithmetic of every sync overflows.
A_YEAR = timedelta(days=366)
A_DAY = timedelta(days=1)
MAX_WEIGHT = 1000.0
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    weight: float = 1.0
    reply_within: timedelta = timedelta(days=2)
    follow_up_after: timedelta = timedelta(days=5)
    cadence: timedelta | str = "learned"  # "learned", "off", or a fixed interval
    recover: bool = True
    where: str = ""
    # Whether the user's own rule files chose the windows (a value other than the
    # shipped default): a chosen window is the rule; a shipped one gives way to the
    # user's own reply times where nurture has learned them (`nurture.personal`).
    reply_chosen: bool = False
    follow_up_chosen: bool = False


@dataclass(frozen=True, slots=True)
class ContactRule:
    patterns: tuple[str, ...]
    tier: str
    name: str = ""
    cadence: timedelta | str | None = None
    escalation: str = ""
    ignore: bool = False
    where: str = ""

    def matches(self, address: str) -> bool:
        return any(fnmatch.fnmatchcase(address, p) for p in self.patterns)


@dataclass(frozen=True, slots=True)
class Ignore:
    senders: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    automated: bool = True


@dataclass(frozen=True, slots=True)
class Work:
    timezone: str = "UTC"
    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    start: time = time(9, 0)
    end: time = time(17, 30)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class Tasks:
    calendar: str = ""
    length: timedelta = timedelta(minutes=20)
    daily_budget: int = 6
    grouping: str = "event"  # "event" | "digest"
    digest_at: time = time(9, 0)
    todo: bool = False
    horizon: timedelta = timedelta(days=14)
    forget_after: timedelta = timedelta(days=45)


@dataclass(frozen=True, slots=True)
class Weekly:
    """When the weekly report event goes on the calendar: a weekday and a local time."""

    day: int  # 0 = Monday, as date.weekday()
    at: time


@dataclass(frozen=True, slots=True)
class ReportRules:
    """The weekly report event (`nurture.weekly`). Off unless `weekly` is set."""

    weekly: Weekly | None = None
    length: timedelta = timedelta(minutes=30)
    since: timedelta = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class Rulebook:
    tiers: Mapping[str, Tier]
    contacts: tuple[ContactRule, ...] = ()
    ignore: Ignore = field(default_factory=Ignore)
    work: Work = field(default_factory=Work)
    tasks: Tasks = field(default_factory=Tasks)
    report: ReportRules = field(default_factory=ReportRules)
    files: tuple[str, ...] = ()

    def match_contact(self, address: str) -> tuple[Tier, ContactRule | None]:
        """The tier for `address` and the contact rule that set it (first match wins)."""
        address = address.lower()
        for rule in self.contacts:
            if rule.matches(address):
                return self.tiers.get(rule.tier, self.tiers["default"]), rule
        return self.tiers["default"], None

    def ignored(self, sender: Address, subject: str) -> str:
        """Why mail from `sender` with `subject` is ignored by rule, or ""."""
        email = sender.email
        for pattern in self.ignore.senders:
            if fnmatch.fnmatchcase(email, pattern.lower()):
                return f"ignore.senders {pattern!r}"
        domain = sender.domain
        for pattern in self.ignore.domains:
            p = pattern.lower()
            if fnmatch.fnmatchcase(domain, p) or domain.endswith("." + p.lstrip("*.")):
                return f"ignore.domains {pattern!r}"
        lowered = subject.lower()
        for pattern in self.ignore.subjects:
            if fnmatch.fnmatchcase(lowered, literal_brackets(pattern.lower())):
                return f"ignore.subjects {pattern!r}"
        for rule in self.contacts:
            if rule.matches(email):
                return f"contacts {rule.where} ignore" if rule.ignore else ""
        return ""


def literal_brackets(pattern: str) -> str:
    """A glob where only * and ? are wildcards: "[JIRA]*" matches a literal "[JIRA]"."""
    return pattern.replace("[", "\0").replace("]", "[]]").replace("\0", "[[]")


_KEYS: dict[str, set[str]] = {
    "tiers": {"weight", "reply_within", "follow_up_after", "cadence", "recover"},
    "contacts": {"match", "tier", "name", "cadence", "escalation", "ignore"},
    "ignore": {"senders", "domains", "subjects", "automated"},
    "work": {"timezone", "days", "start", "end"},
    "tasks": {
        "calendar",
        "length",
        "daily_budget",
        "grouping",
        "digest_at",
        "as",
        "horizon",
        "forget_after",
    },
    "report": {"weekly", "length", "since"},
}


def default_rules_dir() -> Path:
    """The default rule files: inside the installed package, or a checkout's rules/."""
    installed = Path(str(resources.files("nurture"))) / "data" / "rules"
    if (installed / "work.toml").is_file():
        return installed
    return Path(__file__).resolve().parent.parent / "rules"


class _Reader:
    """Collects problems while turning one file's tables into rule objects."""

    def __init__(self, toml: TomlFile, problems: list[Problem]) -> None:
        self.toml = toml
        self.problems = problems

    def problem(self, key: tuple[str | int, ...], what: str, fix: str = "") -> None:
        self.problems.append(Problem(self.toml.where(*key), what, fix))

    def check_keys(
        self, table: Mapping[str, Any], section: str, key: tuple[str | int, ...]
    ) -> None:
        for name in table:
            if name not in _KEYS[section]:
                close = [k for k in _KEYS[section] if _similar(k, name)]
                hint = (
                    f"did you mean {close[0]!r}?"
                    if close
                    else (f"[{section}] takes: {', '.join(sorted(_KEYS[section]))}")
                )
                self.problem((*key, name), "unknown key", hint)

    def duration(
        self,
        table: Mapping[str, Any],
        name: str,
        key: tuple[str | int, ...],
        default: timedelta,
        longest: timedelta = LONGEST,
    ) -> timedelta:
        if name not in table:
            return default
        try:
            value = parse_duration(table[name], longest)
        except ValueError as exc:
            self.problem((*key, name), str(exc), 'write a duration such as "2d" or "36h"')
            return default
        if value <= timedelta(0):
            self.problem((*key, name), "must be longer than zero")
            return default
        return value

    def cadence(self, value: Any, key: tuple[str | int, ...]) -> timedelta | str | None:
        if value in ("learned", "off"):
            return str(value)
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.problem(key, f"{exc}: not a cadence", '"learned", "off" or e.g. "3w"')
            return None

    def clock(
        self, table: Mapping[str, Any], name: str, key: tuple[str | int, ...], default: time
    ) -> time:
        """`table[name]` as a time of day; `default` when absent or (with a problem) wrong."""
        if name not in table:
            return default
        value = table[name]
        key = (*key, name)
        if isinstance(value, time):
            return value
        if isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}", value):
            hours, minutes = map(int, value.split(":"))
            if hours < 24 and minutes < 60:
                return time(hours, minutes)
        self.problem(key, f"{value!r} is not a time of day", 'write "09:00"')
        return default

    def globs(self, value: Any, key: tuple[str | int, ...]) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            self.problem(key, "must be a glob or a list of globs", '"*@example.org"')
            return ()
        return tuple(i.lower() for i in items)


def _similar(a: str, b: str) -> bool:
    from difflib import SequenceMatcher

    return SequenceMatcher(None, a, b).ratio() >= 0.75


def load_rules(folder: Path | None, *, defaults: Path | None = None) -> Rulebook:
    """Read the built-in defaults, then every *.toml in `folder`; raise on any problem."""
    book, problems = check_rules(folder, defaults=defaults)
    if problems:
        raise UserError(f"the rule files have {len(problems)} problem(s)", problems)
    return book


def check_rules(
    folder: Path | None, *, defaults: Path | None = None
) -> tuple[Rulebook, list[Problem]]:
    """Parse and validate; return the rulebook and every problem found."""
    problems: list[Problem] = []
    files = sorted((defaults or default_rules_dir()).glob("*.toml"))
    user_files = sorted(folder.glob("*.toml")) if folder and folder.is_dir() else []
    tiers: dict[str, Tier] = {}
    shipped: dict[str, Tier] = {}  # the built-in defaults' tiers, to tell a user's choice
    default_contacts: list[ContactRule] = []
    user_contacts: list[ContactRule] = []
    ignore, work, tasks, report = Ignore(), Work(), Tasks(), ReportRules()
    for path in [*files, *user_files]:
        toml, file_problems = load(path)
        problems.extend(file_problems)
        if toml is None:
            continue
        reader = _Reader(toml, problems)
        contacts = user_contacts if path in user_files else default_contacts
        for section, value in toml.data.items():
            if section not in _KEYS:
                reader.problem((section,), "unknown section", f"known: {', '.join(sorted(_KEYS))}")
            elif section == "tiers":
                found = _tiers(reader, value, tiers)
                if path in user_files:
                    found = _chosen(found, value, shipped)
                else:
                    shipped.update(found)
                tiers.update(found)
            elif section == "contacts":
                contacts.extend(_contacts(reader, value))
            elif section == "ignore":
                ignore = _ignore(reader, value, ignore)
            elif section == "work":
                work = _work(reader, value, work)
            elif section == "tasks":
                tasks = _tasks(reader, value, tasks)
            elif section == "report":
                report = _report(reader, value, report)
    tiers.setdefault("default", Tier("default"))
    for rule in user_contacts:
        if rule.tier not in tiers:
            problems.append(
                Problem(
                    rule.where, f"unknown tier {rule.tier!r}", f"tiers: {', '.join(sorted(tiers))}"
                )
            )
    book = Rulebook(
        tiers=tiers,
        contacts=tuple(user_contacts + default_contacts),
        ignore=ignore,
        work=work,
        tasks=tasks,
        report=report,
        files=tuple(str(p) for p in [*files, *user_files]),
    )
    return book, problems


def _tiers(reader: _Reader, value: Any, known: Mapping[str, Tier]) -> dict[str, Tier]:
    if not isinstance(value, dict):
        reader.problem(("tiers",), "must be tables like [tiers.key]")
        return {}
    found = {}
    for name, table in value.items():
        key = ("tiers", name)
        if not isinstance(table, dict):
            reader.problem(key, "must be a table")
            continue
        reader.check_keys(table, "tiers", key)
        base = known.get(name) or known.get("default") or Tier(name)
        tier = replace(base, name=name, where=reader.toml.where(*key))
        weight = table.get("weight", tier.weight)
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not 0 < weight <= MAX_WEIGHT  # also false for nan
        ):
            reader.problem(
                (*key, "weight"), f"{weight!r} is not a number above 0 and at most {MAX_WEIGHT:g}"
            )
            weight = tier.weight
        cadence = tier.cadence
        if "cadence" in table:
            cadence = reader.cadence(table["cadence"], (*key, "cadence")) or tier.cadence
        recover = table.get("recover", tier.recover)
        if not isinstance(recover, bool):
            reader.problem((*key, "recover"), "must be true or false")
            recover = tier.recover
        found[name] = replace(
            tier,
            weight=float(weight),
            reply_within=reader.duration(table, "reply_within", key, tier.reply_within, A_YEAR),
            follow_up_after=reader.duration(
                table, "follow_up_after", key, tier.follow_up_after, A_YEAR
            ),
            cadence=cadence,
            recover=recover,
        )
    return found


def _chosen(found: dict[str, Tier], tables: Any, shipped: Mapping[str, Tier]) -> dict[str, Tier]:
    """Mark the windows a user's file sets to other values than the shipped defaults
    (the last file to set a window decides, as it decides the value)."""
    marked = {}
    for name, tier in found.items():
        table = tables.get(name, {}) if isinstance(tables, dict) else {}
        base = shipped.get(name)
        reply, follow = tier.reply_chosen, tier.follow_up_chosen
        if "reply_within" in table:
            reply = base is None or base.reply_within != tier.reply_within
        if "follow_up_after" in table:
            follow = base is None or base.follow_up_after != tier.follow_up_after
        marked[name] = replace(tier, reply_chosen=reply, follow_up_chosen=follow)
    return marked


def _contacts(reader: _Reader, value: Any) -> list[ContactRule]:
    if not isinstance(value, list):
        reader.problem(("contacts",), "must be an array of tables: [[contacts]]")
        return []
    rules = []
    for index, table in enumerate(value):
        key: tuple[str | int, ...] = ("contacts", index)
        if not isinstance(table, dict):
            reader.problem(key, "must be a table")
            continue
        reader.check_keys(table, "contacts", key)
        if "match" not in table:
            reader.problem(key, "missing match", 'e.g. match = "*@client.example"')
            continue
        cadence = None
        if "cadence" in table:
            cadence = reader.cadence(table["cadence"], (*key, "cadence"))
        ignore = table.get("ignore", False)
        if not isinstance(ignore, bool):
            reader.problem((*key, "ignore"), "must be true or false")
            ignore = False
        rules.append(
            ContactRule(
                patterns=reader.globs(table["match"], (*key, "match")),
                tier=str(table.get("tier", "default")),
                name=str(table.get("name", "")),
                cadence=cadence,
                escalation=str(table.get("escalation", "")),
                ignore=ignore,
                where=reader.toml.where(*key),
            )
        )
    return rules


def _ignore(reader: _Reader, value: Any, base: Ignore) -> Ignore:
    if not isinstance(value, dict):
        reader.problem(("ignore",), "must be a table")
        return base
    reader.check_keys(value, "ignore", ("ignore",))
    automated = value.get("automated", base.automated)
    if not isinstance(automated, bool):
        reader.problem(("ignore", "automated"), "must be true or false")
        automated = base.automated
    return Ignore(
        senders=reader.globs(value["senders"], ("ignore", "senders"))
        if "senders" in value
        else base.senders,
        domains=reader.globs(value["domains"], ("ignore", "domains"))
        if "domains" in value
        else base.domains,
        subjects=reader.globs(value["subjects"], ("ignore", "subjects"))
        if "subjects" in value
        else base.subjects,
        automated=automated,
    )


def _work(reader: _Reader, value: Any, base: Work) -> Work:
    if not isinstance(value, dict):
        reader.problem(("work",), "must be a table")
        return base
    reader.check_keys(value, "work", ("work",))
    zone = value.get("timezone", base.timezone)
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        reader.problem(
            ("work", "timezone"),
            f"unknown time zone {zone!r}",
            'use an IANA name such as "Europe/London"',
        )
        zone = base.timezone
    days = base.days
    if "days" in value:
        raw = value["days"]
        if not isinstance(raw, list) or not all(str(d).lower()[:3] in DAYS for d in raw) or not raw:
            reader.problem(
                ("work", "days"),
                f"{raw!r} is not a list of weekdays",
                '["mon", "tue", "wed", "thu", "fri"]',
            )
        else:
            days = tuple(sorted(DAYS.index(str(d).lower()[:3]) for d in raw))
    start = reader.clock(value, "start", ("work",), base.start)
    end = reader.clock(value, "end", ("work",), base.end)
    if end <= start:
        reader.problem(("work", "end"), "the working day ends before it starts")
        start, end = base.start, base.end
    return Work(timezone=str(zone), days=days, start=start, end=end)


def _tasks(reader: _Reader, value: Any, base: Tasks) -> Tasks:
    if not isinstance(value, dict):
        reader.problem(("tasks",), "must be a table")
        return base
    key = ("tasks",)
    reader.check_keys(value, "tasks", key)
    budget = value.get("daily_budget", base.daily_budget)
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        reader.problem((*key, "daily_budget"), f"{budget!r} is not a whole number above 0")
        budget = base.daily_budget
    grouping = value.get("grouping", base.grouping)
    if grouping not in ("event", "digest"):
        reader.problem((*key, "grouping"), f"{grouping!r} is not event or digest")
        grouping = base.grouping
    kind = value.get("as", "todo" if base.todo else "event")
    if kind not in ("event", "todo"):
        reader.problem((*key, "as"), f"{kind!r} is not event or todo")
        kind = "event"
    calendar = value.get("calendar", base.calendar)
    if not isinstance(calendar, str):
        reader.problem((*key, "calendar"), "must be an account name")
        calendar = base.calendar
    digest_at = reader.clock(value, "digest_at", key, base.digest_at)
    return Tasks(
        calendar=calendar,
        length=reader.duration(value, "length", key, base.length, A_DAY),
        daily_budget=budget,
        grouping=grouping,
        digest_at=digest_at,
        todo=kind == "todo",
        horizon=reader.duration(value, "horizon", key, base.horizon, A_YEAR),
        forget_after=reader.duration(value, "forget_after", key, base.forget_after),
    )


WEEKLY_FIX = 'write a weekday and a time in [work] timezone, e.g. "fri 16:00", or "off"'


def _report(reader: _Reader, value: Any, base: ReportRules) -> ReportRules:
    if not isinstance(value, dict):
        reader.problem(("report",), "must be a table")
        return base
    key = ("report",)
    reader.check_keys(value, "report", key)
    weekly = base.weekly
    if "weekly" in value:
        weekly = _weekly(reader, value["weekly"], (*key, "weekly"), base.weekly)
    length = reader.duration(value, "length", key, base.length)
    if length > A_DAY:
        reader.problem((*key, "length"), "must be at most a day", 'e.g. "30m" or "1h"')
        length = base.length
    return ReportRules(
        weekly=weekly,
        length=length,
        since=reader.duration(value, "since", key, base.since),
    )


def _weekly(
    reader: _Reader, value: Any, key: tuple[str | int, ...], default: Weekly | None
) -> Weekly | None:
    """ "off" → None; "fri 16:00" / "Friday 16:00" → Weekly(4, 16:00)."""
    if value in ("off", "", False):
        return None
    parts = value.split() if isinstance(value, str) else []
    if len(parts) != 2:
        reader.problem(key, f"{value!r} is not a weekday and a time", WEEKLY_FIX)
        return default
    name, clock = parts[0].lower(), parts[1]
    if name in DAYS:
        day = DAYS.index(name)
    elif name in DAY_NAMES:
        day = DAY_NAMES.index(name)
    else:
        close = [d for d in DAY_NAMES if _similar(d, name)]
        hint = f"did you mean {close[0]!r}?" if close else WEEKLY_FIX
        reader.problem(key, f"{parts[0]!r} is not a weekday", hint)
        return default
    found = re.fullmatch(r"(\d{1,2}):(\d{2})", clock)
    if found is None or int(found[1]) > 23 or int(found[2]) > 59:
        reader.problem(key, f"{clock!r} is not a time of day", WEEKLY_FIX)
        return default
    return Weekly(day, time(int(found[1]), int(found[2])))
