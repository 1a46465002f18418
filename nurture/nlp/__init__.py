"""NLP signals: what a message asks of the reader, what its writer promised, its tone.

The public API the rest of nurture calls:

- `header_verdict(message)`: header-only rules that mark machine-sent mail;
- `newest_text(body)`: the text the writer typed in this message, above, between and
  below quotes: attributed quotes, older mail and forwards, signatures and disclaimers
  removed. '>' lines that no attribution introduces (a forward by quoting) and a
  patch's diff stay; the signals never read them (`not_prose`);
- `analyse(items, reader)`: one `Signals` per message, header rules first, the spaCy
  pipeline (loaded lazily, run batched with `nlp.pipe`) only on candidate messages.

Scores are 0..1 and 0.5 is the decision line for each signal (`ASK_THRESHOLD`,
`PROMISE_THRESHOLD`, `UPSET_THRESHOLD`). `bench/eval.py` measures them on public
corpora; the ask classifier's own figures are in nurture/data/nlp/README.md.

Bodies are analysed in memory and never stored or logged. `analyse` never raises: a
message it cannot read gets empty signals, so one odd message cannot stop a sync.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from nurture.model import Ask, Automated, Body, Commitment, Message, Signals
from nurture.nlp import batched, dates, signals, tokens, tone
from nurture.nlp.headers import body_verdict, bulk_footer, header_verdict
from nurture.nlp.text import body_text, newest_lines, newest_text, not_prose
from nurture.threads import normalise_subject

__all__ = [
    "ANALYSER_VERSION",
    "Reader",
    "analyse",
    "ask_scores",
    "body_text",
    "header_verdict",
    "newest_text",
]

log = logging.getLogger(__name__)

# Bump when any signal changes, so cached signals are recomputed.
ANALYSER_VERSION = "nlp-16"

ASK_THRESHOLD = 0.5
UPSET_THRESHOLD = 0.5
PROMISE_THRESHOLD = 0.5
MAX_SENTENCE = 300
# The model reads at most this much of a message's newest text: the opening, where
# greetings, asks and promises sit, and the close, where "Could you ...?" often ends
# a long mail. The middle of a very long message costs memory and time for little.
MAX_MODEL_CHARS = 6_000
MODEL_TAIL_CHARS = 1_500
# Small batches keep the peak memory of long messages low (64 long mails in one batch
# took 1.6 GB); on 193 long bulk mails, batches of 4 ran faster than 16 and peaked at
# 230 MB instead of 430 MB.
BATCH_SIZE = 4


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads the mail: the user, their addresses and names, and their time zone."""

    addresses: tuple[str, ...]
    names: tuple[str, ...] = ()
    timezone: str = "UTC"
    model: str = ""


@dataclass(frozen=True, slots=True)
class _Sentence:
    text: str
    words: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


def _trim(sentence: str) -> str:
    sentence = " ".join(sentence.split())
    if len(sentence) <= MAX_SENTENCE:
        return sentence
    return sentence[: MAX_SENTENCE - 1].rstrip() + "…"


def model_text(lines: Sequence[str]) -> str:
    """Newest-text lines joined for the model: hard-wrapped lines become one paragraph.

    A line break is kept (as a blank line, which the sentence splitter honours) after
    blank lines, short lines such as greetings and sign-offs, and list items; other
    breaks are wraps of a long line and become spaces. Quoted lines ('>' and the like)
    and a patch's diff are not the writer's prose: they are left out and break the
    paragraph.
    """
    out: list[str] = []
    current = ""
    quoted = not_prose(list(lines))
    for raw, is_quoted in zip(lines, quoted, strict=True):
        line = "" if is_quoted else raw.strip()
        if not line:
            if current:
                out.append(current)
                current = ""
            continue
        if not current:
            current = line
            continue
        if (
            len(current) - current.rfind("\n") < 40
            or line[:1] in "-*•"
            or line[:2].rstrip(".").isdigit()
        ):
            out.append(current)
            current = line
        else:
            current = f"{current} {line}"
    if current:
        out.append(current)
    return clip("\n\n".join(out))


