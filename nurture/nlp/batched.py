"""The signals of a batch of messages at once: asks, promises and tone from token arrays.

`nurture.nlp.signals` and `nurture.nlp.tone` define each signal sentence by sentence,
with named features built as strings: that is the reference, read by the training
scripts and by `ask_scores`, and kept plain so it can be read. This module computes the
same scores for a whole batch of messages with the per-token work in numpy
(`nurture.nlp.tokens`) and the regex families run once per message over its joined
sentences (`nurture.nlp.alternation.Parts`), leaving Python only what is said once per
sentence. tests/nlp/test_batched.py compares the two on varied text.

On 1,000 candidate-shaped mails (`bench/nlp_speed.py`) the reference took about 230 ms
of CPU for the asks and 260 ms for the tone, against some 1,700 ms for the spaCy
pipeline itself; see the README's speed table for what this path takes.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nurture.nlp import classifier, signals, tokens, tone
from nurture.nlp.alternation import Alternation, Parts, check_joinable, hits_of_each
from nurture.nlp.tokens import (
    LETTER,
    OPENS_CLAUSE,
    YOU,
    Batch,
    Keyed,
    Vocab,
    keys,
)

_lock = threading.Lock()
_vocab: Vocab | None = None
_tables: dict[str, Keyed] = {}


def vocab() -> Vocab:
    """The process's token vocabulary (made on first use)."""
    global _vocab
    with _lock:
        if _vocab is None:
            _vocab = Vocab(
                tokens.Lexicon(
                    norm=signals._norm_token,
                    negators=tone._NEGATORS,
                    clause_ends=tone._CLAUSE_END,
                    has_alnum=lambda text: tone._ALNUM.search(text) is not None,
                    clause_openers=signals._CLAUSE_OPENERS,
                    second=tone._SECOND,
                    first=tone._FIRST,
                    voices=tone._VOICES,
                    personal=tone._PERSONAL,
                )
            )
        return _vocab


# Families of the ask classifier's features that have parts: (key family, parts).
ASK_FAMILIES = {
    "w": (1, 1),
    "b": (2, 2),
    "t": (3, 3),
    "cl": (4, 1),
    "vbw": (5, 1),
    "first": (6, 1),
    "first2": (7, 2),
    "clt": (8, 1),
    "tag0": (9, 1),
    "tag01": (10, 2),
    "tag012": (11, 3),
}


def _keyed(name: str, model: classifier.LinearModel, families: dict[str, tuple[int, int]]) -> Keyed:
    """The model's weights keyed for the vocabulary (rebuilt when it started afresh)."""
    words = vocab()
    found = _tables.get(name)
    if found is None or found.generation != words.generation:
        found = _tables[name] = Keyed(model.weights, families, words)
    return found


def _tag_ids(words: Vocab) -> np.ndarray:
    """The vocabulary id of each tag name, by tag id."""
    return np.asarray([words.intern(name) for name in tokens.TAG_NAMES], dtype=np.int64)


# The rule families read over a batch's sentences (stripped, lower-cased), in one pass.
_RULES = (signals._REQUEST, signals._BOILERPLATE, signals._INFORMS, signals._PROMISE)


def rule_hits(found: Batch, wanted: Sequence[int]) -> dict[int, tuple[bool, bool, bool, bool]]:
    """Whether `signals._REQUEST`, `_BOILERPLATE`, `_INFORMS` and `_PROMISE` each match
    the wanted sentences (stripped, lower-cased), by sentence index: for `read_asks`
    and `promising`, from one pass over them joined."""
    parts = Parts.of([found.texts[s].strip().lower() for s in wanted])
    rows = hits_of_each(_RULES, parts)
    return dict(zip(wanted, zip(*rows, strict=True), strict=True))


