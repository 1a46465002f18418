"""Signals end to end through `analyse`: asks, promises with dates, tone, greeting."""

from __future__ import annotations

from datetime import datetime

import pytest

from nurture.model import UTC, Automated, Body
from nurture.nlp import ANALYSER_VERSION, Reader, analyse

from .conftest import make_message

WEDNESDAY = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def one(text: str, reader: Reader, **kwargs: object) -> object:
    message = make_message(**kwargs)  # type: ignore[arg-type]
    [signals] = analyse([(message, Body(text=text))], reader)
    return signals


@pytest.mark.parametrize(
    "sentence",
    [
        "Could you send me the signed contract?",
        "Can we meet on Thursday to go through the plan?",
        "Please review the attached draft and send comments.",
        "What time works for you next week?",
        "Would it be possible to move our call to 3pm?",
        "Do you have the latest numbers for the east region?",
        "Let me know whether the venue suits you.",
    ],
)
def test_questions_and_requests_are_asks(sentence: str, reader: Reader) -> None:
    signals = one(f"Hi Alex,\n\n{sentence}\n\nSam", reader)
    assert [a.sentence for a in signals.asks] == [sentence]  # type: ignore[attr-defined]
    assert signals.ask_score >= 0.5  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "sentence",
    [
        "Let me know if you have any questions.",
        "Please don't hesitate to contact me if you need anything.",
        "Hope you had a great weekend!",
        "The meeting went well and the client signed.",
        "Thanks again for your help yesterday.",
        "Have a nice weekend.",
        "Please find attached the minutes of the meeting.",
    ],
)
def test_boilerplate_and_statements_are_not_asks(sentence: str, reader: Reader) -> None:
    signals = one(f"Hi Alex,\n\nThe report is done. {sentence}\n\nSam", reader)
    assert signals.asks == ()  # type: ignore[attr-defined]


def test_quoted_question_is_not_an_ask(reader: Reader) -> None:
    text = (
        "Done, it is in the folder.\n\n"
        "On Mon, Mar 2, 2026 at 9:00 AM Alex wrote:\n> Can you file it?"
    )
    signals = one(text, reader)
    assert signals.asks == ()  # type: ignore[attr-defined]


def test_inline_quoted_question_is_not_an_ask(reader: Reader) -> None:
    text = "> Can we move the review?\nYes, Thursday works.\n> Will you bring the slides?\nSure."
    signals = one(text, reader)
    assert signals.asks == ()  # type: ignore[attr-defined]


def test_promise_across_a_weekend(reader: Reader) -> None:
    # Sent Friday 6 March 2026, 16:00 in Berlin (+0100): "Monday" is 9 March.
    friday = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
    signals = one(
        "I'll send you the revised figures on Monday.",
        reader,
        date=friday,
        headers={"date": "Fri, 6 Mar 2026 16:00:00 +0100"},
    )
    [promise] = signals.commitments  # type: ignore[attr-defined]
    assert promise.due == datetime(2026, 3, 9, 16, 0, tzinfo=UTC)  # 17:00 in Berlin


def test_promise_tomorrow_from_friday_is_saturday(reader: Reader) -> None:
    friday = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
    signals = one(
        "I will get back to you tomorrow morning at 10am.",
        reader,
        date=friday,
        headers={"date": "Fri, 6 Mar 2026 16:00:00 +0100"},
    )
    [promise] = signals.commitments  # type: ignore[attr-defined]
    assert promise.due == datetime(2026, 3, 7, 9, 0, tzinfo=UTC)


def test_promise_across_a_daylight_saving_change() -> None:
    # New York moves to EDT on Sunday 8 March 2026: Monday 9am is 13:00 UTC, not 14:00.
    reader = Reader(addresses=("alex@example.com",), timezone="America/New_York")
    friday = datetime(2026, 3, 6, 21, 0, tzinfo=UTC)
    signals = one(
        "Let me check with legal and I'll call you Monday at 9am.",
        reader,
        date=friday,
        headers={"date": "Fri, 6 Mar 2026 16:00:00 -0500"},
    )
    [promise] = signals.commitments  # type: ignore[attr-defined]
    assert promise.due == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)


def test_promise_uses_the_message_offset_not_the_reader_zone(reader: Reader) -> None:
    # Written in Tokyo (+0900) on Wednesday evening; the reader lives in Berlin.
    sent = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)
    signals = one(
        "I will send the contract by tomorrow.",
        reader,
        date=sent,
        headers={"date": "Wed, 4 Mar 2026 20:00:00 +0900"},
    )
    [promise] = signals.commitments  # type: ignore[attr-defined]
    assert promise.due == datetime(2026, 3, 5, 8, 0, tzinfo=UTC)  # 17:00 in Tokyo


def test_promise_without_date_has_no_due(reader: Reader) -> None:
    signals = one("Let me look into it and get back to you.", reader)
    [promise] = signals.commitments  # type: ignore[attr-defined]
    assert promise.due is None