def clip(text: str) -> str:
    """`text` cut to `MAX_MODEL_CHARS`: its head and its last `MODEL_TAIL_CHARS`."""
    if len(text) <= MAX_MODEL_CHARS:
        return text
    head = text[: MAX_MODEL_CHARS - MODEL_TAIL_CHARS]
    return head + "\n\n" + text[-MODEL_TAIL_CHARS:]


_FALLBACK_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])|\n\s*\n")


def _fallback_sentences(text: str) -> list[_Sentence]:
    """Sentences without the model (it failed to load): a punctuation split."""
    return [_Sentence(part.strip()) for part in _FALLBACK_SPLIT.split(text) if part.strip()]


def _doc_sentences(doc: object, text: str) -> list[_Sentence]:
    """Sentences of a spaCy Doc made from `text` (see `_array_sentences`)."""
    rows = doc.to_array(tokens.attributes())  # type: ignore[attr-defined]
    return _array_sentences(rows, doc.vocab.strings, text)  # type: ignore[attr-defined]


def _array_sentences(rows: Any, strings: Any, text: str) -> list[_Sentence]:
    """Sentences of a Doc made from `text`, from its token attributes (`Doc.to_array` of
    `tokens.attributes()`), also split at blank lines the model ran across.

    Reads the attributes as one array rather than through a `Token` object per token:
    on 1,000 candidate mails (bench/nlp_speed.py's) that took this step from 120 to 80
    ms of CPU. The text is the one the Doc was made from (spaCy keeps every character):
    `Doc.text` would join it again from a `Token` per token (20 ms more).
    """
    if not text:
        return []
    found: list[_Sentence] = []
    words: list[str] = []
    tags: list[int] = []
    start = end = 0
    for idx, length, sent_start, space, tag, _ in rows.tolist():
        if words and (sent_start == 1 or (space and "\n" in text[idx : idx + length])):
            found.append(_Sentence(text[start:end], tuple(words), _tag_names(strings, tags)))
            words, tags = [], []
        if space:
            continue
        if not words:
            start = idx
        end = idx + length
        words.append(text[idx:end])
        tags.append(tag)
    if words:
        found.append(_Sentence(text[start:end], tuple(words), _tag_names(strings, tags)))
    return found


_TAG_NAMES: dict[int, str] = {}


def _tag_names(strings: Any, hashes: list[int]) -> tuple[str, ...]:
    """Tag names of tag hashes (a few dozen tags: each looked up in spaCy's store once)."""
    out = []
    for value in hashes:
        name = _TAG_NAMES.get(value)
        if name is None:
            name = _TAG_NAMES[value] = strings[value] if value else ""
        out.append(name)
    return tuple(out)


def _sentences(texts: list[str], model: str) -> Iterator[list[_Sentence]]:
    """Sentences of each text, in order, from one batched `nlp.pipe`.

    When spaCy fails (it cannot load, or raises part-way through a batch), the texts it
    has not yet handed back get a punctuation split: exactly one result per text, so
    the caller's pairing of texts and results never shifts.
    """
    done = 0
    try:
        from nurture.nlp import pipeline

        nlp = pipeline.load(model)
        for doc in nlp.pipe(texts, batch_size=BATCH_SIZE):
            yield _doc_sentences(doc, texts[done])
            done += 1
        return
    except Exception:
        log.warning(
            "spaCy pipeline failed after %d of %d texts; using a plain sentence split",
            done,
            len(texts),
            exc_info=True,
        )
    for text in texts[done:]:
        yield _fallback_sentences(text)


def _signals_for(
    message: Message,
    lines: list[str],
    concern: float,
    sentences: list[_Sentence],
    reader: Reader,
    subject: str,
) -> Signals:
    """A message's signals read sentence by sentence (the reference `_batched` matches)."""
    asks: list[Ask] = []
    patch = carries_patch(lines)
    for sentence in sentences:
        text = sentence.text
        # A lone word ("Thanks", "Sam") asks nothing unless it is a question ("Thoughts?").
        if len(sentence.words) > 1 or "?" in text:
            # Two layers: the classifier's score (does it request something of the
            # reader?) and the rules' filter (does it wait on the reader's answer?);
            # only asks that await a reply are kept, so only they drive nudges.
            score, waits = signals.read_ask(text, sentence.tags, sentence.words, patch=patch)
            if score >= ASK_THRESHOLD and waits:
                asks.append(Ask(_trim(text), round(score, 3)))
    found = tone.message_tone([(s.text, s.words, s.tags) for s in sentences], subject, concern)
    return _signals_of(message, lines, reader, [s.text for s in sentences], asks, found)