def read_asks(
    found: Batch,
    wanted: Sequence[int],
    patches: Sequence[bool],
    words: Vocab,
    rules: dict[int, tuple[bool, bool, bool, bool]] | None = None,
) -> dict[int, tuple[float, bool]]:
    """`signals.read_ask` of each wanted sentence of a batch, by sentence index: the
    classifier's score, and whether the rules say it awaits a reply.

    `patches[m]` says whether message m carries a patch; `rules`, `rule_hits` of these
    sentences or more (read here when not given). Call with `words.lock` held.
    """
    model = classifier.load("asks")
    if model is None or not wanted:
        return {}
    keyed = _keyed("asks", model, ASK_FAMILIES)
    per = _ask_arrays(found, keyed, words)
    message = found.message.tolist()
    said = [found.texts[s].strip() for s in wanted]
    tails = [text.rstrip(" )\"'") for text in said]
    questions = [tail.endswith("?") for tail in tails]
    lows = [text.lower() for text in said]
    if rules is None:
        rules = rule_hits(found, wanted)
    hits = [rules[s] for s in wanted]
    proposals = _proposals(Parts.of(lows), lows, [per.vocative[s] for s in wanted])
    request = [hit[0] for hit in hits]
    boiler = [hit[1] for hit in hits]
    # Whether a sentence informs matters only when it is no question.
    informs = [hit[2] and not question for hit, question in zip(hits, questions, strict=True)]
    strings = words.strings
    names = tokens.TAG_NAMES
    memo: dict[tuple[Any, ...], tuple[float, bool]] = {}
    out: dict[int, tuple[float, bool]] = {}
    bias = model.bias
    threshold = min(max(model.threshold, 1e-6), 1 - 1e-6)  # as `signals._rescale` has it
    for i, s in enumerate(wanted):
        text = said[i]
        if not text or len(text) > 1000:
            out[s] = (0.0, False)
            continue
        first = strings[per.first[s]]
        imperative = False
        if first in signals._IMPERATIVE or (
            names[per.first_tag[s]] == "VB" and first not in {"thank", "be", "hope"}
        ):
            imperative = not (
                first == "let" and per.second[s] >= 0 and strings[per.second[s]] not in {"me", "us"}
            )
        question = questions[i]
        initial = lows[i][:1]
        if not initial.isascii():
            initial = "*"  # case folding beyond ASCII: try every rule
        # Whether it asks the reader (a question, "you", "please") matters only to tell
        # the writer's own intention or a described change from an ask.
        asks_reader = question
        own_intent = describes_change = False
        if not question:
            intent = initial in _OWN_INITIALS and signals._OWN_INTENT.match(text) is not None
            if intent or imperative:
                asks_reader = signals._ASKS_READER.search(lows[i]) is not None
                own_intent = intent and not asks_reader
                describes_change = (
                    imperative and not asks_reader and signals._CODE_TOKEN.search(text) is not None
                )
        mark = text.find("?")
        state = (
            question,
            request[i],
            initial in _WH_INITIALS and signals._WH_START.match(text) is not None,
            boiler[i],
            initial in _ATTACHED_INITIALS and signals._ATTACHED_ONLY.match(text) is not None,
            imperative,
            informs[i],
            own_intent,
            describes_change,
            per.modal_you[s],
            0 <= mark < len(text) - 1,
            tails[i].endswith("!"),
            per.alpha[s],
            proposals[i],
        )
        known = memo.get(state)
        if known is None:
            known = memo[state] = _small(keyed.named, *state)
        extra, waits = known
        if waits and imperative and not asks_reader and patches[message[s]]:
            waits = False  # the patch's commit message describes the change
        total = bias + per.sums[s] + extra
        if total >= 0:
            probability = 1.0 / (1.0 + math.exp(-total))
        else:
            z = math.exp(total)
            probability = z / (1.0 + z)
        if probability < threshold:
            out[s] = (0.5 * probability / threshold, waits)
        else:
            out[s] = (0.5 + 0.5 * (probability - threshold) / (1 - threshold), waits)
    return out


# The first letters a sentence (stripped, lower-cased) can open with for these rules to
# match (each starts with "^\\s*" and a word): the others need not be tried ("*": a
# letter outside ASCII, whose case folding the rules may match otherwise).
_WH_INITIALS = frozenset("whdaicsm*")
_ATTACHED_INITIALS = frozenset("pfsa*")
_OWN_INITIALS = frozenset("asotfiw*")


def _proposals(
    parts: Parts, lows: Sequence[str], vocative: Sequence[bool]
) -> list[tuple[str, ...]]:
    """`signals.proposal_features` of each lower-cased sentence (`parts` joins `lows`),
    the ways of asking found in one pass over them all, a time word looked for only
    where a time is said to suit; `vocative[i]`: sentence i opens with an imperative
    after a name."""
    check_joinable(signals._ANY_WAY.pattern)
    ways: dict[int, set[str]] = {}
    for at, names in signals.ways_by_place(parts.text):
        ways.setdefault(parts.which(at), set()).update(names)
    for i, found in ways.items():
        if "time_suits" in found and signals._TIME_WORD.search(lows[i]) is not None:
            found.add("time_word")
    out: list[tuple[str, ...]] = [()] * len(lows)
    for i in set(ways) | {i for i, called in enumerate(vocative) if called}:
        out[i] = tuple(signals.pooled_features(ways.get(i, set()), vocative[i]))
    return out


