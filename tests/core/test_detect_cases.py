"""Detection on the failure patterns of issue 13, each with mail of our own.

Pure: hand-made messages and signals into `detect` and `judge`, no NLP, no I/O.
Without a personal model (too little history) detection runs as a new user's would.
"""

from __future__ import annotations

from dataclasses import replace

from nurture.analysis import addressed
from nurture.detect import Inputs, Judgement, detect, judge
from nurture.model import Address, Ask, Automated, Body, Message, Signals, Suggestion
from nurture.nlp import header_verdict
from nurture.repeats import fingerprint, sentence_key
from nurture.rules import ContactRule, Rulebook

from .letters import (
    DANA,
    IDENTITY,
    MAUREEN,
    ME,
    NOW,
    PRIYA,
    RULES,
    SAM,
    SHARED,
    TEAM,
    D,
    H,
    asking,
    letter,
    plain,
)


def inputs(
    messages: list[Message],
    signals: dict[str, Signals],
    *,
    identity: object = IDENTITY,
    rules: Rulebook = RULES,
) -> Inputs:
    return Inputs(messages, signals, (), rules, identity, NOW)  # type: ignore[arg-type]


def nudges(messages: list[Message], signals: dict[str, Signals], **kw: object) -> list[str]:
    return sorted(s.key for s in detect(inputs(messages, signals, **kw)))  # type: ignore[arg-type]


def found(messages: list[Message], signals: dict[str, Signals], **kw: object) -> list[Suggestion]:
    return detect(inputs(messages, signals, **kw))  # type: ignore[arg-type]


def judged(
    messages: list[Message], signals: dict[str, Signals], **kw: object
) -> dict[str, Judgement]:
    return judge(inputs(messages, signals, **kw))  # type: ignore[arg-type]


def crowd(n: int) -> tuple[Address, ...]:
    return tuple(Address(f"reader{i}@press.example") for i in range(n))


# ---- 1: mass mail ------------------------------------------------------------------


def test_a_clipping_to_sixty_people_asks_nothing_of_the_user() -> None:
    clipping = letter(SAM, (ME, *crowd(59)), NOW - 4 * D, subject="This week's coverage")
    sig = asking("Could you forward these articles to your teams?")
    assert nudges([clipping], {clipping.message_id: sig}) == []
    why = judged([clipping], {clipping.message_id: sig})[clipping.message_id].why_not
    assert why == "sent to 60 people without naming you"


def test_the_same_ask_to_three_people_or_greeting_the_user_is_theirs() -> None:
    small = letter(SAM, (ME, DANA, PRIYA), NOW - 4 * D, subject="This week's coverage")
    sig = asking("Could you forward these articles to your teams?")
    assert nudges([small], {small.message_id: sig}) == [f"reply:{small.message_id}"]
    greeted = letter(SAM, (ME, *crowd(59)), NOW - 4 * D, subject="Panel on Thursday")
    hello = replace(sig, greets_user=True)
    assert nudges([greeted], {greeted.message_id: hello}) == [f"reply:{greeted.message_id}"]


# ---- 3: a request addressed by name to someone else ---------------------------------


def test_mail_that_opens_by_greeting_another_recipient_is_theirs() -> None:
    note = letter(DANA, (MAUREEN, ME), NOW - 4 * D, subject="Signed contract")
    sig = replace(asking("Please keep the signed copy on file."), addressee=MAUREEN.email)
    assert nudges([note], {note.message_id: sig}) == []
    assert judged([note], {note.message_id: sig})[note.message_id].why_not == (
        f"addressed to {MAUREEN.email}"
    )


def test_an_ask_that_opens_with_another_recipients_name_is_theirs() -> None:
    note = letter(DANA, (ME, MAUREEN), NOW - 4 * D, subject="Signed contract")
    theirs = Signals(asks=(Ask("Maureen - please keep this on file.", 0.8),), version="t")
    assert nudges([note], {note.message_id: theirs}) == []
    both = Signals(
        asks=(
            Ask("Maureen - please keep this on file.", 0.8),
            Ask("Alex, could you countersign page two?", 0.7),
        ),
        version="t",
    )
    (s,) = found([note], {note.message_id: both})
    assert s.evidence == "Alex, could you countersign page two?"


