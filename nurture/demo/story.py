"""Six months of Alex Morgan's mail and calendar, as scenario objects.

`build(anchor)` returns a `Story`: every message, every calendar event, and
the ground truth derived from the very objects that produce the files, so the
truth cannot drift from the data. Everything is drawn from one
`random.Random` with a fixed seed and placed relative to the anchor ("now"),
so the same anchor always gives the same story.

Everyday traffic (background threads) always closes: every question is
answered and no dated promise is left open. Only the scripted scenarios leave
something for nurture to find.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from . import people as P
from . import texts as T
from .calendar import Event, Override, to_ical
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
                f"Thank you for your message. I am out of the office until "
                f"{back:%A %d %B} with limited access to "
                "email. For urgent matters please contact the main office.",
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


# ---- the story -------------------------------------------------------------------


def build(anchor: datetime) -> Story:
    """Write the whole six months for this anchor."""
    if anchor.tzinfo is None:
        raise ValueError("anchor must be timezone-aware")
    story = Story(anchor=anchor.astimezone(UTC), rng=random.Random(SEED))
    _leave(story)
    _calendar(story)
    _everyday(story)
    _machines(story)
    _scenarios(story)
    story.mails.sort(key=lambda m: (m.date, m.message_id))
    return story


def _leave(story: Story) -> None:
    """A week of annual leave about three months back."""
    first = story.workday(story.local_day(95), back=False)
    while first.weekday() != 0:
        first += timedelta(days=1)
    story.leave.update(first + timedelta(days=i) for i in range(5))


def _everyday(story: Story) -> None:
    rhythms = [
        Rhythm(P.DANA, 5.0, 12),
        Rhythm(P.KIM, 7.0, 3),
        Rhythm(P.PRIYA, 6.0, 6),
        Rhythm(P.OLIVER, 20.0, 10),
        Rhythm(P.JUERGEN, 10.0, 4),
        Rhythm(P.SAM_O, 8.0, 12),
        Rhythm(P.MAYA, 9.0, 10),
        Rhythm(P.GARETH, 10.0, 9),
        Rhythm(P.LENA, 12.0, 6),
        Rhythm(P.SAM_P, 3.0, 1, kinds=INTERNAL),
        Rhythm(P.JORDAN, 5.0, 2, kinds=INTERNAL),
        Rhythm(P.CHLOE, 4.0, 1, kinds=INTERNAL),
        Rhythm(P.BEN, 4.0, 2, kinds=INTERNAL),
        # Kept in touch for months, then went quiet: reconnect.
        Rhythm(P.HELEN, 21.0, 66),
        Rhythm(P.TOM, 14.0, 52, since=DAYS - 5),
        # Steady and still within their rhythm.
        Rhythm(P.ROSA, 28.0, 9),
        Rhythm(P.IAN, 30.0, 6),
    ]
    for rhythm in rhythms:
        if rhythm.person is P.OLIVER:
            everyday(story, rhythm, auto_reply_on=1, auto_text="Automatic reply")
        elif rhythm.person is P.JUERGEN:
            everyday(story, rhythm, auto_reply_on=2, auto_text="Abwesenheitsnotiz")
        else:
            everyday(story, rhythm)
    for person in (P.HELEN, P.TOM):
        last = max((m for m in story.mails if person in (m.sender, *m.to)), key=lambda m: m.date)
        story.expect(
            "reconnect",
            person,
            None,
            f"wrote both ways about every {story.cadence[person.address]:.0f} days for months; "
            f"quiet since {last.date:%d %b}",
        )
    for person in (P.ROSA, P.IAN, P.KIM, P.JUERGEN):
        last = max((m for m in story.mails if person in (m.sender, *m.to)), key=lambda m: m.date)
        story.negative("within-cadence", last, person)


# ---- machines: newsletters, notifications, bounces ---------------------------------


def _machines(story: Story) -> None:
    rng = story.rng
    issue = 100
    # Newsletters, one of them with a question in the text.
    letters = (
        (P.SAAS_WEEKLY, 7, ALEX, "saasweekly.example", "SaaS Weekly #{n}: pricing that converts"),
        (P.DIGEST, 14, ALEX_ALIAS, "consultingdigest.example", "The Consultant's Digest {n}"),
        (P.GROWTH, 10, ALEX, "growthhq.example", "Ready to level up? Your plan for week {n}"),
    )
    for sender, every, to, domain, subject in letters:
        days_ago = DAYS - rng.uniform(0, every)
        n = 40
        while days_ago > 0.3:
            day = story.local_day(days_ago, sender.zone)
            when = story.at(day, 6.0 + rng.uniform(0, 1.5), sender.zone)
            if when < story.anchor:
                n += 1
                items = rng.sample(_HEADLINES, 3)
                text = (
                    f"This week in {sender.name}\n\n{rng.choice(_TEASERS)}\n\n"
                    + "".join(f"{i}. {item}\n" for i, item in enumerate(items, 1))
                    + "\nWould you recommend us to a friend? Reply and tell us!\n\n"
                    f"You are receiving this because you subscribed at {domain}.\n"
                    f"Unsubscribe: https://{domain}/u/{n}\n"
                )
                msg = story.mail(
                    sender,
                    (to,),
                    when,
                    subject.format(n=n),
                    text,
                    headers=(
                        ("List-Id", f"{sender.name} <news.{domain}>"),
                        (
                            "List-Unsubscribe",
                            f"<https://{domain}/u/{n}>, <mailto:unsubscribe@{domain}>",
                        ),
                        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
                        ("Precedence", "bulk"),
                        ("Feedback-ID", f"{n}:newsletter:{domain}"),
                    ),
                    html=True,
                )
                story.negative("newsletter", msg, sender)
            days_ago -= every * rng.uniform(0.9, 1.1)
    # Tracker and code host notifications, monthly invoices.
    days_ago = DAYS - 1.0
    while days_ago > 0.5:
        day = story.local_day(days_ago)
        if day.weekday() < 5:
            issue += 1
            who = rng.choice((P.BEN, P.SAM_P, P.CHLOE))
            if rng.random() < 0.5:
                msg = story.mail(
                    P.TRACKER,
                    (ALEX,),
                    story.work_time(day, P.TRACKER),
                    f"[BP-{issue}] {rng.choice(_ISSUES)}",
                    f"{who.name} assigned BP-{issue} to you.\n\nCan you take a look at this "
                    f"before the next release?\n\nView issue: https://tracker.example/BP-{issue}"
                    "\n\nYou are receiving this because you are assigned. Manage "
                    "notifications: https://tracker.example/settings\n",
                    headers=(
                        ("Auto-Submitted", "auto-generated"),
                        ("X-Mailer", "Tracker Notifications"),
                        ("Precedence", "list"),
                    ),
                    signature=False,
                )
            else:
                msg = story.mail(
                    P.CODEHOST,
                    (ALEX,),
                    story.work_time(day, P.CODEHOST),
                    f"[brightpath/portal] Review requested: {rng.choice(_PRS)} (#{issue})",
                    f"@{who.first.lower()} requested your review on this pull request.\n\n"
                    "@alex could you review this today? It blocks the release.\n\n"
                    f"https://codehost.example/brightpath/portal/pull/{issue}\n\n"
                    "Reply to this email directly or view it on CodeHost.\n",
                    headers=(
                        ("List-Id", "brightpath/portal <portal.brightpath.codehost.example>"),
                        ("List-Unsubscribe", "<https://codehost.example/notifications/unsub>"),
                        ("X-CodeHost-Reason", "review_requested"),
                    ),
                    signature=False,
                )
            story.negative("notification", msg, msg.sender)
        days_ago -= rng.uniform(1.5, 4.5)
    for month in range(6):
        day = story.workday(story.local_day(DAYS - 12 - month * 30.4))
        when = story.at(day, 7.0)
        number = f"INV-{day:%Y}-{month + 31:04d}"
        msg = story.mail(
            P.BILLING,
            (ALEX,),
            when,
            f"Your invoice {number} is ready",
            f"Hello,\n\nYour invoice {number} for {day:%B %Y} is now available. The amount "
            "of GBP 249.00 will be collected on the 5th.\n\nQuestions about your bill? Visit "
            "https://billing.example/help\n\nThis mailbox is not monitored; please do not "
            "reply.\n",
            headers=(("Auto-Submitted", "auto-generated"), ("Reply-To", "noreply@billing.example")),
            signature=False,
        )
        story.negative("notification", msg, P.BILLING)
    # Bounces: a typo in an address, and someone who left.
    for days_ago, wrong, right in ((120.0, _TYPO, P.MAYA), (48.0, _LEFT, None)):
        day = story.workday(story.local_day(days_ago))
        when = story.work_time(day, ALEX)
        sent = story.mail(
            ALEX,
            (wrong,),
            when,
            "Slides from the workshop" if right else "Introduction: Brightpath",
            f"Hi {wrong.first},\n\nHere are the slides from the workshop, as discussed."
            "\n\nBest,\nAlex",
            attachments=(_pdf("Workshop-slides.pdf"),),
        )
        bounce = story.mail(
            P.MAILER_DAEMON,
            (ALEX,),
            when + timedelta(seconds=rng.randint(20, 90)),
            "Undelivered Mail Returned to Sender",
            "This is the mail system at host mx.brightpath.example.\n\nI'm sorry to have to "
            "inform you that your message could not be delivered to one or more recipients."
            f"\n\n<{wrong.address}>: host mail.{wrong.domain} said: 550 5.1.1 User unknown\n",
            bounce_of=sent,
            headers=(("Auto-Submitted", "auto-replied"),),
            signature=False,
            html=False,
        )
        story.negative("bounce", bounce, P.MAILER_DAEMON)
        if right is not None:
            story.mail(
                ALEX,
                (right,),
                when + timedelta(minutes=25),
                "Slides from the workshop",
                f"Hi {right.first},\n\nHere are the slides from the workshop, as discussed "
                "(second try, I had a typo in your address).\n\nBest,\nAlex",
                attachments=(_pdf("Workshop-slides.pdf"),),
            )


_TEASERS = (
    "Ready to level up? Could your team ship twice as fast? Join 40,000 founders who read "
    "us every week.",
    "Are you still pricing by the hour? This week: three consultancies that stopped.",
    "What would you do with an extra day a week? Our readers told us.",
    "Is your pipeline as healthy as you think? Take the two-minute quiz.",
    "Don't miss our spring webinar — can you guess which onboarding email wins?",
)
_HEADLINES = (
    "Five pricing experiments to run this quarter",
    "Why your onboarding email is too long",
    "Interview: scaling a consultancy without losing the craft",
    "The one metric your board actually reads",
    "Case study: cutting churn by a third with a welcome call",
    "How to write a proposal that gets signed",
    "Remote workshops that don't feel remote",
    "Your discovery phase is too short",
)
_TYPO = Person("maya.chen@orchardfood.example", "Maya Chen", P.NEW_YORK)
_LEFT = Person("p.wright@fernhill.example", "Pat Wright", P.LONDON)
_ISSUES = (
    "Login page times out on Safari",
    "Export to CSV drops the last row",
    "Typo on the pricing page",
    "Search returns archived shipments",
    "Map tiles do not load behind the proxy",
    "Date picker ignores the locale",
)
_PRS = (
    "Add export endpoint",
    "Fix timezone handling in reports",
    "Upgrade the design system",
    "Cache shipment lookups",
)


def _pdf(name: str) -> Attachment:
    body = (
        "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
        "trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return Attachment(name, "application/pdf", body.encode() * 8)


# ---- the calendar ----------------------------------------------------------------


def _uid(story: Story, label: str) -> str:
    return f"{label}-{story.rng.getrandbits(40):010x}@brightpath.example"


def _calendar(story: Story) -> None:
    rng = story.rng
    stamp = story.start
    # The weekly team sync, Mondays 10:00 London, with one cancelled and one moved week.
    first = story.local_day(DAYS)
    while first.weekday() != 0:
        first += timedelta(days=1)
    start = story.at(first, 10.0)
    cancelled = story.at(first + timedelta(weeks=9), 10.0)
    moved_from = story.at(first + timedelta(weeks=15), 10.0)
    moved_to = story.at(first + timedelta(weeks=15, days=1), 14.0)
    story.events.append(
        Event(
            uid=_uid(story, "team-sync"),
            summary="Brightpath weekly team sync",
            start=start,
            end=start + timedelta(minutes=45),
            attendees=(P.SAM_P, P.JORDAN, P.CHLOE, P.BEN),
            location="Studio, 2nd floor",
            description="Pipeline, staffing, anything blocking.",
            rrule={"FREQ": "WEEKLY", "BYDAY": "MO"},
            exdates=(cancelled,),
            overrides=(Override(moved_from, moved_to, moved_to + timedelta(minutes=45)),),
            stamp=stamp,
        )
    )
    # All-day: a conference, annual leave, a bank holiday, a future offsite.
    conf = story.workday(story.local_day(70))
    story.events.append(
        Event(
            uid=_uid(story, "conference"),
            summary="Service Design Global Conference",
            start=conf,
            end=conf + timedelta(days=2),
            location="ExCeL London",
            transparent=False,
            stamp=stamp,
        )
    )
    leave = sorted(story.leave)
    story.events.append(
        Event(
            uid=_uid(story, "leave"),
            summary="Annual leave",
            start=leave[0],
            end=leave[-1] + timedelta(days=1),
            stamp=stamp,
        )
    )
    holiday = story.workday(story.local_day(130))
    story.events.append(
        Event(
            uid=_uid(story, "holiday"),
            summary="Bank holiday",
            start=holiday,
            end=holiday + timedelta(days=1),
            transparent=True,
            stamp=stamp,
        )
    )
    offsite = story.workday(story.local_day(-9), back=False)
    story.events.append(
        Event(
            uid=_uid(story, "offsite"),
            summary="Brightpath team offsite",
            start=offsite,
            end=offsite + timedelta(days=1),
            attendees=(P.SAM_P, P.JORDAN, P.CHLOE, P.BEN),
            location="Kew Gardens",
            stamp=stamp,
        )
    )
    # Past client meetings, each followed by a recap from Alex within a day.
    series = (
        (P.DANA, (P.KIM,), 28, "Northwind monthly review"),
        (P.PRIYA, (P.OLIVER,), 30, "Halden Bank steering group"),
        (P.JUERGEN, (), 45, "Kessler portal check-in"),
        (P.GARETH, (), 40, "Fernhill progress review"),
        (P.MAYA, (), 50, "Orchard Foods dashboard demo"),
    )
    for lead, others, every, title in series:
        days_ago = DAYS - rng.uniform(5, every)
        while days_ago > 8:
            day = story.workday(story.local_day(days_ago))
            hour = 15.0 if lead.tz == P.NEW_YORK else rng.choice((10.0, 11.0, 14.0))
            begin = story.at(day, hour)
            end = begin + timedelta(hours=1)
            ev = Event(
                uid=_uid(story, "meeting"),
                summary=title,
                start=begin,
                end=end,
                attendees=(lead, *others),
                location="Video call",
                stamp=stamp,
            )
            story.events.append(ev)
            recap_at = story.settle(end + timedelta(hours=rng.uniform(0.3, 20.0)), ALEX)
            if recap_at > end + timedelta(hours=30):
                # Before a weekend or leave the recap goes out the same evening.
                recap_at = end + timedelta(hours=rng.uniform(0.5, 3.0))
            recap = story.mail(
                ALEX,
                (lead,),
                recap_at,
                f"Recap: {title}",
                f"Hi {lead.first},\n\nThanks for today. A short recap:\n\n"
                "- We agreed the scope for the next sprint.\n"
                "- Brightpath updates the prototype with the new filters.\n"
                f"- {lead.org} shares the latest volumes with Chloe.\n\nBest,\nAlex",
                cc=others,
            )
            story.meetings.append(
                {
                    "uid": ev.uid,
                    "summary": title,
                    "start": iso(begin),
                    "end": iso(end),
                    "attendees": [p.address for p in ev.attendees],
                    "recap_message_id": recap.message_id,
                    "recap_at": iso(recap.date),
                }
            )
            story.negative("recap-sent", recap, lead)
            days_ago -= every * rng.uniform(0.85, 1.15)
    # Future meetings over the next two weeks: busy time for scheduling.
    future = (
        (1, 10.0, 1.0, "Northwind roadmap planning", (P.DANA, P.KIM), P.ALEX),
        (1, 14.0, 0.5, "Pipeline review", (P.SAM_P, P.JORDAN), P.ALEX),
        (2, 9.5, 2.0, "Kessler portal migration workshop", (P.JUERGEN,), P.ALEX),
        (3, 11.0, 1.0, "Payments roadmap review", (P.OLIVER,), P.PRIYA),
        (3, 15.0, 1.0, "Quote walkthrough", (P.GARETH,), P.ALEX),
        (4, 13.0, 1.5, "Lumen booking app sprint demo", (P.SAM_O,), P.ALEX),
        (6, 10.0, 3.0, "Design critique", (P.CHLOE, P.BEN), P.ALEX),
        (7, 16.0, 1.0, "Orchard Foods quarterly review", (P.MAYA,), P.ALEX),
        (8, 9.0, 1.0, "Atlas Freight follow-up", (P.LENA,), P.ALEX),
        (10, 14.0, 1.0, "Bluewater proposal presentation", (P.NINA,), P.ALEX),
    )
    for ahead, hour, length, title, attendees, organizer in future:
        day = story.workday(story.local_day(-ahead), back=False)
        begin = story.at(day, hour)
        if organizer is P.ALEX:
            ev = Event(
                uid=_uid(story, "meeting"),
                summary=title,
                start=begin,
                end=begin + timedelta(hours=length),
                attendees=attendees,
                location="Video call",
                stamp=stamp,
            )
        else:
            ev = Event(
                uid=_uid(story, "meeting"),
                summary=title,
                start=begin,
                end=begin + timedelta(hours=length),
                organizer=organizer,
                attendees=(ALEX, *attendees),
                location="Halden Bank, 1 Canal Street",
                stamp=stamp,
            )
            # The organizer's invitation in the inbox.
            sent = story.work_time(story.workday(story.local_day(4)), organizer)
            invite = story.mail(
                organizer,
                (ALEX,),
                sent,
                f"Invitation: {title} @ {begin.astimezone(LONDON):%a %d %b %Y %H:%M}",
                f"{organizer.name} has invited you to {title}.\n\nWhen: "
                f"{begin.astimezone(LONDON):%A %d %B %Y, %H:%M} (London)\nWhere: {ev.location}\n",
                calendar=("REQUEST", to_ical(ev, "REQUEST")),
                signature=False,
                html=False,
            )
            story.negative("invitation", invite, organizer)
        story.events.append(ev)
    # Acceptances of Alex's invitations.
    for ev in story.events:
        if ev.summary in ("Quote walkthrough", "Bluewater proposal presentation"):
            guest = ev.attendees[0]
            sent_at = story.work_time(story.workday(story.local_day(2)), guest)
            acc = story.mail(
                guest,
                (ALEX,),
                sent_at,
                f"Accepted: {ev.summary} @ {ev.start:%a %d %b %Y}",
                f"{guest.name} has accepted this invitation.\n",
                calendar=("REPLY", to_ical(ev, "REPLY")),
                signature=False,
                html=False,
            )
            story.negative("invitation", acc, guest)


# ---- the scripted scenarios -------------------------------------------------------


def _scenarios(story: Story) -> None:
    _reply_debts(story)
    _open_question(story)
    _promises(story)
    _upset(story)
    _no_recap(story)
    _cc_only(story)
    _prospect(story)


def _recent_workday(story: Story, lo: float, hi: float, person: Person) -> date:
    """A weekday between `lo` and `hi` days before the anchor (in the person's zone)."""
    for days_ago in range(int(lo), int(hi) + 1):
        day = story.local_day(days_ago, person.zone)
        if day.weekday() < 5:
            return day
    return story.workday(story.local_day(hi, person.zone))


def _reply_debts(story: Story) -> None:
    # Key client, a direct question 2–4 days ago, unanswered.
    day = _recent_workday(story, 2, 4, P.PRIYA)
    when = story.at(day, 10.4, P.PRIYA.zone)
    q = story.mail(
        P.PRIYA,
        (ALEX,),
        when,
        "Q3 renewal pricing",
        "Hi Alex,\n\nOur renewal for the framework agreement comes up in Q3. Could you send "
        "me your pricing for next year, including the day rates for the design team? I "
        "need to put it in front of the procurement committee.\n\nAlso, are you able to "
        "keep the same team on the account?\n\nKind regards,\nPriya",
    )
    story.ask(q, None)
    story.expect("reply", P.PRIYA, q, "key client asked about Q3 renewal pricing; no reply yet")
    # A regular client's request a week ago, unanswered.
    day = _recent_workday(story, 7, 8, P.MAYA)
    when = story.at(day, 11.2, P.MAYA.zone)
    q = story.mail(
        P.MAYA,
        (ALEX,),
        when,
        "Updated statement of work",
        "Hi Alex,\n\nPlease send over the updated statement of work with the two extra "
        "sprints we discussed, so I can get it signed before the end of the month.\n\n"
        "Thanks,\nMaya",
    )
    story.ask(q, None)
    story.expect("reply", P.MAYA, q, "client asked for the updated SOW a week ago; no reply")
    # Questions that were answered in time, recently.
    for person, days_ago, subject, text, answer in (
        (
            P.KIM,
            5,
            "Go-live checklist",
            "Hi Alex,\n\nCan you share the go-live checklist with me before our call?\n\nKim",
            "Hi Kim,\n\nHere it is, attached. Everything is green except the DNS change, "
            "which your IT team owns.\n\nBest,\nAlex",
        ),
        (
            P.LENA,
            9,
            "Workshop room",
            "Hallo Alex,\n\nDo you need a projector in the room for the workshop, or is a "
            "large screen enough?\n\nLena",
            "Hi Lena,\n\nA large screen is perfect, thank you.\n\nAlex",
        ),
    ):
        day = _recent_workday(story, days_ago, days_ago + 3, person)
        q = story.mail(person, (ALEX,), story.work_time(day, person, 9.0, 12.0), subject, text)
        a = story.reply(
            q, ALEX, story.settle(q.date + timedelta(hours=story.rng.uniform(1, 5)), ALEX), answer
        )
        story.ask(q, a)
        story.negative("answered", q, person)
    for r in story.replies:
        if r["replied_at"] and r["asked_at"] >= iso(story.anchor - timedelta(days=30)):
            mail = next(m for m in story.mails if m.message_id == r["asked_message_id"])
            if {"what": "answered", "message_id": mail.message_id, "contact": r["contact"]} not in (
                story.negatives
            ):
                story.negative("answered", mail, mail.sender)


def _open_question(story: Story) -> None:
    day = _recent_workday(story, 6, 9, ALEX)
    when = story.at(day, 15.3)
    q = story.mail(
        ALEX,
        (P.SAM_O,),
        when,
        "Launch date for the booking app",
        "Hi Sam,\n\nCould you confirm the launch date for the booking app? We need it to "
        "plan the last two sprints and book the load test.\n\nBest,\nAlex",
    )
    story.question(q, None)
    story.expect("follow-up", P.SAM_O, q, "Alex asked for the launch date; no answer yet")


def _promises(story: Story) -> None:
    # Open promise: "by <weekday>", the weekday being the anchor's own (or the next workday):
    # due within a day or two of the anchor, so the promise is about to be broken.
    anchor_day = story.local_day(0)
    due_day = story.workday(anchor_day, back=False)
    made_day = due_day - timedelta(days=3)
    for k in range(3, 7):
        candidate = due_day - timedelta(days=k)
        if candidate.weekday() < 5 and candidate < anchor_day - timedelta(days=1):
            made_day = candidate
            break
    weekday = WEEKDAYS[due_day.weekday()]
    ask_at = story.at(made_day, 9.6, P.GARETH.zone)
    ask = story.mail(
        P.GARETH,
        (ALEX,),
        ask_at,
        "Revised quote",
        "Hi Alex,\n\nCould you send us a revised quote that includes the accessibility audit "
        "for the resident services site? Our budget meeting is next week.\n\nRegards,\nGareth",
    )
    made_at = story.at(made_day, 11.4)
    promise = story.reply(
        ask,
        ALEX,
        made_at,
        f"Hi Gareth,\n\nThanks, happy to. I'll send the revised quote by {weekday}, with the "
        "audit as a separate line so you can take it out if the budget is tight.\n\n"
        "Best,\nAlex",
    )
    story.ask(ask, promise)
    due = story.at(due_day, 17.5)
    story.promises.append(
        {
            "message_id": promise.message_id,
            "contact": P.GARETH.address,
            "made_at": iso(made_at),
            "due": iso(due),
            "kept_at": None,
            "text": f"I'll send the revised quote by {weekday}",
        }
    )
    story.expect(
        "follow-up",
        P.GARETH,
        promise,
        f"Alex promised the revised quote by {weekday} {due_day:%d %b}; not sent yet",
    )
    # Kept promise, on time, with the document attached.
    _kept(story, P.JUERGEN, 40, "Proposal for phase two", "the updated proposal", 3, late=False)
    # Kept promise, but a day late.
    _kept(story, P.KIM, 31, "Test plan", "the test plan", 2, late=True)
    # Earlier promises, for the record of promises kept on time and late.
    _kept(story, P.DANA, 150, "Migration estimate", "the migration estimate", 2, late=False)
    _kept(story, P.PRIYA, 118, "Research summary", "the research summary", 3, late=True)
    _kept(story, P.LENA, 76, "Journey map", "the journey map", 2, late=False)
    _kept(story, P.MAYA, 58, "Dashboard mock-ups", "the dashboard mock-ups", 4, late=False)
    _kept(story, P.SAM_O, 24, "Load test results", "the load test results", 1, late=False)


def _kept(
    story: Story, person: Person, days_ago: int, subject: str, thing: str, k: int, late: bool
) -> None:
    made_day = story.workday(story.local_day(days_ago))
    ask = story.mail(
        person,
        (ALEX,),
        story.at(made_day, 9.2, person.zone)
        if person.tz != P.NEW_YORK
        else story.at(story.workday(made_day - timedelta(days=1)), 15.0, person.zone),
        subject,
        f"Hi Alex,\n\nCould you send us {thing}? We would like to review it this week."
        f"\n\nThanks,\n{person.first}",
    )
    made_at = story.settle(ask.date + timedelta(hours=2), ALEX)
    due_day = made_at.astimezone(LONDON).date() + timedelta(days=k)
    while due_day.weekday() >= 5:
        due_day += timedelta(days=1)
    weekday = WEEKDAYS[due_day.weekday()]
    promise = story.reply(
        ask,
        ALEX,
        made_at,
        f"Hi {person.first},\n\nYes, I'll send {thing} by {weekday}.\n\nBest,\nAlex",
    )
    story.ask(ask, promise)
    due = story.at(due_day, 17.5)
    sent_day = due_day + timedelta(days=1) if late else due_day - timedelta(days=1)
    sent_day = story.workday(sent_day, back=not late)
    sent_at = story.at(sent_day, 16.0 if late else 14.5)
    kept = story.reply(
        promise,
        ALEX,
        sent_at,
        f"Hi {person.first},\n\nAs promised, {thing} is attached."
        + (" Sorry it took a day longer than planned." if late else "")
        + "\n\nBest,\nAlex",
        attachments=(_pdf(subject.replace(" ", "-") + ".pdf"),),
    )
    thanks = story.reply(
        kept,
        person,
        story.answer_time(sent_at, person, story.anchor - timedelta(days=1)),
        f"Received, thank you Alex.\n\n{person.first}",
    )
    del thanks
    story.promises.append(
        {
            "message_id": promise.message_id,
            "contact": person.address,
            "made_at": iso(made_at),
            "due": iso(due),
            "kept_at": iso(sent_at),
            "text": f"I'll send {thing} by {weekday}",
        }
    )
    story.negative("kept-promise", promise, person)


def _upset(story: Story) -> None:
    # First complaint ten days ago, answered with an apology; then again, angrier.
    day = story.workday(story.local_day(10, P.DANA.zone))
    first = story.mail(
        P.DANA,
        (ALEX,),
        story.at(day, 9.5, P.DANA.zone),
        "Export still broken",
        "Hi Alex,\n\nThe CSV export in the route-planning portal is still dropping the last "
        "row. My team spent the morning fixing reports by hand. This needs attention.\n\nDana",
    )
    apology = story.reply(
        first,
        ALEX,
        story.settle(first.date + timedelta(hours=1.5), ALEX),
        "Hi Dana,\n\nI'm sorry, that is not the experience you should have. Ben is on it "
        "today and we have added a test so it cannot come back.\n\nAlex",
    )
    day = _recent_workday(story, 1, 2, P.DANA)
    when = min(story.at(day, 8.9, P.DANA.zone), story.anchor - timedelta(hours=6))
    upset = story.reply(
        apology,
        P.DANA,
        when,
        "Alex,\n\nThis is unacceptable. The export is still not fixed, ten days after you "
        "told me it was being handled, and the new release went out two days late on top "
        "of that. I'm frustrated that I keep having to chase this. Our board meets this week "
        "and I have to explain why the numbers are wrong again.\n\nDana",
        cc=(P.MARCUS,),
    )
    story.expect(
        "recover",
        P.DANA,
        upset,
        "key client upset: export still not fixed, late release (second complaint; "
        "escalation contact ops-director@northwind.example on Cc)",
    )


def _no_recap(story: Story) -> None:
    """Two meetings with external people in the last days, no recap sent."""
    anchor_day = story.local_day(0)
    first_day = story.workday(anchor_day - timedelta(days=1))
    second_day = story.workday(first_day - timedelta(days=1))
    for day, hour, length, title, guest in (
        (first_day, 14.0, 1.5, "Atlas Freight tracking page workshop", P.LENA),
        (second_day, 16.0, 0.5, "Intro call: Bluewater Analytics", P.NINA),
    ):
        begin = story.at(day, hour)
        end = begin + timedelta(hours=length)
        ev = Event(
            uid=_uid(story, "meeting"),
            summary=title,
            start=begin,
            end=end,
            attendees=(guest,),
            location="Video call",
            stamp=story.start,
        )
        story.events.append(ev)
        story.meetings.append(
            {
                "uid": ev.uid,
                "summary": title,
                "start": iso(begin),
                "end": iso(end),
                "attendees": [guest.address],
                "recap_message_id": None,
                "recap_at": None,
            }
        )
        story.expect(
            "recover", guest, None, f"meeting '{title}' on {day:%a %d %b} ended; no recap sent"
        )


def _cc_only(story: Story) -> None:
    day = _recent_workday(story, 1, 3, P.KIM)
    when = min(story.at(day, 10.0, P.KIM.zone), story.anchor - timedelta(hours=4))
    msg = story.mail(
        P.KIM,
        (P.SAM_P,),
        when,
        "Timesheet for the October sprint",
        "Hi Sam,\n\nCould you send me the updated timesheet for the last sprint? Alex, just "
        "copying you for visibility.\n\nThanks,\nKim",
        cc=(ALEX,),
    )
    story.negative("cc-only", msg, P.KIM)
    day = _recent_workday(story, 4, 6, P.OLIVER)
    msg = story.mail(
        P.OLIVER,
        (P.PRIYA,),
        story.work_time(day, P.OLIVER),
        "PO for the next phase",
        "Priya,\n\nCan you approve the purchase order for the next phase today? Alex is "
        "copied so he knows it is moving.\n\nOliver",
        cc=(ALEX,),
    )
    story.negative("cc-only", msg, P.OLIVER)


def _prospect(story: Story) -> None:
    # Nina: a new relationship, intro meeting set up by mail (the meeting has no recap).
    day = _recent_workday(story, 16, 19, P.NINA)
    hello = story.mail(
        P.NINA,
        (ALEX,),
        story.work_time(day, P.NINA, 9.0, 12.0),
        "Service design for our onboarding",
        "Hi Alex,\n\nHelen Brooks gave me your name. Would you have time for a short call "
        "about our customer onboarding? We are growing fast and it shows.\n\nBest,\nNina",
    )
    answer = story.reply(
        hello,
        ALEX,
        story.settle(hello.date + timedelta(hours=3.2), ALEX),
        "Hi Nina,\n\nLovely to hear from you, and thanks to Helen. I've sent an invitation "
        "for a 30-minute intro call.\n\nBest,\nAlex",
    )
    story.ask(hello, answer)
    # Ravi: asked about pricing, answered the next morning.
    day = _recent_workday(story, 9, 12, P.RAVI)
    q = story.mail(
        P.RAVI,
        (ALEX,),
        story.at(day, 18.2, P.RAVI.zone),
        "Workshop pricing",
        "Hi Alex,\n\nWhat would a two-day discovery workshop cost for a team of eight?\n\n"
        "Thanks,\nRavi",
    )
    a = story.reply(
        q,
        ALEX,
        story.settle(q.date + timedelta(hours=15), ALEX),
        "Hi Ravi,\n\nFor a team of eight it is GBP 6,400 for both days, including the "
        "write-up. Happy to adapt the format.\n\nBest,\nAlex",
    )
    story.ask(q, a)
    story.reply(
        a,
        P.RAVI,
        story.settle(a.date + timedelta(hours=5), P.RAVI),
        "Thanks, " "that's within budget. I'll discuss it with my co-founder.\n\nRavi",
    )
    story.negative("answered", q, P.RAVI)