def _small(
    named: dict[str, float],
    question: bool,
    request: bool,
    wh_start: bool,
    boilerplate: bool,
    attached_only: bool,
    imperative: bool,
    informs: bool,
    own_intent: bool,
    describes_change: bool,
    modal_you: bool,
    inner_question: bool,
    exclaim: bool,
    alpha: int,
    proposals: tuple[str, ...],
) -> tuple[float, bool]:
    """The summed weights of a sentence's features that are not keyed (flags and length,
    as `signals.ask_features` names them), and whether the rules let it await a reply."""
    cues = signals._Cues(
        question=question,
        request=request,
        wh_start=wh_start,
        boilerplate=boilerplate,
        attached_only=attached_only,
        imperative=imperative,
        informs=informs,
        own_intent=own_intent,
        describes_change=describes_change,
    )
    feats = []
    if modal_you:
        feats.append("r:modal_you")
    if cues.question:
        feats.append("r:question")
    if inner_question:
        feats.append("r:inner_question")
    if exclaim:
        feats.append("r:exclaim")
    feats.extend(f"r:{flag}" for flag in signals._FLAG_FEATURES if getattr(cues, flag))
    if signals._rule_score(cues) >= 0.5:
        feats.append("r:rules_say_ask")
    feats.extend(proposals)
    n = alpha
    feats.append("len:" + ("1-3" if n <= 3 else "4-8" if n <= 8 else "9-20" if n <= 20 else "21+"))
    return sum(named.get(f, 0.0) for f in feats), not signals._vetoed(cues)


@dataclass(frozen=True, slots=True)
class _PerSentence:
    """What the ask features need of each sentence, as lists by sentence index."""

    sums: list[float]  # the keyed features' weights, summed
    alpha: list[int]  # tokens with a letter
    first: list[int]  # the first token's vocab id
    first_tag: list[int]  # its tag id
    second: list[int]  # the second token's vocab id, -1 when there is none
    modal_you: list[bool]  # a modal among the first three tags, "you" among four words
    vocative: list[bool]  # `signals._vocative_imperative`: "Mike, send ..."


def _probability(model: classifier.LinearModel, total: float) -> float:
    """`signals._rescale` of the model's probability for a sum of feature weights."""
    total += model.bias
    if total >= 0:
        probability = 1.0 / (1.0 + math.exp(-total))
    else:
        z = math.exp(total)
        probability = z / (1.0 + z)
    return signals._rescale(probability, model.threshold)


def _ask_arrays(found: Batch, keyed: Keyed, words: Vocab) -> _PerSentence:
    """Per sentence, the weights of its keyed ask features summed (each feature once),
    and the counts and first words the rest of the features need."""
    n = len(found.starts)
    sentence = found.sentence
    norm = words.norm[found.lower]
    flags = found.flags
    tag_word = _tag_ids(words)[found.tag]
    same1 = sentence[1:] == sentence[:-1]
    same2 = sentence[2:] == sentence[:-2]
    rows: list[np.ndarray] = []
    found_keys: list[np.ndarray] = []

    def add(at: np.ndarray, values: np.ndarray) -> None:
        rows.append(sentence[at])
        found_keys.append(values)

    alpha = np.flatnonzero(flags & LETTER)
    add(alpha, keys(1, norm[alpha]))
    pair = np.flatnonzero(same1)
    add(pair, keys(2, norm[pair], norm[pair + 1]))
    triple = np.flatnonzero(same2)
    add(triple, keys(3, norm[triple], norm[triple + 1], norm[triple + 2]))
    opener = np.flatnonzero(same1 & ((flags[:-1] & OPENS_CLAUSE) != 0))
    add(opener, keys(4, norm[opener + 1]))
    add(opener, keys(8, tag_word[opener + 1]))
    verbs = [i for i, name in enumerate(tokens.TAG_NAMES) if name in signals._VERB_TAGS]
    verb = np.flatnonzero(np.isin(found.tag, verbs))
    add(verb, keys(5, found.lower[verb]))
    # The first and second tokens with a letter.
    in_sentence = sentence[alpha]
    lead = np.ones(len(alpha), dtype=bool)
    lead[1:] = in_sentence[1:] != in_sentence[:-1]
    add(alpha[lead], keys(6, norm[alpha[lead]]))
    second = np.flatnonzero(lead[:-1] & ~lead[1:]) if len(alpha) > 1 else np.zeros(0, np.int64)
    add(alpha[second], keys(7, norm[alpha[second]], norm[alpha[second + 1]]))
    starts, ends = found.starts, found.ends
    size = ends - starts
    one = np.flatnonzero(size >= 1)
    rows.append(one)
    found_keys.append(keys(9, tag_word[starts[one]]))
    two = np.flatnonzero(size >= 2)
    rows.append(two)
    found_keys.append(keys(10, tag_word[starts[two]], tag_word[starts[two] + 1]))
    three = np.flatnonzero(size >= 3)
    rows.append(three)
    found_keys.append(
        keys(11, tag_word[starts[three]], tag_word[starts[three] + 1], tag_word[starts[three] + 2])
    )
    sums = keyed.sums(np.concatenate(rows), np.concatenate(found_keys), n)
    has = size > 0
    second = np.where(size > 1, found.lower[np.minimum(starts + 1, len(found.lower) - 1)], -1)
    position = np.arange(len(sentence)) - starts[sentence]
    modal = np.bincount(sentence[(position < 3) & (found.tag == _tag_id("MD"))], minlength=n) > 0
    you = np.bincount(sentence[(position < 4) & ((flags & YOU) != 0)], minlength=n) > 0
    safe = np.minimum(starts, max(0, len(found.lower) - 1))
    vocative = _vocatives(found, words, position, size)
    return _PerSentence(
        sums=sums.tolist(),
        alpha=np.bincount(sentence[alpha], minlength=n).tolist(),
        first=np.where(has, found.lower[safe] if len(found.lower) else 0, 0).tolist(),
        first_tag=np.where(has, found.tag[safe] if len(found.tag) else 0, 0).tolist(),
        second=second.tolist(),
        modal_you=(modal & you).tolist(),
        vocative=vocative.tolist(),
    )


