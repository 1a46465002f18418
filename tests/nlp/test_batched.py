"""The batched signals (token arrays, keyed weights, one regex pass per message) equal the
plain sentence-by-sentence reference on varied mail written for these tests."""

from __future__ import annotations

import random
import re
from dataclasses import replace

import pytest

from nurture.model import Body, Signals
from nurture.nlp import (
    Reader,
    _array_sentences,
    _Batched,
    _token_arrays,
    analyse,
    batched,
    signals,
    tokens,
    tone,
)
from nurture.nlp.alternation import Parts

from .conftest import make_message

SENTENCES = [
    "Could you send me the revised budget before Friday?",
    "Please review the attached draft and add your comments.",
    "Let me know if you have any questions.",
    "Please see the notes below:",
    "I'll get back to you on the contract by Monday.",
    "We can expect a call from their counsel next week.",
    "I still haven't received my order and it has been three weeks.",
    "This is the third time I have written, and nobody has replied!!",
    "I am not happy with the service, not at all.",
    "Thanks so much for the quick refund, you were great :)",
    "WHY IS THIS STILL NOT FIXED???",
    "The committee said the shipments never arrived and the lawmakers were angry about the "
    "delays at the port for most of the winter season last year.",
    "Why hasn't anyone called me back?",
    "Can we move the review to 3pm tomorrow?",
    "The new forecast is on https://example.com/plan and costs $1,200.50 in total.",
    "Implement the flush() hook for the gpio driver.",
    "Don't worry, it isn't a problem and we won't be late.",
    "Would it be possible to meet on Tuesday, or should we wait for Sam?",
    "Honestly, this is a joke: you promised me a refund and never sent it.",
    "I was charged twice for the same booking.",
    "Hope you had a great weekend!",
    "Ok.",
    "Thoughts?",
    "Is the launch still on for Monday; can you confirm by noon?",
    "We’re not sure the numbers are right, but I’ll check again.",
    "Any update on my case number 4411?",
    "Note: the room moved to 4B, so please come a bit early.",
    "If you want the slides, I can send them tonight.",
    "Dana, send the revised invoice to accounts.",
    "Hi Omar - please book the large room.",
    "Thursday afternoon works for me, or we could meet at 10 am.",
    "It would be really helpful to have the headcount, and you'll need to renew your badge.",
    "I was wondering whether the workshop is still on.",
]
# Sentences with an underscore in a word: read the plain way, with the same result.
IRREGULAR = [
    "Please rename config_value before the release, could you?",
    "The not_found error is back.",
]
SUBJECTS = ["Quarterly numbers", "Re: my order", "URGENT: still broken", "", "refund?!"]


def _bodies(seed: int, count: int, extra: list[str]) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    pool = SENTENCES + extra
    out = []
    for _ in range(count):
        paragraphs = [
            " ".join(rng.choice(pool) for _ in range(rng.randint(1, 4)))
            for _ in range(rng.randint(1, 3))
        ]
        body = "\n\n".join(["Hi Alex,", *paragraphs, "Sam"])
        if rng.random() < 0.1:
            body = "\n".join("> " + line for line in paragraphs)  # a bare quote
        out.append((body, rng.choice(SUBJECTS)))
    return out


def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `analyse` read every candidate the plain way."""
    monkeypatch.setattr(_Batched, "read", classmethod(lambda cls, *a, **k: cls(None, {}, {})))


def _both(
    bodies: list[tuple[str, str]], reader: Reader, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[Signals], list[Signals]]:
    items = [(make_message(subject=subject), Body(text=body)) for body, subject in bodies]
    fast = analyse(items, reader, strict=True)
    with monkeypatch.context() as patched:
        _plain(patched)
        plain = analyse(items, reader, strict=True)
    return fast, plain


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batched_signals_equal_the_reference(
    seed: int, reader: Reader, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, plain = _both(_bodies(seed, 60, []), reader, monkeypatch)
    assert fast == plain
    assert any(s.asks for s in fast) and any(s.upset >= 0.5 for s in fast)
    assert any(s.commitments for s in fast)


def test_messages_with_underscored_words_are_read_the_plain_way(
    reader: Reader, monkeypatch: pytest.MonkeyPatch
) -> None:
    bodies = _bodies(4, 30, IRREGULAR)
    fast, plain = _both(bodies, reader, monkeypatch)
    assert fast == plain
    texts = [b for b, _ in bodies]
    arrays, strings = _token_arrays(texts, reader.model)
    words = batched.vocab()
    with words.lock:
        found = tokens.batch(words, strings, arrays, texts)
    underscored = {m for m, text in enumerate(texts) if "_" in text}
    assert underscored and found.irregular == underscored


def test_scores_match_before_rounding(reader: Reader) -> None:
    """The asks' and tone's own scores, not only the rounded signals, agree."""
    bodies = _bodies(5, 40, [])
    texts = [b for b, _ in bodies]
    subjects = [s for _, s in bodies]
    arrays, strings = _token_arrays(texts, reader.model)
    words = batched.vocab()
    with words.lock:
        found = tokens.batch(words, strings, arrays, texts, subjects)
        wanted = [s for s in range(len(found.texts)) if not found.extra[s]]
        asks = batched.read_asks(found, wanted, [False] * len(texts), words)
        tones = batched.message_tones(found, list(range(len(texts))), [0.0] * len(texts), words)
    for m, text in enumerate(texts):
        sentences = _array_sentences(arrays[m], strings, text)
        own = [s for s in found.order[m] if not found.extra[s]]
        assert [found.texts[s] for s in own] == [s.text for s in sentences]
        for s, sentence in zip(own, sentences, strict=True):
            score, waits = signals.read_ask(sentence.text, sentence.tags, sentence.words)
            assert asks[s][0] == pytest.approx(score, abs=1e-9)
            assert asks[s][1] == waits
        said = [(s.text, s.words, s.tags) for s in sentences]
        expected = tone.message_tone(said, subjects[m])
        assert tones[m].upset == pytest.approx(expected.upset, abs=1e-9)
        assert replace(tones[m], upset=0.0) == replace(expected, upset=0.0)


def test_a_fresh_vocabulary_reads_the_same(reader: Reader, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past its limit the vocabulary starts afresh, and the weight tables follow it."""
    bodies = _bodies(6, 20, [])
    items = [(make_message(subject=s), Body(text=b)) for b, s in bodies]
    before = analyse(items, reader)
    monkeypatch.setattr(tokens, "VOCAB_LIMIT", 10)
    generation = batched.vocab().generation
    after = analyse(items, reader)
    assert batched.vocab().generation > generation
    assert after == before


