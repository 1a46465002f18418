"""Resolve the due date of a promise ("by Friday", "tomorrow at 9", "next week").

Dates are resolved in the writer's frame: the message's own Date header offset, or the
reader's zone when the header has none (or when the reader's zone has that same offset at
that moment, which keeps daylight-saving changes right). Common relative phrases are
resolved here by explicit rules, so their meaning is documented and testable; explicit
calendar dates ("March 3", "3/15") go to dateparser. A day without a time means the end
of that working day (17:00); a week means its Friday.

spaCy's NER would also find DATE/TIME entities, but it halves the pipeline's throughput
and every phrase a promise uses ("by Friday", "tomorrow", "next week", "in 2 days",
"March 3") is caught by the pattern below, so the pipeline runs without NER.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from email.utils import parsedate_tz
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nurture.model import UTC
from nurture.nlp.alternation import Alternation

log = logging.getLogger(__name__)

END_OF_DAY = time(17, 0)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_RE = (
    r"(?:mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:r|rs|rsday)?|fri(?:day)?|"
    r"sat(?:urday)?|sun(?:day)?)"
)
_MONTH_RE = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t|tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_TIME_RE = r"(?:\d{1,2}(?::\d{2})?\s*(?:a\.?m\.?|p\.?m\.?)|\d{1,2}:\d{2}|noon|midnight)"

# One phrase that names when; the groups say which rule resolves it.
DATE_PHRASE = re.compile(
    rf"""\b(?:
        (?P<eod>end\ of\ (?:the\ )?(?:business\ )?day|eod|cob|close\ of\ business
                |by\ tonight|tonight)
      | (?P<eow>end\ of\ (?:the\ )?week|eow)
      | (?P<eom>end\ of\ (?:the\ )?month|eom)
      | (?P<today>today|later\ today|this\ (?:morning|afternoon|evening))
      | (?P<tomorrow>tomorrow|tmrw|tmw)
      | (?P<thisweek>this\ week|later\ this\ week)
      | (?P<nextweek>(?:early\ |later\ )?next\ week|the\ week\ after)
      | (?P<nextmonth>next\ month)
      | (?P<monday>(?P<next>next\ |this\ |coming\ )?(?P<wd>{_WEEKDAY_RE})\b\.?)
      | in\ (?P<n>\d{{1,2}}|a|an|one|two|three|a\ couple\ of|a\ few)\s+
            (?P<business>business\ |working\ )?(?P<unit>hours?|days?|weeks?)
      | (?P<explicit>(?:{_MONTH_RE}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?)
                   |(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH_RE}(?:\s+\d{{4}})?)
                   |(?:\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?))
    )\b
    (?:\s+(?:morning|afternoon|evening|night))?
    (?:\s*(?:at|by|before|around|@)?\s*(?P<time>{_TIME_RE}))?
    """,
    re.IGNORECASE | re.VERBOSE,
)


def _plain(verbose: str) -> str:
    """A verbose pattern written without its layout: unescaped whitespace outside
    classes dropped, an escaped space kept as a space (the pattern has no comments)."""
    out: list[str] = []
    i = 0
    in_class = False
    while i < len(verbose):
        char = verbose[i]
        if char == "\\" and i + 1 < len(verbose):
            nxt = verbose[i + 1]
            out.append(" " if nxt == " " else char + nxt)
            i += 2
            continue
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        if in_class or not char.isspace():
            out.append(char)
        i += 1
    return "".join(out)


# DATE_PHRASE for lower-cased text, searched through a trie of its beginnings
# (`nurture.nlp.alternation`): on 572 promises of bench/nlp_speed.py's mail, 13 ms of
# CPU with IGNORECASE (a case-blind letter is never skipped at a glance), 2 ms so.
_DATE_PHRASE_LOW = Alternation(_plain(DATE_PHRASE.pattern).removeprefix(r"\b"), "a-z0-9")


def date_phrase(sentence: str) -> re.Match[str] | None:
    """`DATE_PHRASE.search(sentence)`, read in the lower-cased sentence (its groups are
    in lower case) where lower-casing keeps every offset."""
    low = sentence.lower()
    if len(low) != len(sentence):
        return DATE_PHRASE.search(sentence)
    return _DATE_PHRASE_LOW.search(low)


_BARE_TIME = re.compile(rf"\b(?:at|by|before|around)\s+(?P<time>{_TIME_RE})", re.IGNORECASE)
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "a couple of": 2, "a few": 3}


def message_zone(date_header: str, fallback: str) -> tzinfo:
    """The writer's zone: the Date header's offset, else the reader's zone.

    When the reader's zone has the header's offset at the message's moment, the reader's
    zone is used, so a date across a daylight-saving change keeps its wall-clock time.
    """
    reader_zone: tzinfo
    try:
        reader_zone = ZoneInfo(fallback or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        reader_zone = UTC
    parsed = None
    try:
        parsed = parsedate_tz(date_header) if date_header else None
    except Exception:
        parsed = None
    if not parsed or parsed[9] is None:
        return reader_zone
    offset = timedelta(seconds=parsed[9])
    if abs(offset) >= timedelta(hours=24):
        return reader_zone
    try:
        moment = datetime(*parsed[:6], tzinfo=timezone(offset))  # type: ignore[misc]
        if moment.astimezone(reader_zone).utcoffset() == offset:
            return reader_zone
    except (ValueError, OverflowError):
        pass
    return timezone(offset)


_CLOCK = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")


def _parse_time(text: str) -> time | None:
    text = text.lower().replace(".", "").strip()
    if text == "noon":
        return time(12, 0)
    if text == "midnight":
        return time(23, 59)
    match = _CLOCK.match(text)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    meridiem = match.group(3)
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    elif meridiem is None and 1 <= hour <= 6:
        hour += 12  # "at 3" in office mail is the afternoon
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _add_business_days(day: date, count: int) -> date:
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def _friday_of(day: date) -> date:
    return day + timedelta(days=(4 - day.weekday()) % 7 if day.weekday() <= 4 else 0)


def _explicit(text: str, base: datetime) -> date | None:
    try:
        import dateparser  # type: ignore[import-untyped]

        found = dateparser.parse(
            text,
            languages=["en"],
            settings={
                "RELATIVE_BASE": base.replace(tzinfo=None),
                "PREFER_DATES_FROM": "future",
                "DATE_ORDER": "MDY",
                "RETURN_AS_TIMEZONE_AWARE": False,
                "PREFER_DAY_OF_MONTH": "first",
            },
        )
    except Exception:
        log.debug("dateparser failed", exc_info=True)
        return None
    return found.date() if found else None


def resolve(sentence: str, sent_at: datetime, zone: tzinfo) -> datetime | None:
    """The due moment a sentence names, in UTC; None when it names no date or time."""
    local = sent_at.astimezone(zone)
    today = local.date()
    match = date_phrase(sentence)
    at: time | None = None
    day: date | None = None
    if match is None:
        bare = _BARE_TIME.search(sentence)
        if bare is None:
            return None
        at = _parse_time(bare.group("time"))
        if at is None:
            return None
        day = today if at > local.time() else today + timedelta(days=1)
    else:
        if match.group("time"):
            at = _parse_time(match.group("time"))
        else:
            bare = _BARE_TIME.search(sentence)
            at = _parse_time(bare.group("time")) if bare else None
        if match.group("eod"):
            day = today
            if "tonight" in match.group("eod").lower():
                at = at or time(21, 0)
        elif match.group("today"):
            day = today
        elif match.group("tomorrow"):
            day = today + timedelta(days=1)
        elif match.group("eow") or match.group("thisweek"):
            day = _friday_of(today)
        elif match.group("nextweek"):
            next_monday = today + timedelta(days=7 - today.weekday())
            day = next_monday + timedelta(days=4)
            if match.group("nextweek").lower().startswith("early"):
                day = next_monday + timedelta(days=1)
        elif match.group("eom"):
            first_next = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
            day = first_next - timedelta(days=1)
        elif match.group("nextmonth"):
            first_next = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
            day = (first_next.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(
                days=1
            )
        elif match.group("wd"):
            prefix = _weekday_index(match.group("wd"))
            ahead = (prefix - today.weekday()) % 7 or 7
            if (
                (match.group("next") or "").strip().lower() == "next"
                and ahead < 7
                and (today.weekday() < prefix)
            ):
                # "next Tuesday" said on a Monday: the Tuesday of next week.
                ahead += 7
            day = today + timedelta(days=ahead)
        elif match.group("unit"):
            count = _NUMBERS.get(match.group("n").lower(), 0) or int(match.group("n"))
            unit = match.group("unit").lower()
            if unit.startswith("hour"):
                return (local + timedelta(hours=count)).astimezone(UTC)
            if unit.startswith("week"):
                day = today + timedelta(weeks=count)
            elif match.group("business"):
                day = _add_business_days(today, count)
            else:
                day = today + timedelta(days=count)
        elif match.group("explicit"):
            day = _explicit(match.group("explicit"), local)
    if day is None:
        return None
    try:
        moment = datetime.combine(day, at or END_OF_DAY, tzinfo=zone)
    except (ValueError, OverflowError):
        return None
    return moment.astimezone(UTC)


def _weekday_index(name: str) -> int:
    key = name.lower().rstrip(".")[:3]
    return [w[:3] for w in _WEEKDAYS].index(key)