def _vocatives(found: Batch, words: Vocab, position: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Per sentence, `signals._vocative_imperative`: the first token not tagged a name is
    the second to the fourth, a comma or a dash, and an imperative or "please" follows."""
    n = len(found.starts)
    names = [i for i, name in enumerate(tokens.TAG_NAMES) if name in signals._NAME_TAGS]
    other = np.flatnonzero(~np.isin(found.tag, names))
    at = np.full(n, 4, dtype=np.int64)
    np.minimum.at(at, found.sentence[other], np.minimum(position[other], 4))
    maybe = np.flatnonzero((at >= 1) & (at <= 3) & (at + 1 < size))
    mark = found.starts[maybe] + at[maybe]
    ids = words.ids
    marks = [ids[m] for m in signals._VOCATIVE_MARKS if m in ids]
    please = [ids[w] for w in signals._PLEASE if w in ids]
    asked = np.isin(found.lower[mark], marks) & (
        (found.tag[mark + 1] == _tag_id("VB")) | np.isin(found.lower[mark + 1], please)
    )
    out = np.zeros(n, dtype=bool)
    out[maybe[asked]] = True
    return out


def _tag_id(name: str) -> int:
    """The id of a tag name (-1 when no batch has had it yet)."""
    try:
        return tokens.TAG_NAMES.index(name)
    except ValueError:
        return -1


def concerns(messages: Sequence[tuple[str, str, str]]) -> list[float]:
    """`tone.message_concern(newest, whole, subject)` of each message, the concern words
    counted in one pass over all the texts joined."""
    heads = [
        tone._words_of(f"{subject}.\n\n{newest}" if subject else newest)
        for newest, _, subject in messages
    ]
    # A covering note (few words of its own) is also read with what it passes on.
    notes = [
        tone._words_of(whole)
        if _fewer_words(tone._words_of(newest), tone.COVER_NOTE_WORDS)
        else None
        for newest, whole, _ in messages
    ]
    passed = [note for note in notes if note is not None]
    passed_counts = iter(_counts(tone._CONCERN, passed))
    out = []
    for low, count, note in zip(heads, _counts(tone._CONCERN, heads), notes, strict=True):
        density = _density(low, count)
        if note is not None:
            density = max(density, tone.PASSED_ON_WEIGHT * _density(note, next(passed_counts)))
        out.append(density)
    return out


def _fewer_words(low: str, limit: int) -> bool:
    """Whether a lower-cased text has fewer than `limit` words (`tone._WORD`), read no
    further than needed: the words that start in the text's head are as many (the
    last one cut short) as the head, searched alone, has."""
    head = limit * 8
    if len(low) > head and len(tone._WORD.findall(low, 0, head)) >= limit:
        return False
    return len(tone._WORD.findall(low)) < limit


def _density(low: str, count: int) -> float:
    """`tone.concern_density` of a lower-cased text with `count` concern words."""
    if count < tone.CONCERN_MIN:
        return 0.0
    return count / (len(tone._WORD.findall(low)) + tone.CONCERN_OFFSET) ** 0.5


def _counts(pattern: Alternation, texts: Sequence[str]) -> list[int]:
    """`pattern.findall_count` of each text, from one pass over them joined."""
    check_joinable(pattern.pattern)
    parts = Parts.of(texts)
    counts = [0] * len(texts)
    search, exact, which, text = pattern.starts.search, pattern.exact.match, parts.which, parts.text
    pos = 0
    while (start := search(text, pos)) is not None:
        match = exact(text, start.start())
        assert match is not None  # `starts` finds where `exact` matches
        counts[which(match.start())] += 1
        pos = match.end() if match.end() > match.start() else match.start() + 1
    return counts


def promising(
    found: Batch,
    wanted: Sequence[int],
    rules: dict[int, tuple[bool, bool, bool, bool]] | None = None,
) -> frozenset[int]:
    """The wanted sentences `signals.promise_score` may score above 0 (its promise
    pattern matches); `rules`, `rule_hits` of them (read here when not given)."""
    if rules is None:
        rules = rule_hits(found, wanted)
    return frozenset(s for s in wanted if rules[s][3])


# --------------------------------------------------------------------------- tone

# Families of the upset model's features that have parts: (key family, parts).
TONE_FAMILIES = {"w": (1, 1), "p": (2, 1), "b": (3, 2)}
# The key family of a feature kept by name (`tokens.Keyed` enters every such name too).
NAMED = tokens.NAMED


def message_tones(
    found: Batch, messages: Sequence[int], concerns: Sequence[float], words: Vocab
) -> dict[int, tone.Tone]:
    """`tone.message_tone` of each listed message of a batch (its subject among its
    sentences), by message index. Call with `words.lock` held.

    The model reads each sentence with the two before it: every window's distinct
    features are counted and weighed at once, by sorting (window, feature) pairs; the
    complaint cues are read in Python for the sentences that name a complaint.
    """
    model = classifier.load("upset")
    if model is None or not messages:
        return {m: tone.tone_of([], _own_texts(found, m), concerns[m], None) for m in messages}
    keyed = _keyed("upset", model, TONE_FAMILIES)
    seq = [s for m in messages for s in found.order[m]]
    lengths = np.asarray([len(found.order[m]) for m in messages], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    size = np.repeat(lengths, lengths)  # per place in `seq`: its message's sentence count
    place = np.arange(len(seq), dtype=np.int64) - np.repeat(offsets, lengths)
    first_whole = np.minimum(size, tone.WINDOW) - 1
    read = _tone_reading(found, seq, keyed, words)
    probability = _window_probabilities(read, place, size, first_whole, keyed, model)
    # The spans' scores on the lines, as `tone.combine` makes them.
    upset_at, recover_at = tone.lines_of(model)
    score = _to_lines(probability, upset_at, recover_at)
    cues = [0] * len(seq)
    chases = [False] * len(seq)
    owner = np.repeat(np.arange(len(messages)), lengths)  # per place: its message's k
    about_code: dict[int, bool] = {}
    for j in np.flatnonzero(read.complains).tolist():
        window = range(max(j - tone.COMPLAINT_WINDOW + 1, j - int(place[j])), j + 1)
        cues[j] = tone.complaint_count(
            [read.groups[x] for x in window],
            lambda window=window: any(read.speaks[x] for x in window),  # type: ignore[misc]
        )
        if cues[j]:
            chases[j] = any(read.groups[x] & tone._ASKED_AGAIN for x in window)
            kinds = cues[j]
            # The cap changes only counts above it: `technical` (regexes over the whole
            # message) is asked only then.
            if kinds > tone.TECHNICAL_CUES:
                m = messages[int(owner[j])]
                if m not in about_code:
                    about_code[m] = tone.technical([found.texts[s] for s in found.order[m]])
                if about_code[m]:
                    kinds = tone.TECHNICAL_CUES
            level = tone.complaint_level(kinds)
            emotion = float(score[j])
            score[j] = max(emotion, level + 0.1 * (1.0 - level) * emotion)
    best = np.maximum.reduceat(score, offsets)
    at_best = np.where(score == np.repeat(best, lengths), np.arange(len(seq)), len(seq))
    first_best = np.minimum.reduceat(at_best, offsets).tolist()
    at_half = float(model.meta.get("concern_density_at_half", 0)) or tone.CONCERN_DENSITY_AT_HALF
    out: dict[int, tone.Tone] = {}
    for k, m in enumerate(messages):
        top = float(best[k])
        sentence = found.texts[seq[first_best[k]]] if top > 0.0 else ""
        top = max(top, 0.0)
        start = int(offsets[k])
        chaser = 1.0 if any(chases[start : start + int(lengths[k])]) else 0.0
        concerned = tone.concern_score(concerns[m], at_half)
        if concerned > top:
            top = concerned
            sentence = max(_own_texts(found, m), key=tone.concern_count, default="")
        out[m] = tone.Tone(upset=min(1.0, top), sentence=sentence, chaser=chaser)
    return out


def _own_texts(found: Batch, m: int) -> list[str]:
    """The texts of a message's own sentences (not its subject)."""
    return [found.texts[s] for s in found.order[m] if not found.extra[s]]