def test_reading_a_message_finds_the_recipient_its_greeting_names() -> None:
    note = letter(DANA, (MAUREEN,), NOW - 4 * D, cc=(ME,), subject="Signed contract")
    for opening, expected in (
        ("Hi Maureen,", MAUREEN.email),
        ("Maureen -", MAUREEN.email),
        ("Hi all,", ""),
        ("Hello,", ""),
    ):
        body = Body(text=f"{opening}\n\nPlease keep the signed copy on file.\n\nDana\n")
        assert addressed(note, body, Signals(), IDENTITY).addressee == expected, opening
    body = Body(text="Hi Maureen and Alex,\n\nPlease keep the signed copy on file.\n")
    greeted = addressed(note, body, Signals(greets_user=True), IDENTITY)
    assert greeted.addressee == ""  # the user is greeted too: the asks are theirs as well


# ---- 5: stale asks -------------------------------------------------------------------


def test_an_invitation_for_a_day_long_past_is_not_nudged() -> None:
    dinner = letter(SAM, ME, NOW - 34 * D, subject="Dinner")
    sig = asking("Would you like to join us for dinner on Friday?")
    assert nudges([dinner], {dinner.message_id: sig}) == []
    assert judged([dinner], {dinner.message_id: sig})[dinner.message_id].why_not.startswith("stale")
    later = letter(SAM, ME, NOW - 4 * D, subject="Dinner")
    ahead = asking("Would you like to join us for dinner next month?")
    assert nudges([later], {later.message_id: ahead}) == [f"reply:{later.message_id}"]


def test_a_deadline_that_passed_leaves_the_ask_owed() -> None:
    dinner = letter(SAM, ME, NOW - 9 * D, subject="Dinner")
    event = asking("Would you like to join us for dinner on Friday?")
    assert nudges([dinner], {dinner.message_id: event}) == []
    contract = letter(SAM, ME, NOW - 9 * D, subject="Contract")
    deadline = asking("Could you send the signed contract by Friday?")
    assert nudges([contract], {contract.message_id: deadline}) == [f"reply:{contract.message_id}"]


def test_without_history_an_undated_ask_stops_two_weeks_past_its_window() -> None:
    old = letter(SAM, ME, NOW - 20 * D, subject="Brochure")
    sig = asking("Could you send me the brochure?")
    assert nudges([old], {old.message_id: sig}) == []
    younger = letter(SAM, ME, NOW - 10 * D, subject="Brochure")
    assert nudges([younger], {younger.message_id: sig}) == [f"reply:{younger.message_id}"]


# ---- 6: automated senders with a human look ----------------------------------------

ROBOT = Address("reports@builds.example", "Build Reports")
ROBOT_LINE = "Kindly drop us a note if this report was irrelevant to you."


def test_a_sentence_a_sender_writes_in_many_threads_is_their_template() -> None:
    reports = [
        letter(ROBOT, (who,), NOW - (6 - n) * D, cc=(ME,), subject=f"Build {n} finished")
        for n, who in enumerate((DANA, SAM, PRIYA))
    ]
    latest = letter(ROBOT, (ME,), NOW - 4 * D, subject="Build 4 finished")
    sig = replace(asking(ROBOT_LINE), sentence_keys=(sentence_key(ROBOT_LINE),))
    signals = {m.message_id: sig for m in [*reports, latest]}
    assert nudges([*reports, latest], signals) == []
    assert judged([*reports, latest], signals)[latest.message_id].why_not == "asks nothing"
    # said once, the same sentence is an ask
    alone = {latest.message_id: sig}
    assert nudges([latest], alone) == [f"reply:{latest.message_id}"]


TEMPLATE = (
    "Hello, we are reaching out to maintainers about the quarterly survey. It takes ten "
    "minutes and helps us plan the next release of the toolkit for everyone involved. "
    "Could you answer the survey by the end of the month? Thank you for your time."
)


