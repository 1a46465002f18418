"""The machinery of the demo's story: a clock, a seeded random source, and everyday threads.

A `Story` collects every message, calendar event and ground-truth record as
they are made, so the truth is derived from the very objects that produce the
files and cannot drift from them. Everything is drawn from one
`random.Random` with a fixed seed and placed relative to the anchor ("now"),
so the same anchor always gives the same story.

Everyday traffic (background threads) always closes: every question is
answered and no dated promise is left open. Only the scripted scenarios
(`scenarios`) leave something for nurture to find.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from . import people as P
from . import texts as T
from .calendar import Event
from .mail import INBOX, SENT, Attachment, Mail
from .people import ALEX, ALEX_ALIAS, Person

UTC = ZoneInfo("UTC")
LONDON = ZoneInfo(P.LONDON)
SEED = 20260101
DAYS = 182

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

INTERNAL = (("in", 0.6), ("out", 0.4))
PERSONAL_ROLES = ("partner", "former-client", "mentor")
# How fast Alex answers each tier, relative to everyone else.
PACE = {"key": 0.5, "client": 0.8, "colleague": 0.7}


@dataclass(frozen=True, slots=True)
class Rhythm:
    """How one contact and Alex write to each other in everyday traffic."""

    person: Person
    every: float  # mean days between threads
    until: float  # days before the anchor when everyday traffic stops
    since: float = DAYS - 2  # days before the anchor when it starts
    kinds: tuple[tuple[str, float], ...] = (
        ("in", 0.4),
        ("out", 0.3),
        ("update", 0.2),
        ("fyi", 0.1),
    )


@dataclass(slots=True)
class Story:
    """Everything the six months produce, collected while they are written.

    Mutable on purpose: it is an accumulator that the steps of `timeline.build`
    append to in a fixed order; nothing outside the demo package sees it.
    The dict records are the rows of truth.json, in its schema.
    """

    anchor: datetime
    rng: random.Random
    mails: list[Mail] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    expected: list[dict[str, Any]] = field(default_factory=list)
    negatives: list[dict[str, Any]] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    questions: list[dict[str, Any]] = field(default_factory=list)
    promises: list[dict[str, Any]] = field(default_factory=list)
    meetings: list[dict[str, Any]] = field(default_factory=list)
    cadence: dict[str, float | None] = field(default_factory=dict)
    leave: set[date] = field(default_factory=set)
    seq: int = 0

    # ---- time -----------------------------------------------------------------

    @property
    def start(self) -> datetime:
        return self.anchor - timedelta(days=DAYS)

    def local_day(self, days_ago: float, zone: ZoneInfo = LONDON) -> date:
        return (self.anchor - timedelta(days=days_ago)).astimezone(zone).date()

    def at(self, day: date, hour: float, zone: ZoneInfo = LONDON) -> datetime:
        """`day` at `hour` (decimal hours) local time in `zone`, as UTC."""
        minutes = round(hour * 60)
        local = datetime.combine(day, time(minutes // 60 % 24, minutes % 60), zone)
        return local.astimezone(UTC)

    def workday(self, day: date, back: bool = True) -> date:
        """`day` if it is a weekday (and Alex is not on leave), else the nearest one."""
        step = timedelta(days=-1 if back else 1)
        while day.weekday() >= 5 or day in self.leave:
            day += step
        return day

    def work_time(self, day: date, person: Person, lo: float = 8.8, hi: float = 17.6) -> datetime:
        return self.at(day, self.rng.uniform(lo, hi), person.zone)

    def settle(self, when: datetime, person: Person) -> datetime:
        """Move `when` into the person's active hours (weekdays 08:00–20:00, not on leave)."""
        local = when.astimezone(person.zone)
        day, hour = local.date(), local.hour + local.minute / 60
        on_leave = person in (ALEX, ALEX_ALIAS) and day in self.leave
        if day.weekday() < 5 and not on_leave and 8.0 <= hour < 20.0:
            return when
        if hour >= 20.0 or day.weekday() >= 5 or on_leave:
            day += timedelta(days=1)
        while day.weekday() >= 5 or (person in (ALEX, ALEX_ALIAS) and day in self.leave):
            day += timedelta(days=1)
        return self.at(day, self.rng.uniform(8.7, 10.5), person.zone)

    def reply_delay(self, pace: float = 1.0) -> timedelta:
        """How long someone takes to answer: mostly hours, sometimes days.

        `pace` scales it: Alex answers key clients faster than everyone else.
        """
        r = self.rng.random()
        if r < 0.62:
            hours = self.rng.uniform(0.3, 5.0)
        elif r < 0.9:
            hours = self.rng.uniform(5.0, 28.0)
        elif r < 0.98:
            hours = self.rng.uniform(30.0, 70.0)
        else:
            hours = self.rng.uniform(72.0, 110.0)
        return timedelta(hours=hours * pace)

    def answer_time(
        self, after: datetime, person: Person, limit: datetime, pace: float = 1.0
    ) -> datetime:
        when = self.settle(after + self.reply_delay(pace), person)
        if when >= limit:
            when = after + (limit - after) * self.rng.uniform(0.2, 0.6)
        return when

    # ---- messages -------------------------------------------------------------

    def message_id(self, sender: Person, when: datetime) -> str:
        self.seq += 1
        plain = sender.domain == "mail.example" or sender.domain.count(".") > 1
        host = sender.domain if plain else "mail." + sender.domain
        token = f"{self.rng.getrandbits(48):012x}"
        return f"<{when:%Y%m%d%H%M%S}.{self.seq:04d}.{token}@{host}>"

    def mail(
        self,
        sender: Person,
        to: tuple[Person, ...],
        when: datetime,
        subject: str,
        text: str,
        *,
        parent: Mail | None = None,
        cc: tuple[Person, ...] = (),
        **extra: Any,
    ) -> Mail:
        is_user = sender in (ALEX, ALEX_ALIAS)
        when = when.replace(microsecond=0)  # a Date header has whole seconds
        extra.setdefault("html", sender.html)
        extra.setdefault("seen", is_user or when < self.anchor - timedelta(hours=20))
        msg = Mail(
            message_id=self.message_id(sender, when),
            sender=sender,
            to=to,
            cc=cc,
            date=when,
            subject=subject,
            text=text,
            folder=SENT if is_user else INBOX,
            parent=parent,
            **extra,
        )
        self.mails.append(msg)
        return msg

    def reply(self, parent: Mail, sender: Person, when: datetime, text: str, **extra: Any) -> Mail:
        subject = parent.subject if parent.subject.startswith("Re: ") else "Re: " + parent.subject
        user = (ALEX, ALEX_ALIAS)
        if sender in user:
            if ALEX_ALIAS in (parent.sender, *parent.to):
                sender = ALEX_ALIAS
            to: tuple[Person, ...] = parent.to if parent.sender in user else (parent.sender,)
        elif parent.sender is sender:
            to = parent.to
        else:
            to = (ALEX_ALIAS,) if ALEX_ALIAS in (parent.sender, *parent.to) else (ALEX,)
        cc = extra.pop("cc", tuple(p for p in parent.cc if p not in (ALEX, sender)))
        return self.mail(sender, to, when, subject, text, parent=parent, cc=cc, **extra)

    def fill(self, template: str, person: Person, when: datetime) -> str:
        month = (when - timedelta(days=20)).strftime("%B")
        return template.format(
            first=person.first,
            me=person.first,
            project=T.PROJECTS.get(person.domain, "the project"),
            org=person.org,
            month=month,
        )

    def user_for(self, person: Person) -> Person:
        return ALEX_ALIAS if person.domain == "mail.example" else ALEX

    # ---- ground truth helpers -------------------------------------------------

    def ask(self, asked: Mail, answer: Mail | None) -> None:
        self.replies.append(
            {
                "asked_message_id": asked.message_id,
                "asked_at": iso(asked.date),
                "contact": asked.sender.address,
                "replied_at": iso(answer.date) if answer else None,
                "reply_message_id": answer.message_id if answer else None,
            }
        )

    def question(self, asked: Mail, answer: Mail | None) -> None:
        self.questions.append(
            {
                "asked_message_id": asked.message_id,
                "asked_at": iso(asked.date),
                "contact": asked.to[0].address,
                "answered_at": iso(answer.date) if answer else None,
            }
        )

    def expect(self, kind: str, contact: Person, msg: Mail | None, why: str) -> None:
        self.expected.append(
            {
                "kind": kind,
                "contact": contact.address,
                "message_id": msg.message_id if msg else None,
                "why": why,
            }
        )

    def negative(self, what: str, msg: Mail, contact: Person) -> None:
        self.negatives.append(
            {"what": what, "message_id": msg.message_id, "contact": contact.address}
        )


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ---- everyday traffic ------------------------------------------------------------