def _to_lines(probability: np.ndarray, upset_at: float, recover_at: float) -> np.ndarray:
    """`tone.to_lines` of each probability."""
    upset_at = min(max(upset_at, 1e-6), 1 - 2e-6)
    recover_at = min(max(recover_at, upset_at + 1e-6), 1 - 1e-6)
    low = 0.5 * probability / upset_at
    mid = 0.5 + 0.2 * (probability - upset_at) / (recover_at - upset_at)
    high = 0.7 + 0.3 * (probability - recover_at) / (1 - recover_at)
    return np.where(probability < upset_at, low, np.where(probability < recover_at, mid, high))


@dataclass(frozen=True, slots=True)
class _Reading:
    """What the tone reads of each sentence of `seq` (by place): its keyed features as
    (place, key) rows, and what its windows and complaint cues need."""

    rows: np.ndarray
    keys: np.ndarray
    first: np.ndarray  # vocab id of the first token as the tone reads it (negation marked)
    last: np.ndarray
    words: np.ndarray  # tokens with a letter
    group_counts: np.ndarray  # (place, lexicon group) -> matches
    groups: list[frozenset[str]]
    complains: np.ndarray  # a group of complaint or verdict (`tone.complaint_count`'s test)
    narrative: np.ndarray
    speaks: list[bool]  # as I or to you, opens on an @handle or on a past-tense verb


