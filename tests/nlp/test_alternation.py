"""The fast alternations find exactly what the plain compiled patterns find."""

from __future__ import annotations

import random
import re

import pytest

from nurture.nlp import dates, signals, tone
from nurture.nlp.alternation import Alternation, Parts, alternatives, hits_of_each

# Sentences written for these tests, in the registers the patterns meet.
TEXTS = [
    "Could you send me the revised budget before Friday? Please don't hesitate to call.",
    "I still haven't received my order and it has been three weeks, this is the 3rd time.",
    "We'll check with legal before we sign; please note that the room has moved to 4B.",
    "Thanks again for the quick refund!! I was charged twice last month :(",
    "Let me know if you have any questions. I'll get back to you by Monday at 3pm.",
    "Why hasn't anyone replied?? This is unacceptable, I want to speak to a manager.",
    "If you want the slides, could we meet on Tuesday... or not. What do you think?",
    "Nothing has arrived, no one answers the phone, and the app keeps crashing again.",
    "The committee said the shipments never arrived; lawmakers were angry about it.",
    "ugh, argh, grrr: so fed up with this, 2 days on hold and no callback.",
    "Please see the attached notes below: find my answers inline, ignore the earlier draft.",
    "I am not happy, not at all satisfied, with the 2nd email I got from your support team.",
]


def _variants(rng: random.Random) -> list[str]:
    """The texts cut, joined and shuffled at word level, lower-cased as callers do."""
    words = " ".join(TEXTS).split()
    out = [t.lower() for t in TEXTS]
    for _ in range(300):
        start = rng.randrange(len(words))
        out.append(" ".join(words[start : start + rng.randint(1, 25)]).lower())
        sample = rng.sample(words, rng.randint(2, 20))
        out.append(" ".join(sample).lower())
    return out


PATTERNS = {
    "lexicon": tone._LEXICON_ALL,
    "concern": tone._CONCERN,
    "request": signals._REQUEST,
    "boilerplate": signals._BOILERPLATE,
    "informs": signals._INFORMS,
    "promise": signals._PROMISE,
    "not_promise": signals._NOT_PROMISE,
}


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_same_matches_as_the_plain_pattern(name: str) -> None:
    found = PATTERNS[name]
    for text in _variants(random.Random(name)):
        plain = [(m.span(), m.lastgroup, m.groupdict()) for m in found.exact.finditer(text)]
        fast = [(m.span(), m.lastgroup, m.groupdict()) for m in found.finditer(text)]
        assert fast == plain, text
        first = found.exact.search(text)
        again = found.search(text)
        assert (first and first.span()) == (again and again.span()), text


def test_several_patterns_in_one_pass_hit_the_parts_each_hits_alone() -> None:
    """Patterns of different initials (the ask rules, "yupkl", digits too) searched
    together, over parts joined as the batched signals join sentences."""
    patterns = [
        signals._REQUEST,
        signals._BOILERPLATE,
        signals._INFORMS,
        signals._PROMISE,
        signals._ASKS_READER,
        tone._LEXICON_ALL,
    ]
    rng = random.Random(5)
    texts = _variants(rng)
    for size in (1, 2, 7, 40):
        for _ in range(20):
            parts = Parts.of(rng.sample(texts, size))
            together = hits_of_each(patterns, parts)
            assert together == [pattern.hits(parts) for pattern in patterns]
            for row, pattern in zip(together, patterns, strict=True):
                alone = [pattern.search(text) is not None for text in parts.text.split("\n\x00\n")]
                assert row == alone
    assert hits_of_each(patterns, Parts.of([])) == [[] for _ in patterns]


def test_the_trie_merges_beginnings_and_multiplies_out_leading_groups() -> None:
    found = Alternation(r"\b(?:i|we) (?:will|shall)|(?:very )?poor\b|angr\w*|anger|ugh+\b")
    assert found.search("we shall see").group(0) == "we shall"  # type: ignore[union-attr]
    assert found.search("a very poor job").group(0) == "very poor"  # type: ignore[union-attr]
    assert [m.group(0) for m in found.finditer("angry anger ughhh")] == ["angry", "anger", "ughhh"]
    assert found.search("hunger") is None  # only where a word starts
    assert alternatives(r"a(?:b|c)|[|]|d\|e") == ["a(?:b|c)", "[|]", r"d\|e"]


def test_named_groups_keep_their_names() -> None:
    found = Alternation(r"(?:i|we) will (?P<verb>send|call)|(?P<other>x+)")
    match = found.search("then we will call you")
    assert match is not None and match.group("verb") == "call"
    assert re.compile(found.exact.pattern).groupindex == found.exact.groupindex


@pytest.mark.parametrize(
    "sentence",
    [
        "I'll send it by EOD Friday at 3PM.",
        "Next Tuesday morning at 10:30 a.m. works.",
        "We will have it in a couple of days.",
        "Due on March 3rd, 2026 or 3/15 at noon.",
        "Later This Week, or at the END OF MONTH.",
        "Nothing dated here, sorry.",
        "See you tmrw around 9am, or the week after.",
        "Straße closed until the 4th of July.",
    ],
)
def test_date_phrases_in_lower_case_match_the_case_blind_pattern(sentence: str) -> None:
    plain = dates.DATE_PHRASE.search(sentence)
    fast = dates.date_phrase(sentence)
    assert (plain is None) == (fast is None)
    if plain is not None and fast is not None:
        assert fast.span() == plain.span()
        lowered = {k: v.lower() if v else v for k, v in plain.groupdict().items()}
        assert fast.groupdict() == lowered
