"""Upset and complaining tone: the trained model, the complaint cues, the two lines."""

from __future__ import annotations

import pytest

from nurture.detect import UPSET_MIN
from nurture.model import Body
from nurture.nlp import UPSET_THRESHOLD, Reader, analyse, tone
from nurture.nlp.classifier import load

from .conftest import make_message


def upset_of(text: str, reader: Reader, subject: str = "Order 2231") -> float:
    [signals] = analyse([(make_message(subject=subject), Body(text=text))], reader)
    return signals.upset


# Customers complain in words of unmet expectations more than in words of emotion.
@pytest.mark.parametrize(
    "text",
    [
        "I ordered the oak desk on the 3rd and it still hasn't arrived. Nobody answers my "
        "emails and it has been three weeks.",
        "This is the third time I'm writing about my refund. I still have no answer from you.",
        "You charged my card twice for one booking and I have been waiting ten days for a "
        "refund.",
        "The heater your technician fitted stopped working after two days, and no one has "
        "called me back since Monday.",
    ],
)
def test_a_customer_who_was_let_down_earns_a_recover_nudge(text: str, reader: Reader) -> None:
    assert upset_of(text, reader) >= UPSET_MIN


@pytest.mark.parametrize(
    "text",
    [
        "I still haven't received my order.",
        "Your app keeps crashing when I open my account page.",
        "I'm not happy with the repair: the door still doesn't close.",
    ],
)
def test_a_plain_complaint_is_upset(text: str, reader: Reader) -> None:
    assert upset_of(text, reader) >= UPSET_THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "Thanks, the desk arrived this morning and looks great.",
        "Could you tell me when the new catalogue comes out?",
        "Please move my booking to Friday if that is possible.",
        "We received your invoice and will pay it this week.",
        "The delivery is planned for Tuesday between nine and noon.",
    ],
)
def test_a_customer_who_asks_or_thanks_is_not_upset(text: str, reader: Reader) -> None:
    assert upset_of(text, reader, subject="Your order") < UPSET_THRESHOLD


def test_a_reminder_is_not_a_recover_case(reader: Reader) -> None:
    text = "Hi Sam, I haven't received the agenda for Thursday yet. Could you resend it?"
    assert upset_of(text, reader, subject="Agenda") < UPSET_MIN


def test_anger_in_the_writers_own_words(reader: Reader) -> None:
    angry = "I am furious about how this was handled. It is completely unacceptable."
    assert upset_of(angry, reader) >= UPSET_MIN
    assert upset_of("Great work on the launch, everyone loved it.", reader) < 0.3


def test_negation_marks_the_words_in_its_scope() -> None:
    words = ["I", "am", "not", "happy", "with", "it", ".", "The", "rest", "is", "fine", "."]
    feats = tone.features([("I am not happy with it. The rest is fine.", words)])
    assert "w:not_happy" in feats and "w:happy" not in feats
    assert "w:fine" in feats and "w:not_fine" not in feats  # the scope ends at the full stop
    assert "lex:unhappy" in feats


def test_a_complaint_about_others_is_made_to_no_one_here() -> None:
    story = ["The committee said the shipments to the coast never arrived."]
    own = ["The shipment you promised never arrived."]
    assert tone.complaint_cues(story, [story[0].split()]) == 0
    assert tone.complaint_cues(own, [own[0].split()]) >= 1


def test_a_chaser_says_it_asked_before(reader: Reader) -> None:
    chasing = "This is my third email about the invoice and I still haven't heard back from you."
    [first] = analyse([(make_message(), Body(text=chasing))], reader)
    [plain] = analyse([(make_message(), Body(text="I haven't received the invoice."))], reader)
    assert first.chaser == 1.0
    assert plain.chaser == 0.0


def test_the_shipped_lines_are_ordered_and_mapped() -> None:
    model = load("upset")
    assert model is not None
    lines = model.meta["lines"]
    assert 0 < lines["upset"] <= lines["recover"] < 1
    assert tone.to_lines(lines["upset"], lines["upset"], lines["recover"]) == pytest.approx(0.5)
    assert tone.to_lines(lines["recover"], lines["upset"], lines["recover"]) == pytest.approx(0.7)
    grid = [i / 100 for i in range(101)]
    mapped = [tone.to_lines(p, lines["upset"], lines["recover"]) for p in grid]
    assert mapped == sorted(mapped) and mapped[0] == 0.0 and mapped[-1] == pytest.approx(1.0)
