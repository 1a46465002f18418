"""The scripted scenarios: what nurture must find at the anchor, and near misses it must not.

Reply debts, an open question, promises (one open, others kept on time or
late), an upset key client, meetings without a recap, mail where Alex is
only on Cc, and new prospects. Each records its expectation in the story.
"""

from __future__ import annotations

from datetime import date, timedelta

from . import people as P
from .calendar import Event
from .people import ALEX, Person
from .story import LONDON, WEEKDAYS, Story, iso, pdf, uid


def run(story: Story) -> None:
    """Every scripted scenario, in a fixed order (the random stream depends on it)."""
    _reply_debts(story)
    _open_question(story)
    _promises(story)
    _upset(story)
    _no_recap(story)
    _cc_only(story)
    _prospect(story)
    _forward(story)


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
            q,
            ALEX,
            story.settle(q.date + timedelta(hours=story.rng.uniform(1, 5)), ALEX),
            answer,
            attachments=(pdf(subject.replace(" ", "-") + ".pdf"),) if "attached" in answer else (),
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
        attachments=(pdf(subject.replace(" ", "-") + ".pdf"),),
    )
    story.reply(
        kept,
        person,
        story.answer_time(sent_at, person, story.anchor - timedelta(days=1)),
        f"Received, thank you Alex.\n\n{person.first}",
    )
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
            uid=uid(story, "meeting"),
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


def _forward(story: Story) -> None:
    """A colleague forwards a client's mail for context; the question inside is not Alex's."""
    day = _recent_workday(story, 12, 15, P.SAM_P)
    when = story.work_time(day, P.SAM_P)
    original = story.at(day - timedelta(days=1), 16.3, P.MAYA.zone).astimezone(P.MAYA.zone)
    fwd = story.mail(
        P.SAM_P,
        (ALEX,),
        when,
        "Fwd: Supplier onboarding numbers",
        "Alex, FYI: context for Thursday, no action needed.\n\nSam\n\n"
        "---------- Forwarded message ---------\n"
        f"From: {P.MAYA.name} <{P.MAYA.address}>\n"
        f"Date: {original:%a, %d %b %Y at %H:%M}\n"
        "Subject: Supplier onboarding numbers\n"
        f"To: {P.SAM_P.name} <{P.SAM_P.address}>\n\n"
        "Hi Sam,\n\nCould you check why 40 suppliers are stuck at the bank details step? "
        "The numbers are in the attached sheet.\n\nThanks,\nMaya\n",
    )
    story.reply(
        fwd,
        ALEX,
        story.settle(when + timedelta(hours=1.4), ALEX),
        "Thanks Sam, useful context.\n\nAlex",
    )
    story.negative("forwarded", fwd, P.SAM_P)