def _pick(story: Story, topics: tuple[T.Topic, ...]) -> T.Topic:
    return topics[story.rng.randrange(len(topics))]


def _topics_for(person: Person, kind: str) -> tuple[T.Topic, ...]:
    if person.role == "colleague":
        return {"in": T.COLLEAGUE_ASKS, "out": T.ALEX_ASKS_COLLEAGUE}.get(kind, T.COLLEAGUE_ASKS)
    if person.role == "vendor":
        return T.VENDOR_ASKS
    if person.role in PERSONAL_ROLES:
        return T.PERSONAL
    return {"in": T.CLIENT_ASKS, "out": T.ALEX_ASKS, "update": T.UPDATES}.get(
        kind, T.INBOUND_UPDATES
    )


def thread(
    story: Story, person: Person, kind: str, when: datetime, *, auto_reply: str = ""
) -> Mail:
    """One everyday thread that closes before the anchor. Returns the last message."""
    rng = story.rng
    limit = story.anchor - timedelta(hours=3)
    me = story.user_for(person)
    if person.role == "vendor" or person.role in PERSONAL_ROLES:
        topic = _pick(story, _topics_for(person, kind))
        # Personal topics say in their text who opens; vendors always ask.
        kind = "out" if topic[1].startswith("Hi {first}") else "in"
    else:
        topic = _pick(story, _topics_for(person, kind))
    subject, opening, answer, closing = (story.fill(t, person, when) for t in topic)
    if kind == "in":
        first = story.mail(person, (me,), when, subject, opening)
        r_at = story.answer_time(when, ALEX, limit, PACE.get(person.tier, 1.0))
        second = story.reply(first, ALEX, r_at, answer)
        story.ask(first, second)
        last = second
        # Friends close the loop ("See you then!"); clients do more often than not.
        if closing and (person.role in PERSONAL_ROLES or rng.random() < 0.6):
            last = story.reply(second, person, story.answer_time(r_at, person, limit), closing)
        return last
    if kind == "out":
        first = story.mail(me, (person,), when, subject, opening)
        t = when
        if auto_reply:
            t = when + timedelta(minutes=rng.randint(1, 4))
            back = story.workday((when + timedelta(days=5)).date(), back=False)
            ar = story.mail(
                person,
                (me,),
                t,
                f"{auto_reply}: {subject}",
                (
                    f"Vielen Dank für Ihre Nachricht. Ich bin bis zum {back:%d.%m.%Y} nicht "
                    "im Büro und lese meine E-Mails nur eingeschränkt. In dringenden Fällen "
                    "wenden Sie sich bitte an die Zentrale.\n\nThank you for your message. I "
                    f"am out of the office until {back:%d.%m.%Y}."
                    if person.tz == P.BERLIN
                    else f"Thank you for your message. I am out of the office until "
                    f"{back:%A %d %B} with limited access to email. For urgent matters "
                    "please contact the main office."
                ),
                parent=first,
                headers=(
                    ("Auto-Submitted", "auto-replied"),
                    ("X-Auto-Response-Suppress", "All"),
                ),
                html=False,
                signature=False,
                quote=False,
            )
            story.negative("auto-reply", ar, person)
            t = when + timedelta(days=5)
        a_at = story.answer_time(t, person, limit)
        second = story.reply(first, person, a_at, answer)
        story.question(first, second)
        if closing and rng.random() < 0.5:
            return story.reply(second, ALEX, story.answer_time(a_at, ALEX, limit), closing)
        return second
    if kind == "update":
        first = story.mail(me, (person,), when, subject, opening)
        if answer and rng.random() < 0.6:
            return story.reply(first, person, story.answer_time(when, person, limit), answer)
        return first
    # News from a client: Alex always says thank you.
    first = story.mail(person, (me,), when, subject, opening)
    return story.reply(first, ALEX, story.answer_time(when, ALEX, limit), answer)