def _signals_of(
    message: Message,
    lines: list[str],
    reader: Reader,
    texts: list[str],
    asks: list[Ask],
    found: tone.Tone,
    promising: Sequence[bool] = (),
) -> Signals:
    """Signals from a message's asks and tone, with its promises and greeting.

    `promising`, when given, says which texts can promise (the others are not read).
    """
    commitments: list[Commitment] = []
    zone = None
    for i, text in enumerate(texts):
        if promising and not promising[i]:
            continue
        promise = signals.promise_score(text)
        if promise >= PROMISE_THRESHOLD:
            if zone is None:
                zone = dates.message_zone(message.headers.get("date", ""), reader.timezone)
            due = dates.resolve(text, message.date, zone)
            commitments.append(Commitment(_trim(text), due, round(promise, 3)))
    first_lines = [line for line in lines if line.strip()][:2]
    return Signals(
        automated=None,
        asks=tuple(asks),
        commitments=tuple(commitments),
        upset=round(found.upset, 3),
        upset_sentence=_trim(found.sentence) if found.upset >= UPSET_THRESHOLD else "",
        chaser=found.chaser,
        greets_user=signals.greets(first_lines, reader.names or _names_from(reader.addresses)),
        version=ANALYSER_VERSION,
    )


_PATCH_LINE = re.compile(
    r"^(?:diff --git |--- a/|\+\+\+ b/|@@ -\d|index [0-9a-f]{7,}\.\.|"
    r"(?:Signed-off-by|Reviewed-by|Acked-by|Tested-by|Reported-by|Co-developed-by|Fixes):\s)"
)


def carries_patch(lines: Sequence[str]) -> bool:
    """Whether a message's text carries a patch (a diff, or a commit's trailer lines)."""
    return any(_PATCH_LINE.match(line) for line in lines)


def _names_from(addresses: Sequence[str]) -> tuple[str, ...]:
    """First names guessed from addresses like alex.morgan@example.com ("alex")."""
    names = []
    for address in addresses:
        local = address.partition("@")[0]
        first = re.split(r"[._\-+]", local)[0]
        if len(first) >= 3 and first.isalpha():
            names.append(first)
    return tuple(names)


def _verdict(message: Message) -> Automated | None:
    try:
        return header_verdict(message)
    except Exception:
        log.debug("header rules failed for %s", getattr(message, "id", "?"), exc_info=True)
        return None