def test_a_batch_whose_texts_have_no_tokens(
    reader: Reader, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bare quote of nothing but '>' marks hands the model an empty text: only its
    subject is read."""
    fast, plain = _both([(">\n> >\n", "still broken")], reader, monkeypatch)
    assert fast == plain


def test_concern_densities_equal_the_reference() -> None:
    """The concern words counted over all messages joined, as message by message."""
    bodies = _bodies(7, 40, [])
    messages = [
        (body, f"{body}\n> {quoted}", subject)
        for (body, subject), (quoted, _) in zip(bodies, reversed(bodies), strict=True)
    ]
    messages += [
        ("", "> We really need to fix this, but it is a serious risk.", ""),
        ("Ok", "", ""),
    ]
    # Covering notes of just under, at and just over `tone.COVER_NOTE_WORDS` words.
    passed = "> We really need to fix this, but it is a serious risk and I am worried."
    for size in (tone.COVER_NOTE_WORDS - 1, tone.COVER_NOTE_WORDS, tone.COVER_NOTE_WORDS + 1):
        note = " ".join(["note"] * size)
        messages.append((note, f"{note}\n{passed}", ""))
    expected = [tone.message_concern(*message) for message in messages]
    assert batched.concerns(messages) == expected
    assert sum(1 for density in expected if density) >= 5


# Code review and bug reports: complaint cues in a message about code count one kind.
TECHNICAL = [
    "The example still doesn't work for me: fcntl(2) returns an error when the lock is missing.",
    "I rebased again and the build is broken.",
    "The header files are missing the new struct again.",
    "See select(2) for the details.",
]


def test_messages_about_code_are_capped_the_same_way(
    reader: Reader, monkeypatch: pytest.MonkeyPatch
) -> None:
    bodies = _bodies(6, 60, TECHNICAL)
    fast, plain = _both(bodies, reader, monkeypatch)
    assert fast == plain
    with monkeypatch.context() as uncapped:
        uncapped.setattr(tone, "TECHNICAL_CUES", 10)
        loose, loose_plain = _both(bodies, reader, uncapped)
    assert loose == loose_plain
    assert sum(s.upset >= 0.7 for s in loose) > sum(s.upset >= 0.7 for s in fast)


def test_ways_of_asking_found_in_one_pass_equal_each_searched_alone() -> None:
    """`batched._proposals` finds the pooled ways of asking of all sentences in one pass,
    time words only where a time suits; `signals.proposal_features` searches each."""
    lows = [s.lower() for s in SENTENCES] + [
        "you need to see if the room is free, and tuesday would be good for us.",
        "we could be late; you should have it by monday.",
        "i would be grateful if you'd better check whether friday at 9 am works.",
        "",
    ]
    found = batched._proposals(Parts.of(lows), lows, [False] * len(lows))
    assert found == [tuple(signals.proposal_features(low)) for low in lows]
    assert sum(1 for f in found if f) >= 5


def test_the_style_hint_finds_the_places_of_its_plain_pattern() -> None:
    """`batched._STYLE_HINT`, written to open with a character class, starts its matches
    where the plain pattern does."""
    plain = re.compile(batched.STYLE_HINT)
    pieces = [*SENTENCES, ":-) ;p :/ (: ?? ?! !! ABC AB A-B-C \U0001f620 \U0001f92d", ": ) ;-x (:"]
    rng = random.Random(9)
    texts = pieces + [" ".join(rng.sample(pieces, rng.randint(2, 6))) for _ in range(300)]
    for text in texts:
        expected = [m.start() for m in plain.finditer(text)]
        assert [m.start() for m in batched._STYLE_HINT.finditer(text)] == expected, text
    assert any(plain.search(text) for text in texts) and not all(plain.search(t) for t in texts)