_LEX2 = tuple(f"lex2:{group}" for group in tone._GROUPS)
_LENGTH_NAMES = ("len:1-5", "len:6-15", "len:16-40", "len:41+")


def _weights(keyed: Keyed, candidates: np.ndarray) -> np.ndarray:
    """The model's weight of each key (0 where it has none)."""
    feature = keyed.features_of(candidates)
    return np.where(feature >= 0, keyed.weights[np.maximum(feature, 0)], 0.0)


def _window_sums(read: _Reading, place: np.ndarray, keyed: Keyed) -> tuple[np.ndarray, np.ndarray]:
    """For each sentence's window (it and the two before it in its message): how many
    distinct features its sentences and the pairs across their boundaries have, and
    their weights summed.

    By inclusion and exclusion: each sentence's distinct features counted once, less
    what two of a window's sentences share, plus what all three share. The features
    sorted by key, then sentence, show what a sentence shares with the one or two
    before it: the entries just before it of the same key.
    """
    if tone.WINDOW != 3:
        raise NotImplementedError("the batched tone counts windows of three sentences")
    n = len(place)
    order = np.lexsort((read.rows, read.keys))
    ks, ps = read.keys[order], read.rows[order]
    keep = np.ones(len(ks), dtype=bool)
    keep[1:] = (ks[1:] != ks[:-1]) | (ps[1:] != ps[:-1])  # a repeat within a sentence
    ks, ps = ks[keep], ps[keep]
    new = np.ones(len(ks), dtype=bool)
    new[1:] = ks[1:] != ks[:-1]
    run = np.cumsum(new) - 1
    unique = ks[new]
    weight = _weights(keyed, unique)[run]
    step1 = np.zeros(len(ks), dtype=np.int64)
    step1[1:] = np.where(new[1:], 0, ps[1:] - ps[:-1])
    step2 = np.zeros(len(ks), dtype=np.int64)
    step2[2:] = np.where(ks[2:] == ks[:-2], ps[2:] - ps[:-2], 0)
    within = place[ps]
    also1 = (step1 == 1) & (within >= 1)  # the sentence before has it too
    also2 = ((step1 == 2) | (step2 == 2)) & (within >= 2)  # and the one before that
    also3 = also1 & also2

    def per(mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if mask is None:
            return np.bincount(ps, minlength=n).astype(np.float64), np.bincount(
                ps, weights=weight, minlength=n
            )
        return np.bincount(ps[mask], minlength=n).astype(np.float64), np.bincount(
            ps[mask], weights=weight[mask], minlength=n
        )

    own_n, own_w = per(None)
    one_n, one_w = per(also1)
    two_n, two_w = per(also2)
    all_n, all_w = per(also3)
    has1 = place >= 1
    has2 = place >= 2
    count = own_n - one_n - two_n + all_n
    total = own_w - one_w - two_w + all_w
    count[1:] += np.where(has1[1:], own_n[:-1], 0.0)
    total[1:] += np.where(has1[1:], own_w[:-1], 0.0)
    count[2:] += np.where(has2[2:], own_n[:-2] - one_n[1:-1], 0.0)
    total[2:] += np.where(has2[2:], own_w[:-2] - one_w[1:-1], 0.0)
    # The pairs across boundaries: c[j] joins sentence j - 1 to j; window j has c[j] and
    # c[j - 1], each counted unless a sentence of the window has it, and once.
    cross = np.zeros(n, dtype=np.int64)
    cross[1:] = tokens.keys(3, read.last[:-1], read.first[1:])
    at = np.minimum(np.searchsorted(unique, cross), max(0, len(unique) - 1))
    known = (unique[at] == cross) if len(unique) else np.zeros(n, dtype=bool)
    position = run * n + ps  # sorted, as the entries are

    def inside(key_run: np.ndarray, known_run: np.ndarray, window: np.ndarray) -> np.ndarray:
        low = key_run * n + window - np.minimum(place[window], 2)
        found = np.minimum(np.searchsorted(position, low), max(0, len(position) - 1))
        return known_run & (position[found] <= key_run * n + window) & (position[found] >= low)

    windows = np.arange(n, dtype=np.int64)
    cross_weight = _weights(keyed, cross)
    first = has1 & ~inside(at, known, windows)
    before = np.zeros(n, dtype=bool)
    shifted = windows[2:]
    before[2:] = has2[2:] & ~inside(at[1:-1], known[1:-1], shifted)
    before[2:] &= ~(has1[2:] & (cross[2:] == cross[1:-1]))
    count += first.astype(np.float64) + before.astype(np.float64)
    total += np.where(first, cross_weight, 0.0)
    total[2:] += np.where(before[2:], cross_weight[1:-1], 0.0)
    return count, total


def _window_probabilities(
    read: _Reading,
    place: np.ndarray,
    size: np.ndarray,
    first_whole: np.ndarray,
    keyed: Keyed,
    model: classifier.LinearModel,
) -> np.ndarray:
    """`model.score(tone.features(window))` of each sentence's window (the sentence and
    up to `tone.WINDOW - 1` before it; 0 before a message's first whole window), with
    the long-narrative discount."""
    count, total = _window_sums(read, place, keyed)
    # Each window's lexicon counts and words, over its sentences.
    groups = read.group_counts.copy()
    words = read.words.astype(np.int64)
    for back in range(1, tone.WINDOW):
        inside = place >= back
        groups[back:][inside[back:]] += read.group_counts[:-back][inside[back:]]
        words[back:][inside[back:]] += read.words[:-back][inside[back:]]
    twice = groups >= 2
    count += twice.sum(axis=1)
    named = keyed.named_weights
    total += twice @ np.asarray([named(name) for name in _LEX2])
    bucket = np.searchsorted(np.asarray([5, 15, 40]), words, side="left")
    total += np.asarray([named(name) for name in _LENGTH_NAMES])[bucket]
    count += 1
    logit = total / np.maximum(count, 1) ** model.norm + model.bias
    # As `classifier.LinearModel.score` computes it on either side of 0.
    tail = np.exp(-np.abs(logit))
    probability = np.where(logit >= 0, 1.0 / (1.0 + tail), tail / (1.0 + tail))
    probability = np.where(place >= first_whole, probability, 0.0)
    return np.where(read.narrative, probability * tone.NARRATIVE_DISCOUNT, probability)


def _tone_reading(found: Batch, seq: Sequence[int], keyed: Keyed, words: Vocab) -> _Reading:
    """What the tone reads of each sentence of `seq` (sentence indices in reading order)."""
    sentence = found.sentence
    flags = found.flags
    lower = found.lower
    n = len(found.starts)
    place_of = np.full(n, -1, dtype=np.int64)
    place_of[np.asarray(seq, dtype=np.int64)] = np.arange(len(seq), dtype=np.int64)
    # Negation scope, as `tone._marked_tokens` reads it: a word is marked when a negator
    # stands at most NEGATION_SPAN words before it in its sentence, with no clause end
    # between (a sentence's start ends any scope, and a negator is never marked).
    position = np.arange(len(lower), dtype=np.int64)
    resets = (flags & tokens.RESETS) != 0
    negates = ((flags & tokens.NEGATES) != 0) & ~resets
    opens = np.zeros(len(lower), dtype=bool)
    opens[found.starts] = True
    last_reset = np.maximum.accumulate(np.where(resets | opens, position, -1))
    last_negator = np.maximum.accumulate(np.where(negates, position, -1))
    before = np.full(len(lower), -1, dtype=np.int64)
    before[1:] = last_negator[:-1]  # the last negator before each token
    marked = (
        ~resets
        & ~negates
        & (before >= 0)
        & (before >= last_reset)
        & (position - before <= tone.NEGATION_SPAN)
    )
    reader = np.where(marked, words.marked[lower], words.norm[lower])
    letter = marked | ((flags & tokens.LETTER) != 0)
    alpha = np.flatnonzero(letter)
    prefix = np.where(marked, words.intern("not_"), words.prefix[lower])
    long = alpha[prefix[alpha] >= 0]
    pair = np.flatnonzero(sentence[1:] == sentence[:-1])
    rows = [sentence[alpha], sentence[long], sentence[pair]]
    found_keys = [
        tokens.keys(1, reader[alpha]),
        tokens.keys(2, prefix[long]),
        tokens.keys(3, reader[pair], reader[pair + 1]),
    ]

    def per_sentence(values: np.ndarray) -> np.ndarray:
        return values[np.asarray(seq, dtype=np.int64)] if len(seq) else values[:0]

    def any_of(flag: int) -> list[bool]:
        hit = np.bincount(sentence[(flags & flag) != 0], minlength=n) > 0
        return per_sentence(hit).tolist()  # type: ignore[no-any-return]

    starts = found.starts
    second, first, voice = any_of(tokens.SECOND), any_of(tokens.FIRST), any_of(tokens.VOICE)
    personal = per_sentence(np.bincount(sentence[(flags & tokens.PERSONAL) != 0], minlength=n) > 0)
    raw = per_sentence(np.bincount(sentence[(flags & tokens.RAW_LETTER) != 0], minlength=n))
    handle = per_sentence((flags[starts] & tokens.HANDLE) != 0).tolist()
    tag_first = per_sentence(found.tag[starts]).tolist()
    counted = _lexicon_groups(found, seq)
    styled = _styled(found, seq)
    group_counts = np.zeros((len(seq), len(tone._GROUPS)), dtype=np.int64)
    # Most sentences have no lexicon group and no style: only the others are visited.
    group_sets: list[frozenset[str]] = [frozenset()] * len(seq)
    named_rows: list[int] = []
    named_keys: list[int] = []
    intern = words.intern
    named_base, first_shift = tokens.key(NAMED), tokens.SHIFTS[0]
    index = {group: i for i, group in enumerate(tone._GROUPS)}
    texts = found.texts
    for j in sorted(place_of[list(counted.keys() | styled)].tolist()):
        s = seq[j]
        counts = counted.get(s)
        names: tuple[str, ...] = ()
        if counts:
            group_set = group_sets[j] = frozenset(counts)
            for group, count in counts.items():
                group_counts[j, index[group]] = count
            names = tone.group_features(group_set, second[j], first[j])
        if s in styled:
            names = (*names, *tone._style(texts[s]))
        for name in names:
            named_rows.append(s)
            named_keys.append(named_base | (intern(name) << first_shift))
    rows.append(np.asarray(named_rows, dtype=np.int64))
    found_keys.append(np.asarray(named_keys, dtype=np.int64))
    places = place_of[np.concatenate(rows)]
    kept = places >= 0
    complaining = tone._COMPLAINT_GROUPS | tone._VERDICT_GROUPS
    names_of = tokens.TAG_NAMES
    return _Reading(
        rows=places[kept],
        keys=np.concatenate(found_keys)[kept],
        first=per_sentence(reader[starts]),
        last=per_sentence(reader[found.ends - 1]),
        words=per_sentence(np.bincount(sentence[alpha], minlength=n)),
        group_counts=group_counts,
        groups=group_sets,
        complains=np.asarray([bool(g & complaining) for g in group_sets], dtype=bool),
        narrative=(raw >= tone.NARRATIVE_WORDS) & ~personal,
        speaks=[
            h or v or names_of[t] in tone._PAST_VERB
            for h, v, t in zip(handle, voice, tag_first, strict=True)
        ],
    )


# What `tone._style` looks for, loosely, in one pattern: a sentence with none of it has no
# style features (most have none): a smiley or frown, '!', '??', three capitals.
STYLE_HINT = r"[:;]-?[)dp(/]|\(:|!|\?\?|[A-Z]{3}|[\U0001F600-\U0001F92C]"
# The same places, the pattern opening with one character class: re then skips through
# the text to such characters instead of trying the pattern at each (on the sentences of
# 1,000 mails 4 ms of CPU instead of 12).
_STYLE_HINT = re.compile(
    r"[:;(!?A-Z\U0001F600-\U0001F92C]"
    r"(?:(?<=[:;])-?[)dp(/]|(?<=\():|(?<=[!\U0001F600-\U0001F92C])|(?<=\?)\?|(?<=[A-Z])[A-Z]{2})"
)


def _styled(found: Batch, wanted: Sequence[int]) -> set[int]:
    """The wanted sentences that may have style features, one pass over them joined."""
    out: set[int] = set()
    parts = Parts.of([found.texts[s] for s in wanted])
    pos = 0
    while (hint := _STYLE_HINT.search(parts.text, pos)) is not None:
        at = parts.which(hint.start())
        out.add(wanted[at])
        if at + 1 >= len(wanted):
            break
        pos = parts.starts[at + 1]
    return out


def _lexicon_groups(found: Batch, wanted: Sequence[int]) -> dict[int, dict[str, int]]:
    """The lexicon groups and their counts of each wanted sentence that has any, by
    sentence index, from one pass over them joined."""
    out: dict[int, dict[str, int]] = {}  # only the sentences with a match
    check_joinable(tone._LEXICON_ALL.pattern)
    parts = Parts.of([tone._words_of(found.texts[s]) for s in wanted])
    groups = tone._GROUPS
    which = parts.which
    # `tone._LEXICON_ALL.matches(parts)`, its loop written out (3,700 matches in 1,000
    # mails: the generators' calls cost as much as the matching).
    search = tone._LEXICON_ALL.starts.search
    exact = tone._LEXICON_ALL.exact.match
    text = parts.text
    pos = 0
    while (start := search(text, pos)) is not None:
        match = exact(text, start.start())
        assert match is not None  # `starts` finds where `exact` matches
        name = match.lastgroup
        if name:
            group = groups[int(name[1:])]
            counts = out.setdefault(wanted[which(match.start())], {})
            counts[group] = counts.get(group, 0) + 1
        pos = match.end() if match.end() > match.start() else match.start() + 1
    return out