def analyse(
    items: Sequence[tuple[Message, Body]], reader: Reader, *, strict: bool = False
) -> list[Signals]:
    """One `Signals` per (message, body), same order.

    Never raises: a message that cannot be read gets empty signals. `strict=True`
    re-raises instead, for the evaluation runner and tests that count such failures.
    """
    results: list[Signals] = [Signals(version=ANALYSER_VERSION) for _ in items]
    read: list[tuple[int, list[str], str, str, str]] = []
    for index, (message, body) in enumerate(items):
        verdict = header_verdict(message) if strict else _verdict(message)
        if verdict is not None:
            results[index] = Signals(automated=verdict, version=ANALYSER_VERSION)
            continue
        try:
            kind = body_verdict(body)
            if kind is not None:
                results[index] = Signals(automated=kind, version=ANALYSER_VERSION)
                continue
            whole = body_text(body, strict=strict)
            lines = newest_lines(whole)
            text = model_text(lines)
            if bulk_footer(lines):
                results[index] = Signals(automated=Automated.BULK, version=ANALYSER_VERSION)
                continue
        except Exception:
            if strict:
                raise
            log.debug("text extraction failed for %s", message.id, exc_info=True)
            continue
        read.append((index, lines, text, whole, normalise_subject(message.subject or "")))
    candidates: list[tuple[int, list[str], str, float, str]] = []
    concerns = _concerns(read, strict=strict)
    for (index, lines, text, whole, subject), concern in zip(read, concerns, strict=True):
        if text.strip():
            candidates.append((index, lines, text, concern, subject))
        elif only_quoted(whole):
            # Nothing but '>' lines, with no attribution or forward header: a pasted
            # quote whose own line breaks may be lost ("> quote my reply" on one line).
            # Its tone is read below at the passed-on weight, with no asks or promises.
            candidates.append((index, [], passed_on_text(whole), concern, subject))
        elif concern:
            # A bare forward: nothing of the writer's own to read, but what it passes
            # on has a tone (no model needed: no sentence of theirs to show). Reading
            # forwarded business mail with the model as well lowered the Berkeley AUC
            # from 0.727 to 0.701: the emotion model barely ranks such mail (0.56).
            results[index] = Signals(
                upset=round(tone.concern_score(concern), 3), version=ANALYSER_VERSION
            )
    if not candidates:
        return results
    texts = [text for _, _, text, _, _ in candidates]
    arrays, strings = _token_arrays(texts, reader.model)
    fast = _Batched.read(candidates, arrays, strings, strict=strict)
    for position, (index, lines, text, concern, subject) in enumerate(candidates):
        message = items[index][0]
        try:
            if position in fast.tones:
                found = fast.signals(position, message, lines, concern, reader)
            else:
                sentences = (
                    _array_sentences(arrays[position], strings, text)
                    if position < len(arrays)
                    else _fallback_sentences(text)
                )
                if lines:
                    found = _signals_for(message, lines, concern, sentences, reader, subject)
                else:
                    found = Signals(upset=_passed_on_tone(sentences, subject, concern))
            if found.version != ANALYSER_VERSION:
                found = dataclasses.replace(found, version=ANALYSER_VERSION)
            results[index] = found
        except Exception:
            if strict:
                raise
            log.debug("signals failed for %s", message.id, exc_info=True)
    return results


def _concerns(
    read: Sequence[tuple[int, list[str], str, str, str]], *, strict: bool = False
) -> list[float]:
    """The concern density of each message (`tone.message_concern`), all in one pass;
    message by message if that fails."""
    try:
        return batched.concerns(
            [(text, clip(whole), subject) for _, _, text, whole, subject in read]
        )
    except Exception:
        if strict:
            raise
        log.warning("batched concern failed; reading message by message", exc_info=True)
        return [
            tone.message_concern(text, clip(whole), subject) for _, _, text, whole, subject in read
        ]


def _token_arrays(texts: list[str], model: str) -> tuple[list[Any], Any]:
    """The token attributes of each text (`Doc.to_array`), from one batched `nlp.pipe`,
    and spaCy's string store; each Doc is dropped once read (a Doc holds its tagger's
    vectors: 400 KB for a long mail).

    When spaCy fails (it cannot load, or raises part-way through a batch), the arrays
    stop there: the texts it has not handed back get a punctuation split.
    """
    arrays: list[Any] = []
    strings: Any = None
    try:
        from nurture.nlp import pipeline

        nlp = pipeline.load(model)
        strings = nlp.vocab.strings
        wanted = tokens.attributes()
        for doc in nlp.pipe(texts, batch_size=BATCH_SIZE):
            arrays.append(doc.to_array(wanted))
    except Exception:
        log.warning(
            "spaCy pipeline failed after %d of %d texts; using a plain sentence split",
            len(arrays),
            len(texts),
            exc_info=True,
        )
    return arrays, strings