def test_a_sender_who_sends_the_same_text_to_many_people_is_automated() -> None:
    mails = [
        letter(ROBOT, (who,), NOW - (6 - n) * D, subject="Quarterly survey")
        for n, who in enumerate((DANA, SAM, PRIYA, ME))
    ]
    signals = {
        m.message_id: replace(
            asking("Could you answer the survey by the end of the month?", 0.8),
            fingerprint=fingerprint(TEMPLATE.replace("ten", str(n))),
            upset=0.9,
            upset_sentence="Thank you for your time.",
        )
        for n, m in enumerate(mails)
    }
    assert nudges(mails, signals) == []  # neither a reply nor a recover nudge
    assert judged(mails, signals)[mails[-1].message_id].why_not == (
        "its sender sends the same text to many people"
    )


WRITER = Address("lee@pages.example", "Lee Writer")
FIX = (
    "Use the same spelling of the option name in the synopsis and in the description, "
    "and wrap the long example line so that it fits in eighty columns. Could you apply it?"
)


def test_near_identical_mail_to_the_user_copied_to_different_people_is_a_person() -> None:
    # a contributor's small, alike fixes, each to the user and copied to whoever wrote
    # the page: the text repeats, but it was addressed to the user every time
    mails = [
        letter(SAM, (ME,), NOW - (9 - n) * D, cc=(who,), subject=f"[PATCH] page{n}: spelling")
        for n, who in enumerate((DANA, PRIYA, MAUREEN, WRITER))
    ]
    signals = {
        m.message_id: replace(
            asking("Could you apply it?", 0.8), fingerprint=fingerprint(FIX.replace("eighty", n))
        )
        for n, m in zip(("eighty", "80", "eighty", "eighty"), mails, strict=True)
    }
    assert "same text" not in judged(mails, signals)[mails[-1].message_id].why_not
    assert f"reply:{mails[-1].message_id}" in nudges(mails, signals)


# ---- 7: Feedback-ID ------------------------------------------------------------------


def test_a_feedback_id_alone_does_not_make_a_persons_mail_bulk() -> None:
    personal = letter(DANA, ME, NOW - 4 * D, headers={"feedback-id": "1:2:acme:provider"})
    assert header_verdict(personal) is None
    assert nudges([personal], {personal.message_id: asking()}) == [f"reply:{personal.message_id}"]
    bulk = letter(
        DANA,
        ME,
        NOW - 4 * D,
        headers={"feedback-id": "1:2:acme:provider", "list-unsubscribe": "<mailto:u@x>"},
    )
    assert header_verdict(bulk) is Automated.BULK


# ---- 8: branches, series and resent asks ---------------------------------------------


def test_answering_one_patch_of_a_series_leaves_its_siblings_open() -> None:
    cover = letter(DANA, ME, NOW - 6 * D, subject="[PATCH 0/3] pwm: rounding fixes")
    patches = [
        letter(DANA, ME, NOW - 6 * D + n * H, subject=f"[PATCH {n}/3] pwm: fix {n}", reply_to=cover)
        for n in (1, 2, 3)
    ]
    answer = letter(
        ME, DANA, NOW - 5 * D, subject="Re: [PATCH 2/3] pwm: fix 2", reply_to=patches[1]
    )
    sig = asking("Could you review this change?")
    messages = [cover, *patches, answer]
    signals = {m.message_id: sig for m in patches}
    views = judged(messages, signals)
    assert views[patches[1].message_id].why_not == "answered"
    assert views[cover.message_id].why_not == "answered"  # the branch above the answer
    assert views[patches[0].message_id].why_not == ""
    assert views[patches[2].message_id].why_not == ""
    (s,) = found(messages, signals)  # one nudge for the sender's open patches: the newest
    assert s.key == f"reply:{patches[2].message_id}"
    assert "1 older message(s) of theirs wait with it" in s.why


def test_a_senders_follow_up_on_their_own_message_makes_one_nudge_with_both() -> None:
    question = letter(DANA, ME, NOW - 6 * D, subject="Invoice 88")
    ping = letter(DANA, ME, NOW - 4 * D, subject="Re: Invoice 88", reply_to=question)
    sig = asking("Could you approve invoice 88?")
    (s,) = found([question, ping], {question.message_id: sig, ping.message_id: sig})
    assert s.key == f"reply:{ping.message_id}"
    assert "1 older message(s) of theirs wait with it" in s.why