def test_promise_with_no_date_header_uses_reader_zone(reader: Reader) -> None:
    signals = one("I'll send it by end of day.", reader, headers={})
    [promise] = signals.commitments  # type: ignore[attr-defined]
    assert promise.due == datetime(2026, 3, 4, 16, 0, tzinfo=UTC)  # 17:00 Berlin


@pytest.mark.parametrize(
    "sentence",
    [
        "I'll be out of the office until Monday.",
        "Will you send it by Friday?",
        "I won't be able to make it.",
        "Jordan will send the report.",
    ],
)
def test_not_promises(sentence: str, reader: Reader) -> None:
    assert one(sentence, reader).commitments == ()  # type: ignore[attr-defined]


def test_upset_tone_with_sentence(reader: Reader) -> None:
    text = (
        "Hi Alex,\n\nThe invoice is wrong again. I am really frustrated that we still "
        "have not received a correction after three weeks.\n\nSam"
    )
    signals = one(text, reader)
    assert signals.upset >= 0.5  # type: ignore[attr-defined]
    assert "frustrated" in signals.upset_sentence  # type: ignore[attr-defined]


def test_calm_mail_is_not_upset(reader: Reader) -> None:
    signals = one("Hi Alex,\n\nThe slides look great. See you at lunch.\n\nSam", reader)
    assert signals.upset < 0.3  # type: ignore[attr-defined]
    assert signals.upset_sentence == ""  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("opening", "expected"),
    [
        ("Hi Alex,", True),
        ("Dear Alex Morgan,", True),
        ("Alex -", True),
        ("Hello team,", False),
        ("Alexander,", False),
        ("Hi all,", False),
    ],
)
def test_greeting(opening: str, expected: bool, reader: Reader) -> None:
    signals = one(f"{opening}\n\nThe report is attached.\n", reader)
    assert signals.greets_user is expected  # type: ignore[attr-defined]


def test_greeting_falls_back_to_the_address_name() -> None:
    reader = Reader(addresses=("alex.morgan@example.com",))
    assert one("Hi Alex,\n\nThe report is attached.", reader).greets_user  # type: ignore[attr-defined]
    assert not one("Hi Sam,\n\nThe report is attached.", reader).greets_user  # type: ignore[attr-defined]


def test_calendar_part_inside_alternative_is_an_invitation(reader: Reader) -> None:
    raw = (
        b"From: sam@example.org\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nCould you join the planning call?\r\n"
        b"--b\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\nBEGIN:VCALENDAR\r\n"
        b"END:VCALENDAR\r\n--b--\r\n"
    )
    [signals] = analyse([(make_message(), Body(raw=raw))], reader)
    assert signals.automated is Automated.INVITATION


def test_newsletter_footer_is_bulk(reader: Reader) -> None:
    text = (
        "Could you tell us what you think of our new range?\n\n"
        "You are receiving this email because you signed up at example.org.\n"
        "To unsubscribe, click here."
    )
    assert one(text, reader).automated is Automated.BULK  # type: ignore[attr-defined]


def test_asking_how_to_unsubscribe_is_personal(reader: Reader) -> None:
    text = "Hi Alex,\n\nCould you tell me how to unsubscribe from the club list?\n\nThanks,\nSam"
    signals = one(text, reader)
    assert signals.automated is None  # type: ignore[attr-defined]
    assert len(signals.asks) == 1  # type: ignore[attr-defined]


def test_automated_mail_is_not_analysed(reader: Reader) -> None:
    message = make_message(headers={"list-id": "<x.example.org>"})
    [signals] = analyse([(message, Body(text="Could you send me the file?"))], reader)
    assert signals.automated is Automated.LIST
    assert signals.asks == ()


def test_order_and_version_are_kept(reader: Reader) -> None:
    items = [
        (make_message(), Body(text="Could you call me?")),
        (make_message(sender="no-reply@x.example"), Body(text="Could you call me?")),
        (make_message(), Body()),
        (make_message(), Body(text="I'll call you tomorrow.")),
    ]
    result = analyse(items, reader)
    assert [s.version for s in result] == [ANALYSER_VERSION] * 4
    assert len(result[0].asks) == 1
    assert result[1].automated is Automated.NO_REPLY
    assert result[2].asks == () and result[2].commitments == ()
    assert len(result[3].commitments) == 1


def test_long_ask_sentence_is_trimmed(reader: Reader) -> None:
    sentence = "Could you " + "check the numbers and " * 40 + "send them back?"
    [ask] = one(sentence, reader).asks  # type: ignore[attr-defined]
    assert len(ask.sentence) <= 300


