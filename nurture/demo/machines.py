"""Machine mail: newsletters, tracker and code-host notifications, invoices, bounces.

None of it may ever cause a nudge; each message is recorded as a negative.
"""

from __future__ import annotations

from datetime import timedelta

from . import people as P
from .people import ALEX, ALEX_ALIAS, Person
from .story import DAYS, Story, pdf


def run(story: Story) -> None:
    """Six months of machine mail."""
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
    # Overnight, still unread at the anchor: the tracker's daily summary.
    when = story.anchor - timedelta(hours=rng.uniform(1.0, 3.0))
    msg = story.mail(
        P.TRACKER,
        (ALEX,),
        when,
        f"Daily summary: 3 issues assigned to you ({when:%d %b})",
        "Good morning Alex,\n\nYou have 3 open issues assigned to you. Can you update their "
        "status before stand-up?\n\nView your board: https://tracker.example/board\n",
        headers=(("Auto-Submitted", "auto-generated"), ("Precedence", "list")),
        signature=False,
        seen=False,
    )
    story.negative("notification", msg, P.TRACKER)
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
            attachments=(pdf("Workshop-slides.pdf"),),
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
                attachments=(pdf("Workshop-slides.pdf"),),
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