def test_the_same_patch_resent_as_a_new_version_is_nudged_once() -> None:
    v7 = letter(DANA, ME, NOW - 8 * D, subject="[PATCH v7] pwm: fix the period rounding")
    v9 = letter(DANA, ME, NOW - 4 * D, subject="[PATCH v9] pwm: fix the period rounding")
    sig = asking("Could you take another look?")
    signals = {v7.message_id: sig, v9.message_id: sig}
    assert nudges([v7, v9], signals) == [f"reply:{v9.message_id}"]
    other = letter(SAM, ME, NOW - 4 * D, subject="[PATCH v9] pwm: fix the period rounding")
    both = nudges([v7, v9, other], {**signals, other.message_id: sig})
    assert both == sorted([f"reply:{v9.message_id}", f"reply:{other.message_id}"])


def test_one_person_with_several_open_conversations_gets_one_nudge() -> None:
    # a tester files three separate reports in a week: one task to get back to them
    reports = [
        letter(DANA, ME, NOW - (9 - 2 * n) * D, subject=f"Report {n}: the export fails")
        for n in range(3)
    ]
    other = letter(SAM, ME, NOW - 6 * D, subject="Quote for the spring order")
    sig = asking("Could you look into this?")
    signals = {m.message_id: sig for m in [*reports, other]}
    by_key = {s.key: s for s in found([*reports, other], signals)}
    assert sorted(by_key) == sorted([f"reply:{reports[2].message_id}", f"reply:{other.message_id}"])
    s = by_key[f"reply:{reports[2].message_id}"]
    assert s.why.endswith(
        '2 older message(s) of theirs wait with it: "Report 1: the export fails", '
        '"Report 0: the export fails".'
    )
    assert s.waiting == (reports[0].message_id, reports[1].message_id)
    # once the newest is answered, the nudge moves to the newest still open
    answer = letter(ME, DANA, NOW - D, subject="Re: Report 2", reply_to=reports[2])
    (s,) = [s for s in found([*reports, other, answer], signals) if s.contact == DANA]
    assert s.key == f"reply:{reports[1].message_id}"


def test_a_reply_to_a_later_message_answers_the_branch_above_it() -> None:
    question = letter(DANA, (ME, SAM), NOW - 6 * D)
    aside = letter(SAM, (DANA, ME), NOW - 5 * D, subject="Re: Q3 renewal", reply_to=question)
    answer = letter(ME, (DANA, SAM), NOW - 4 * D, subject="Re: Q3 renewal", reply_to=aside)
    views = judged([question, aside, answer], {question.message_id: asking()})
    assert views[question.message_id].why_not == "answered"


def test_a_bare_outlook_reply_answers_the_mail_of_the_person_it_went_to() -> None:
    question = letter(DANA, ME, NOW - 6 * D, subject="Contract")
    answer = letter(
        ME, DANA, NOW - 5 * D, subject="RE: Contract", reply_to=question, threaded=False
    )
    again = letter(DANA, ME, NOW - 4 * D, subject="RE: Contract", reply_to=answer, threaded=False)
    sig = asking("Could you send the signed copy?")
    views = judged([question, answer, again], {m.message_id: sig for m in (question, again)})
    assert views[question.message_id].why_not == "answered"
    assert views[again.message_id].why_not == ""


# ---- recover: bursts and escalation ----------------------------------------------------


def upset(level: float, *, chaser: float = 0.0, shape: str = "") -> Signals:
    return Signals(
        upset=level,
        upset_sentence="This is not what we agreed.",
        chaser=chaser,
        fingerprint=shape,
        version="t",
    )


def recovers(
    messages: list[Message], signals: dict[str, Signals], **kw: object
) -> list[Suggestion]:
    return [s for s in found(messages, signals, **kw) if s.key.startswith("recover:")]


def test_a_burst_of_upset_mail_from_one_contact_is_one_recover_nudge_for_the_newest() -> None:
    burst = [
        letter(DANA, ME, NOW - 2 * D + n * H, subject=f"Order {n} arrived broken") for n in range(5)
    ]
    (s,) = recovers(burst, {m.message_id: upset(0.85) for m in burst})
    assert s.message_id == burst[-1].message_id
    assert nudges(burst, {m.message_id: upset(0.85) for m in burst}) == [s.key]  # no replies