def test_worried_argument_is_concern_but_not_a_recover_case(reader: Reader) -> None:
    # Worried business mail argues rather than shouts: it counts as upset tone (0.5 and
    # up) without the explicit words a recover nudge needs (detect.UPSET_MIN = 0.7).
    from nurture.detect import UPSET_MIN

    text = (
        "Sam,\n\nI'm not sure the new pricing is in our interest. We need to look at the "
        "risk before we sign: if the volumes fall, we lose money on every unit, and I "
        "don't think the board understands the exposure. The problem is serious and we "
        "can't wait until the quarter closes.\n\nAlex"
    )
    signals = one(text, reader)
    assert 0.5 <= signals.upset < UPSET_MIN  # type: ignore[attr-defined]
    assert signals.upset_sentence  # type: ignore[attr-defined]


def test_long_calm_update_is_not_concern(reader: Reader) -> None:
    text = (
        "Hi team,\n\nThe offsite is booked for the 14th at the riverside venue. Lunch is at "
        "noon and the room has a projector and a whiteboard. Travel details are in the "
        "attached sheet; parking is free for the day. Maria will bring the printed agendas "
        "and name badges, and the evening dinner starts at seven.\n\nSee you there,\nSam"
    )
    assert one(text, reader).upset < 0.5  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["Mike Shames", "Sadie", "Hatem"])
def test_names_that_start_like_feelings_are_not_upset(name: str, reader: Reader) -> None:
    signals = one(f"Hi,\n\n{name} joins the call on Friday.\n\nSam", reader)
    assert signals.upset < 0.5  # type: ignore[attr-defined]


def test_a_covering_note_takes_its_tone_from_what_it_forwards(reader: Reader) -> None:
    from nurture.detect import UPSET_MIN

    forwarded = (
        "We need to talk about the renewal. I'm not sure the new terms are in our interest: "
        "the risk is serious, the penalties are a problem, and we can't accept the liability "
        "clause as written. If the volumes fall we lose money, and I don't think anyone has "
        "looked at the exposure. This has to be fixed before we sign, but nobody owns it."
    )
    note = "What do you make of this?"
    text = (
        f"{note}\n\n---------- Forwarded message ---------\nFrom: Dana Lee <dana@client.example>\n"
        f"Date: Mon, 2 Mar 2026 at 09:00\nSubject: renewal\nTo: Sam <sam@example.com>\n\n"
        f"{forwarded}\n"
    )
    covering = one(text, reader)
    assert 0.5 <= covering.upset < UPSET_MIN  # type: ignore[attr-defined]
    # The same words under a long note of the writer's own, calm, do not carry over.
    calm = " ".join(["The offsite is booked and lunch is at noon in the garden room."] * 6)
    assert one(text.replace(note, calm), reader).upset < 0.5  # type: ignore[attr-defined]


def test_others_told_of_in_a_long_sentence_count_less_than_the_writer(reader: Reader) -> None:
    narrative = (
        "Members of both parties on the committee were angry at the lack of dialogue with the "
        "governor's office over the summer contracts and the rates."
    )
    own = "I am angry at the lack of dialogue with your office over the contracts."
    assert one(narrative, reader).upset < 0.5 <= one(own, reader).upset  # type: ignore[attr-defined]


def test_a_bare_forward_carries_the_tone_of_what_it_forwards(reader: Reader) -> None:
    forwarded = (
        "I'm not sure we can accept this. The risk is serious, the penalty clause is a "
        "problem, and we can't sign until legal has looked at the liability. We need to fix "
        "it before Friday, but nobody owns it and I don't think the board knows."
    )
    text = (
        "\n---------- Forwarded message ---------\nFrom: Dana Lee <dana@client.example>\n"
        "Date: Mon, 2 Mar 2026 at 09:00\nSubject: renewal\nTo: Sam <sam@example.com>\n\n"
        f"{forwarded}\n"
    )
    signals = one(text, reader)
    assert 0.5 <= signals.upset < 0.7  # type: ignore[attr-defined]
    assert signals.asks == () and signals.upset_sentence == ""  # type: ignore[attr-defined]
    calm = text.replace(forwarded, "The offsite is booked; lunch is at noon in the garden room.")
    assert one(calm, reader).upset < 0.5  # type: ignore[attr-defined]


def test_the_subject_is_the_writers_words_too(reader: Reader) -> None:
    body = "Sam,\n\nCan we talk about the renewal tomorrow?\n\nDana"
    worried = one(body, reader, subject="Re: Serious problem - we can't accept the risk")
    plain = one(body, reader, subject="Re: Renewal")
    assert plain.upset < 0.5 <= worried.upset  # type: ignore[attr-defined]


def test_a_bare_quote_passes_on_its_tone_below_the_recover_line(reader: Reader) -> None:
    quoted = (
        "> You promised me a refund three weeks ago and nobody has answered my emails.\n"
        "> This is unacceptable. Can you tell me when it will be paid?\n"
    )
    signals = one(quoted, reader)
    assert 0.5 <= signals.upset < 0.7  # type: ignore[attr-defined]
    assert signals.asks == () and signals.upset_sentence == ""  # type: ignore[attr-defined]
    assert one("> The offsite is booked; lunch is at noon.\n", reader).upset < 0.5  # type: ignore[attr-defined]