@dataclass(frozen=True, slots=True)
class _Batched:
    """The signals of a batch of candidates read at once (`nurture.nlp.batched`); the
    candidates it leaves out (`tones` lacks them) are read sentence by sentence."""

    found: tokens.Batch | None
    asks: dict[int, tuple[float, bool]]
    tones: dict[int, tone.Tone]
    promising: frozenset[int] = frozenset()  # sentences that may promise

    @classmethod
    def read(
        cls,
        candidates: Sequence[tuple[int, list[str], str, float, str]],
        arrays: Sequence[Any],
        strings: Any,
        *,
        strict: bool = False,
    ) -> _Batched:
        done = candidates[: len(arrays)]
        if not done:
            return cls(None, {}, {})
        try:
            words = batched.vocab()
            with words.lock:
                if words.full():
                    words.restart()
                found = tokens.batch(
                    words,
                    strings,
                    arrays,
                    [text for _, _, text, _, _ in done],
                    [subject for _, _, _, _, subject in done],
                )
                regular = [m for m in range(len(done)) if m not in found.irregular]
                wanted = [
                    s
                    for m in regular
                    if done[m][1]  # a passed-on quote asks nothing
                    for s in found.order[m]
                    if not found.extra[s]
                    and (found.ends[s] - found.starts[s] > 1 or "?" in found.texts[s])
                ]
                patches = [carries_patch(lines) for _, lines, _, _, _ in done]
                own = [s for m in regular for s in found.order[m] if not found.extra[s]]
                rules = batched.rule_hits(found, own)  # `wanted` is among `own`
                asks = batched.read_asks(found, wanted, patches, words, rules)
                # A passed-on quote's own tone is read without its concern (see
                # `_passed_on_tone`).
                concerns = [concern if lines else 0.0 for _, lines, _, concern, _ in done]
                tones = batched.message_tones(found, regular, concerns, words)
                promising = batched.promising(found, own, rules)
        except Exception:
            if strict:
                raise
            log.warning("batched signals failed; reading sentence by sentence", exc_info=True)
            return cls(None, {}, {})
        return cls(found, asks, tones, promising)

    def signals(
        self, position: int, message: Message, lines: list[str], concern: float, reader: Reader
    ) -> Signals:
        found = self.found
        assert found is not None
        mood = self.tones[position]
        if not lines:
            passed = min(tone.CONCERN_CEILING, tone.PASSED_ON_WEIGHT * mood.upset)
            return Signals(upset=round(max(passed, tone.concern_score(concern)), 3))
        asks = []
        texts = []
        promising = []
        for s in found.order[position]:
            if found.extra[s]:
                continue
            text = found.texts[s]
            texts.append(text)
            promising.append(s in self.promising)
            score, waits = self.asks.get(s, (0.0, False))
            if score >= ASK_THRESHOLD and waits:
                asks.append(Ask(_trim(text), round(score, 3)))
        return _signals_of(message, lines, reader, texts, asks, mood, promising)


_QUOTE_MARK = re.compile(r"^[ \t]*(?:>[ \t]?)+")  # one or more '>' marks


def only_quoted(whole: str) -> bool:
    """Whether every line of a body with text is a '>' quote."""
    lines = [line for line in whole.splitlines() if line.strip()]
    return bool(lines) and all(_QUOTE_MARK.match(line) for line in lines)


def passed_on_text(whole: str) -> str:
    """The text a bare quote passes on, its quote marks removed, for the model."""
    return clip("\n".join(_QUOTE_MARK.sub("", line) for line in whole.splitlines()).strip())


def _passed_on_tone(sentences: list[_Sentence], subject: str, concern: float) -> float:
    """The tone a message takes from what it only quotes: the quoted text's own
    tone times `tone.PASSED_ON_WEIGHT` (others' words), never past the recover line
    (a call to an upset contact needs their own words), or its concern if higher."""
    found = tone.message_tone([(s.text, s.words, s.tags) for s in sentences], subject)
    passed = min(tone.CONCERN_CEILING, tone.PASSED_ON_WEIGHT * found.upset)
    return round(max(passed, tone.concern_score(concern)), 3)


def clear_caches() -> None:
    """Forget the per-sentence caches of the tone features, as a fresh process has them.

    The daemon reads each message once, so only sentences repeated within a message or
    across many (boilerplate) are answered from these caches; a benchmark that analyses
    the same messages again calls this between runs so it does not time the cache.
    """
    tone.clear_caches()


def ask_scores(sentences: Sequence[str], model: str = "") -> list[float]:
    """The ask score of each given sentence (the highest of its parts if the model splits it).

    The first layer alone (`signals.ask_score`: does the sentence request or propose
    something of the reader?), as the labelled corpora define an ask; used to measure it
    at sentence level. `analyse` keeps only the asks that also await a reply.
    """
    scores: list[float] = []
    for parts in _sentences([s[:MAX_MODEL_CHARS] for s in sentences], model):
        scores.append(max((signals.ask_score(p.text, p.tags, p.words) for p in parts), default=0.0))
    return scores