def test_mild_upset_earns_a_recover_nudge_only_from_an_escalating_contact() -> None:
    once = letter(DANA, ME, NOW - 1 * D)
    assert recovers([once], {once.message_id: upset(0.55)}) == []
    (s,) = recovers([once], {once.message_id: upset(0.55, chaser=1.0)})
    assert "written again" in s.why
    earlier = letter(DANA, ME, NOW - 6 * D)  # the same matter: its subject
    asked = replace(upset(0.1), asks=(Ask("When will the parts ship?", 0.9),))
    signals = {earlier.message_id: asked, once.message_id: upset(0.55)}
    assert [s.message_id for s in recovers([earlier, once], signals)] == [once.message_id]


def test_writing_again_escalates_only_after_an_unanswered_question_a_day_old_or_more() -> None:
    """A contributor's second patch, a second mail the same hour, or mail about another
    matter chases nothing; writing again in the conversation a day later does."""
    asked = replace(upset(0.1), asks=(Ask("Could you review the fix?", 0.9),))
    patch = letter(SAM, ME, NOW - 5 * D, subject="[PATCH 1/2] parser: handle empty lines")
    second = letter(SAM, ME, NOW - 1 * D, subject="[PATCH 2/2] parser: it still fails on tabs")
    told = {patch.message_id: upset(0.1), second.message_id: upset(0.55)}
    assert recovers([patch, second], told) == []  # the first asked nothing
    first = letter(DANA, ME, NOW - 1 * D - 2 * H, subject="Delivery date")
    again = letter(DANA, ME, NOW - 1 * D, subject="Delivery date, still nothing")
    burst = {first.message_id: asked, again.message_id: upset(0.55)}
    assert recovers([first, again], burst) == []  # two hours apart: one burst
    other = letter(DANA, ME, NOW - 4 * D, subject="Invoice address")
    elsewhere = {other.message_id: asked, again.message_id: upset(0.55)}
    assert recovers([other, again], elsewhere) == []  # it asked about another matter
    chased = letter(DANA, ME, NOW - 1 * D, subject="Re: Invoice address", reply_to=other)
    (s,) = recovers([other, chased], {other.message_id: asked, chased.message_id: upset(0.55)})
    assert s.message_id == chased.message_id
    # Sam (on the thread) took it up in between: Dana was heard, if not by the user
    took = letter(SAM, (DANA, ME), NOW - 3 * D, subject="Re: Invoice address", reply_to=other)
    heard = {other.message_id: asked, took.message_id: plain(), chased.message_id: upset(0.55)}
    assert recovers([other, took, chased], heard) == []


def test_critique_of_code_chasing_again_is_not_an_upset_contact() -> None:
    """Review mail sounds mildly upset ("that still breaks on tabs"): writing again
    about it is a reply matter, not a call; the same words about an order are."""
    asked = replace(upset(0.1), asks=(Ask("Could you look at the parser fix?", 0.9),))
    first = letter(SAM, ME, NOW - 5 * D, subject="parser fix")
    again = letter(SAM, ME, NOW - 1 * D, subject="Re: parser fix", reply_to=first)
    review = {first.message_id: asked, again.message_id: replace(upset(0.55), technical=True)}
    assert recovers([first, again], review) == []
    order = {first.message_id: asked, again.message_id: upset(0.55)}
    assert [s.message_id for s in recovers([first, again], order)] == [again.message_id]
    clear = {first.message_id: asked, again.message_id: replace(upset(0.8), technical=True)}
    assert [s.message_id for s in recovers([first, again], clear)] == [again.message_id]


def test_reading_a_message_marks_text_about_code() -> None:
    note = letter(SAM, ME, NOW - 1 * D, subject="Re: parser fix")
    code = Body(text="Sam,\n\nparse_line() still returns NULL on tabs, see foo_bar.c.\n")
    assert addressed(note, code, Signals(), IDENTITY).technical
    order = Body(text="Hi,\n\nMy order still has not arrived and nobody replies.\n")
    assert not addressed(note, order, Signals(), IDENTITY).technical