def everyday(story: Story, rhythm: Rhythm, auto_reply_on: int = -1, auto_text: str = "") -> None:
    """Threads with one contact every `every` days (±35%) between `since` and `until`."""
    rng = story.rng
    days_ago = rhythm.since - rng.uniform(0, rhythm.every)
    n = 0
    auto_done = False
    last = story.start
    kinds, weights = zip(*rhythm.kinds, strict=True)
    while days_ago > rhythm.until:
        day = story.local_day(days_ago, rhythm.person.zone)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        kind = rng.choices(kinds, weights)[0]
        opener = rhythm.person if kind in ("in", "fyi") else ALEX
        when = story.work_time(day, opener)
        if opener is ALEX and day in story.leave:
            when = story.settle(when + timedelta(days=1), ALEX)
        if when < story.anchor - timedelta(days=rhythm.until):
            ar = ""
            if auto_text and not auto_done and n >= auto_reply_on and kind == "out":
                ar, auto_done = auto_text, True
            thread(story, rhythm.person, kind, when, auto_reply=ar)
            last = when
            n += 1
        days_ago -= rhythm.every * rng.uniform(0.65, 1.35)
    # Keep the rhythm right up to where it stops, so "quiet since" is exactly that.
    if last < story.anchor - timedelta(days=rhythm.until + 0.5 * rhythm.every):
        day = story.workday(story.local_day(rhythm.until + 0.4 * rhythm.every, rhythm.person.zone))
        thread(story, rhythm.person, "in", story.work_time(day, rhythm.person))
    story.cadence[rhythm.person.address] = rhythm.every


def pdf(name: str) -> Attachment:
    """A small valid PDF, for mail that carries a document."""
    body = (
        "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
        "trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return Attachment(name, "application/pdf", body.encode() * 8)


def uid(story: Story, label: str) -> str:
    """A calendar UID, random but reproducible."""
    return f"{label}-{story.rng.getrandbits(40):010x}@brightpath.example"
