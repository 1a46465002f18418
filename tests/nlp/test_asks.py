"""Sentences that inform rather than ask, and the writer's own intentions (issue 13)."""

from __future__ import annotations

import pytest

from nurture.model import Body
from nurture.nlp import Reader, _sentences, analyse, ask_scores, carries_patch, signals

from .conftest import make_message


def asks_in(text: str, reader: Reader) -> list[str]:
    [signals] = analyse([(make_message(), Body(text=text))], reader)
    return [a.sentence for a in signals.asks]


@pytest.mark.parametrize(
    "sentence",
    [
        # pointers to what follows or what is attached
        "Please see the three reports listed below:",
        "Please see my notes on the budget further down.",
        "Please find my answers inline.",
        "Please find our comments in the shared document.",
        # notices
        "Please note that the meeting room has moved to 4B.",
        "Please note - the deadline slipped by one day.",
        # forecasts
        "We can expect a call from their counsel next week.",
        "You can expect the revised figures on Monday.",
        # retractions
        "Please ignore my previous email.",
        "Please disregard the earlier version of the plan.",
        # the writer's own intentions
        "I'll ask Maria about it when I see her on Friday.",
        "I will raise it with him next time we talk.",
        "We'll check with legal before we sign.",
    ],
)
def test_sentences_that_inform_are_not_asks(sentence: str, reader: Reader) -> None:
    assert asks_in(f"Hi Alex,\n\n{sentence}\n\nSam", reader) == []


@pytest.mark.parametrize(
    "sentence",
    [
        "Please see me after the board meeting.",
        "Please see that the contract is signed today.",
        "Please note your hours in the sheet by Friday.",
        "Can we expect the figures by Monday?",
        "I'll need you to sign the form before Friday.",
        "Please find a room for twelve people on Tuesday.",
    ],
)
def test_the_same_openings_still_ask_when_they_ask(sentence: str, reader: Reader) -> None:
    assert asks_in(f"Hi Alex,\n\n{sentence}\n\nSam", reader) == [sentence]


def test_commit_message_lines_in_a_patch_describe_a_change(reader: Reader) -> None:
    commit = "Check the timeout handling in the upload client.\n\nDrop the old timeout flag."
    question = "Could you test it on your board before Friday?"
    patch = (
        f"{commit}\n\n{question}\n\nSigned-off-by: Sam Lee <sam@example.org>\n---\n"
        " src/upload.c | 12 ++++++------\n\n"
        "diff --git a/src/upload.c b/src/upload.c\n"
    )
    assert carries_patch(patch.splitlines())
    assert not carries_patch(commit.splitlines())
    assert asks_in(patch, reader) == [question]
    opening = "Check the timeout handling in the upload client."
    tags, words = ("VB", "DT", "NN"), ("Check", "the", "timeout")
    assert not signals.awaits_reply(opening, tags, words, patch=True)
    assert signals.awaits_reply(opening, tags, words)


def test_code_words_mark_a_described_change(reader: Reader) -> None:
    described = "Implement the flush() hook for the gpio driver."
    asked = "Implement the new hook, please."
    assert asks_in(f"{described}\n\n{asked}\n\nSam", reader) == [asked]
    assert not signals.awaits_reply(described, ("VB", "DT", "NN"), ("Implement", "the"))


@pytest.mark.parametrize(
    "sentence",
    [
        "Please see the three reports listed below:",
        "Please note that the meeting room has moved to 4B.",
        "Please don't hesitate to call me if anything is unclear.",
    ],
)
def test_the_classifier_scores_what_asks_the_reader_and_the_filter_drops_it(
    sentence: str, reader: Reader
) -> None:
    """Two layers: these request something of the reader as the labelled corpus counts
    asks (read the reports, note the room), but wait on no answer, so no ask is kept."""
    [score] = ask_scores([sentence])
    assert score >= 0.5
    assert not signals.awaits_reply(sentence)
    assert asks_in(f"Hi Alex,\n\n{sentence}\n\nSam", reader) == []


def _tagged(sentence: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The words and tags the pipeline gives one sentence (its parts joined)."""
    [parts] = list(_sentences([sentence], ""))
    return tuple(w for p in parts for w in p.words), tuple(t for p in parts for t in p.tags)


@pytest.mark.parametrize(
    ("sentence", "pooled"),
    [
        ("It would be really helpful to have the final headcount by Thursday.", "would_help"),
        ("A short summary of the call would be much appreciated.", "would_help"),
        ("We would be grateful for a copy of the signed lease.", "would_help"),
        ("We should sit down with the auditors before the quarter closes.", "we_propose"),
        ("We need to agree on the budget split this week.", "we_propose"),
        ("You should talk to Priya before you sign anything.", "you_should"),
        ("You'll need to renew your badge at the front desk.", "you_should"),
        ("You may want to bring the spare projector cable.", "you_should"),
        ("I was wondering whether the workshop is still on.", "wonders"),
        ("I wanted to see if the quote from the printer came through.", "wonders"),
        ("Thursday afternoon works for me.", "proposes_time"),
        ("I'm free for lunch on Wednesday.", "proposes_time"),
        ("Friday at 10 am would be best.", "proposes_time"),
        ("Dana, send the revised invoice to accounts.", "vocative_imperative"),
        ("Hi Omar, please book the large room for the offsite.", "vocative_imperative"),
    ],
)
def test_ways_of_asking_are_pooled_into_named_features(sentence: str, pooled: str) -> None:
    """One named feature for each way of asking whose wordings are many and rare (issue
    14): what the classifier learns from one wording carries to the others."""
    words, tags = _tagged(sentence)
    found = [f for f in signals.ask_features(sentence, tags, words) if f.startswith("r:")]
    assert f"r:{pooled}" in found


@pytest.mark.parametrize(
    "sentence",
    [
        "You should have received the invoice by now.",
        "We should be fine on the budget.",
        "We can expect rain on Sunday.",
        "The meeting on Tuesday was long.",
        "Dana said the invoice was sent.",
        "Dana, the invoice was sent yesterday.",
    ],
)
def test_what_the_reader_is_told_to_expect_is_no_pooled_ask(sentence: str) -> None:
    words, tags = _tagged(sentence)
    assert signals.proposal_features(sentence.lower(), tags, words) == []


@pytest.mark.parametrize(
    "sentence",
    ["I'm free for lunch on Wednesday.", "Hi Omar, please book the large room for the offsite."],
)
def test_a_proposed_time_and_a_request_after_a_name_are_asks(sentence: str, reader: Reader) -> None:
    [score] = ask_scores([sentence])
    assert score >= 0.5
    assert asks_in(f"{sentence}\n\nSam", reader) == [sentence]