def test_a_sharp_rise_in_tone_escalates() -> None:
    calm = letter(DANA, ME, NOW - 9 * D, subject="Delivery date")
    answer = letter(ME, DANA, NOW - 8 * D, subject="Re: Delivery date", reply_to=calm)
    cross = letter(DANA, ME, NOW - 1 * D, subject="Re: Delivery date", reply_to=answer)
    rising = {calm.message_id: upset(0.2), cross.message_id: upset(0.55)}
    assert [s.message_id for s in recovers([calm, answer, cross], rising)] == [cross.message_id]
    level = {calm.message_id: upset(0.5), cross.message_id: upset(0.55)}
    assert recovers([calm, answer, cross], level) == []


def test_near_identical_reports_count_once_for_escalation() -> None:
    shape = fingerprint(TEMPLATE)
    burst = [letter(DANA, ME, NOW - 1 * D + n * H, subject=f"Errors in page {n}") for n in range(6)]
    signals = {m.message_id: upset(0.55, shape=shape) for m in burst}
    assert recovers(burst, signals) == []  # one report, mildly upset: no recover nudge


def test_escalating_twice_brings_in_the_escalation_contact() -> None:
    rules = replace(
        RULES,
        contacts=(
            ContactRule(
                ("*@client.example",),
                "client",
                escalation="Morgan Reyes (account director)",
                where="contacts.toml:1",
            ),
        ),
    )
    first = letter(DANA, ME, NOW - 10 * D, subject="Invoice")
    second = letter(DANA, ME, NOW - 2 * D, subject="Re: Invoice", reply_to=first)
    chased = replace(upset(0.6, chaser=1.0), asks=(Ask("Where is the corrected invoice?", 0.9),))
    signals = {first.message_id: chased, second.message_id: upset(0.8)}
    (s,) = recovers([first, second], signals, rules=rules)
    assert "Morgan Reyes" in s.action
    (once,) = recovers([second], {second.message_id: upset(0.8)}, rules=rules)
    assert "Morgan Reyes" not in once.action


# ---- shared inboxes ---------------------------------------------------------------------

LIST = {"list-id": "Support <support.brightpath.example>", "precedence": "list"}


def test_mail_to_a_shared_inbox_counts_as_the_users_and_a_colleagues_reply_resolves_it() -> None:
    ticket = letter(DANA, TEAM, NOW - 4 * D, subject="Login fails", headers=LIST)
    sig = asking("Could you reset my password?")
    assert nudges([ticket], {ticket.message_id: sig}) == []  # list mail, without shared inboxes
    assert nudges([ticket], {ticket.message_id: sig}, identity=SHARED) == [
        f"reply:{ticket.message_id}"
    ]
    handled = letter(PRIYA, DANA, NOW - 3 * D, subject="Re: Login fails", reply_to=ticket)
    views = judged([ticket, handled], {ticket.message_id: sig}, identity=SHARED)
    assert views[ticket.message_id].why_not == "answered"


def test_shared_inbox_mail_without_a_rule_for_its_sender_is_not_the_users_debt() -> None:
    stranger = letter(SAM, TEAM, NOW - 4 * D, subject="Feature idea", headers=LIST)
    sig = asking("Could you add dark mode?")
    assert nudges([stranger], {stranger.message_id: sig}, identity=SHARED) == []
    why = judged([stranger], {stranger.message_id: sig}, identity=SHARED)[stranger.message_id]
    assert why.why_not == "shared inbox mail and no contact rule for its sender"
    # a colleague's answer on the list resolves the user's own copy too
    direct = letter(SAM, (ME, TEAM), NOW - 4 * D, subject="Feature idea")
    assert nudges([direct], {direct.message_id: sig}, identity=SHARED) == [
        f"reply:{direct.message_id}"
    ]


def test_plain_mail_asking_nothing_gets_no_nudge_and_says_so() -> None:
    note = letter(DANA, ME, NOW - 4 * D)
    assert judged([note], {note.message_id: plain()})[note.message_id].why_not == "asks nothing"
