"""The tokens of a batch of messages as arrays of small ids, for batched features.

The signals' classifiers read named features of each sentence ("w:please", "b:could_you",
"t:let_me_know"). Building those names as strings, token by token, cost more CPU than
the tagger on short mail. Here each distinct lower-cased token string gets a small id
once per process (`Vocab`, as spaCy's own vocabulary does), with what the features need
of it computed then (its normal form, whether it has a letter, whether it negates);
the tokens of a batch (`Batch`) are arrays of those ids, read from `Doc.to_array`; and a
feature is an integer key made of its family and the ids of its parts (`key`), looked
up in a table of the model's weights keyed the same way (`Keyed`). Features without
parts (rule flags, lengths) keep their names.

A name and a key stand for the same feature as long as no part of it has an underscore,
the character that joins parts in the names ("b:a_b" could be "a" then "b", or "a_b"
alone). `Batch.irregular` marks the messages where a normal form or a tag has one; the
callers read those the plain way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

ID_BITS = 19
# The vocabulary starts afresh past this many strings (about 30 MB), so a long-running
# daemon's memory stays bounded and ids stay below 2**ID_BITS.
VOCAB_LIMIT = 400_000
SHIFTS = (2 * ID_BITS, ID_BITS, 0)
FAMILY_SHIFT = 3 * ID_BITS


# The key family of a feature without parts, entered by its whole name's id.
NAMED = 63


def key(family: int, *parts: int) -> int:
    """The integer key of a feature: its family (1..63) and up to three part ids."""
    value = family << FAMILY_SHIFT
    for shift, part in zip(SHIFTS, parts, strict=False):
        value |= part << shift
    return value


def keys(family: int, *parts: np.ndarray) -> np.ndarray:
    """`key` of each row of part id arrays."""
    value = np.full(len(parts[0]), family << FAMILY_SHIFT, dtype=np.int64)
    for shift, part in zip(SHIFTS, parts, strict=False):
        value |= part << shift
    return value


# Per-token flags (bits of `Vocab.flags`), each a fact about a lower-cased token string.
LETTER = 1  # its normal form has a letter (or is a <url> or <num> placeholder)
BLANK = 2  # only whitespace
UNDERSCORED = 4  # its normal form has an underscore
NEGATES = 8  # tone: opens a negation scope ("not", "never")
RESETS = 16  # tone: ends a negation scope (a clause end, or no letter or digit)
OPENS_CLAUSE = 32  # asks: a clause opens after it (",", "and", "if")
YOU = 64  # asks: "you" or "u"
SECOND = 128  # tone: addresses the reader ("you", "your")
FIRST = 256  # tone: the writer ("i", "my")
VOICE = 512  # tone: the writer's or reader's voice (SECOND, FIRST, "i've", ...)
PERSONAL = 1024  # tone: any person in the conversation (VOICE, "we", "our", ...)
HANDLE = 2048  # an @handle
RAW_LETTER = 4096  # the token itself has a letter


@dataclass(frozen=True, slots=True)
class Lexicon:
    """What `Vocab` computes for each token string: its normal form (and whether it has
    a letter), and the word sets behind the flags. Given by `nurture.nlp.batched`, which
    takes them from the modules that define them."""

    norm: Callable[[str], tuple[str, bool]]
    negators: frozenset[str]
    clause_ends: frozenset[str]
    has_alnum: Callable[[str], bool]
    clause_openers: frozenset[str]
    second: frozenset[str]
    first: frozenset[str]
    voices: frozenset[str]
    personal: frozenset[str]


class Vocab:
    """Strings interned to small ids; for token strings, their normal form and flags.

    Arrays indexed by id: `norm` (the id of the normal form), `marked` (the id of
    "not_" + the normal form: a word in a negation's scope), `prefix` (the id of the
    normal form's first four letters, or -1 when it has four or fewer), `flags`.
    """

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.lock = threading.Lock()
        self.generation = 0
        self._reset()

    def _reset(self) -> None:
        self.generation += 1
        self.ids: dict[str, int] = {}
        self.strings: list[str] = []
        self.by_hash: dict[int, int] = {}
        size = 1 << 12
        self.norm = np.full(size, -1, dtype=np.int64)
        self.marked = np.full(size, -1, dtype=np.int64)
        self.prefix = np.full(size, -1, dtype=np.int64)
        self.flags = np.zeros(size, dtype=np.int64)
        self.known = np.zeros(size, dtype=bool)

    def intern(self, text: str) -> int:
        """The id of a string, given it on first sight."""
        found = self.ids.get(text)
        if found is not None:
            return found
        found = self.ids[text] = len(self.strings)
        self.strings.append(text)
        if found >= len(self.norm):
            grow = len(self.norm)
            self.norm = np.concatenate([self.norm, np.full(grow, -1, dtype=np.int64)])
            self.marked = np.concatenate([self.marked, np.full(grow, -1, dtype=np.int64)])
            self.prefix = np.concatenate([self.prefix, np.full(grow, -1, dtype=np.int64)])
            self.flags = np.concatenate([self.flags, np.zeros(grow, dtype=np.int64)])
            self.known = np.concatenate([self.known, np.zeros(grow, dtype=bool)])
        return found

    def token(self, lower: str) -> int:
        """The id of a lower-cased token string, its normal form and flags computed."""
        found = self.intern(lower)
        if self.known[found]:
            return found
        lex = self.lexicon
        norm, letter = lex.norm(lower)
        norm_id = self.intern(norm)
        self.norm[found] = norm_id
        self.marked[found] = self.intern("not_" + norm)
        self.prefix[found] = self.intern(norm[:4]) if len(norm) > 4 else -1
        quoted = lower.replace("\u2019", "'")
        flags = LETTER if letter else 0
        flags |= BLANK if not lower.strip() else 0
        flags |= UNDERSCORED if "_" in norm else 0
        flags |= NEGATES if norm in lex.negators else 0
        flags |= RESETS if norm in lex.clause_ends or not lex.has_alnum(norm) else 0
        flags |= OPENS_CLAUSE if norm in lex.clause_openers else 0
        flags |= YOU if lower in {"you", "u"} else 0
        flags |= SECOND if quoted in lex.second else 0
        flags |= FIRST if quoted in lex.first else 0
        flags |= VOICE if quoted in lex.voices else 0
        flags |= PERSONAL if quoted in lex.personal else 0
        flags |= HANDLE if lower.startswith("@") and len(lower) > 1 else 0
        flags |= RAW_LETTER if any(c.isalpha() for c in lower) else 0
        self.flags[found] = flags
        self.known[found] = True
        return found

    def full(self) -> bool:
        return len(self.strings) > VOCAB_LIMIT

    def restart(self) -> None:
        """Forget every string (the keyed weight tables rebuild on their next use)."""
        self._reset()


class Keyed:
    """A model's weights by integer key where its feature has parts, else by name.

    `families` maps a name's family ("w", "b", ...) to its key family and how many
    parts it has; a name of several parts is entered under every way of cutting it at
    underscores (for names whose parts have none, the only way); any other name is kept
    by name (`named`) and entered whole under the family `NAMED`. `keys` (sorted) and
    `index` give each key's feature, `weights` each feature's weight.
    """

    def __init__(
        self, weights: Mapping[str, float], families: Mapping[str, tuple[int, int]], vocab: Vocab
    ) -> None:
        self.generation = vocab.generation
        found: list[tuple[int, int]] = []
        values: list[float] = []
        self.named: dict[str, float] = {}
        for name, weight in weights.items():
            family, sep, rest = name.partition(":")
            spec = families.get(family) if sep else None
            if spec is None:
                self.named[name] = weight
                found.append((key(NAMED, vocab.intern(name)), len(values)))
                values.append(weight)
                continue
            code, arity = spec
            for parts in _cuts(rest, arity):
                found.append((key(code, *(vocab.intern(p) for p in parts)), len(values)))
            values.append(weight)
        found.sort()
        self.keys = np.asarray([k for k, _ in found], dtype=np.int64)
        self.index = np.asarray([i for _, i in found], dtype=np.int64)
        self.weights = np.asarray(values, dtype=np.float64)

    def named_weights(self, name: str) -> float:
        """The weight of a feature kept by name (0 when the model has none)."""
        return self.named.get(name, 0.0)

    def features_of(self, candidates: np.ndarray) -> np.ndarray:
        """The feature index of each candidate key, -1 where the model has no weight."""
        if not len(self.keys):
            return np.full(len(candidates), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.keys, candidates), len(self.keys) - 1)
        return np.where(self.keys[at] == candidates, self.index[at], -1)

    def sums(self, rows: np.ndarray, candidates: np.ndarray, size: int) -> np.ndarray:
        """Per row (0..size-1), the sum of the weights of its distinct known features."""
        feature = self.features_of(candidates)
        hit = feature >= 0
        combined = distinct(rows[hit] * len(self.weights) + feature[hit])
        return np.bincount(
            combined // len(self.weights),
            weights=self.weights[combined % len(self.weights)],
            minlength=size,
        )


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (np.unique hashes integers, ten times slower here)."""
    ordered = np.sort(values)
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


def _cuts(text: str, arity: int) -> Iterator[tuple[str, ...]]:
    """Every way to cut `text` at underscores into `arity` parts."""
    if arity == 1:
        yield (text,)
        return
    for i, char in enumerate(text):
        if char == "_":
            for rest in _cuts(text[i + 1 :], arity - 1):
                yield (text[:i], *rest)


@dataclass(frozen=True, slots=True)
class Batch:
    """The sentences of a batch of texts, their tokens as arrays (spaces dropped), and per
    sentence its text and token range.

    Sentences are split where the model starts one and at line breaks it ran across, as
    `nurture.nlp._doc_sentences` does. `message[s]` is the index of the text sentence `s`
    comes from, `extra[s]` marks the sentences given beside the model's (subjects), and
    `order[m]` lists message m's sentences in reading order (its subject first).
    """

    lower: np.ndarray  # per token: vocab id of its lower-cased text
    tag: np.ndarray  # per token: index in `TAG_NAMES`
    flags: np.ndarray  # per token: its vocab flags
    sentence: np.ndarray  # per token: its sentence
    starts: np.ndarray  # per sentence: its first token
    ends: np.ndarray  # per sentence: one past its last token
    message: np.ndarray  # per sentence: its text's index
    extra: np.ndarray  # per sentence: given beside the model's (a subject)
    texts: list[str]  # per sentence
    order: list[list[int]]  # per message: its sentences
    # Messages to read the plain way: a token's normal form or a tag has an underscore
    # (a name's parts would be ambiguous), or a token is blank.
    irregular: frozenset[int]


# Tag names by small id; 0 is no tag (a sentence given beside the model's).
_TAG_IDS: dict[int, int] = {}
TAG_NAMES: list[str] = [""]


def _tag_ids(strings: Any, hashes: np.ndarray) -> np.ndarray:
    """Small ids of tag hashes (a few dozen tags: each looked up in spaCy's store once)."""
    # A few dozen values: found in the sorted distinct ones (half the time of
    # `np.unique(..., return_inverse=True)`).
    unique = np.unique(hashes)
    inverse = np.searchsorted(unique, hashes)
    ids = []
    for value in unique.tolist():
        found = _TAG_IDS.get(value)
        if found is None:
            found = _TAG_IDS[value] = len(TAG_NAMES)
            TAG_NAMES.append(strings[value] if value else "")
        ids.append(found)
    return np.asarray(ids, dtype=np.int64)[inverse.reshape(-1)]


def _ids(vocab: Vocab, strings: Any, hashes: np.ndarray) -> np.ndarray:
    """Vocab ids of spaCy LOWER hashes, each distinct one looked up once."""
    unique, inverse = np.unique(hashes, return_inverse=True)
    ids = []
    by_hash = vocab.by_hash
    for value in unique.tolist():
        found = by_hash.get(value)
        if found is None:
            found = by_hash[value] = vocab.token(strings[value])
        ids.append(found)
    return np.asarray(ids, dtype=np.int64)[inverse.reshape(-1)]


def attributes() -> list[int | str]:
    """The token attributes a batch reads (`Doc.to_array` of these, in this order)."""
    from spacy.attrs import IDX, IS_SPACE, LENGTH, LOWER, SENT_START, TAG

    return [IDX, LENGTH, SENT_START, IS_SPACE, TAG, LOWER]


def batch(
    vocab: Vocab,
    strings: Any,
    arrays: Sequence[np.ndarray],
    texts: Sequence[str],
    subjects: Sequence[str] = (),
) -> Batch:
    """The sentences and tokens of texts, from each one's Doc's `to_array` of
    `attributes()` and spaCy's string store (spaCy keeps every character of a text, so
    `Doc.text` need not be joined again from its tokens).

    `subjects[i]`, when not blank, is one more sentence that goes first among text i's,
    read as its words split at spaces (as `nurture.nlp.tone.span_scores` reads it).
    Call with `vocab.lock` held.
    """
    sizes = np.asarray([len(a) for a in arrays], dtype=np.int64)
    rows = np.concatenate(arrays) if arrays else np.zeros((0, 6), dtype=np.uint64)
    doc_of = np.repeat(np.arange(len(arrays), dtype=np.int64), sizes)
    space = rows[:, 3] == 1
    # A sentence ends before a token the model starts one at, at a space token holding a
    # line break, and where a text ends; spaces belong to no sentence.
    breaks = rows[:, 2] == 1
    breaks[np.cumsum(sizes)[:-1][sizes[1:] > 0]] = True
    at_space = np.flatnonzero(space)
    for i, d, start, length in zip(
        at_space.tolist(),
        doc_of[at_space].tolist(),
        rows[at_space, 0].tolist(),
        rows[at_space, 1].tolist(),
        strict=True,
    ):
        if "\n" in texts[d][start : start + length]:
            breaks[i] = True
    kept = np.flatnonzero(~space)
    group = np.cumsum(breaks)[kept]
    change = np.ones(len(kept), dtype=bool)
    change[1:] = group[1:] != group[:-1]
    first = np.flatnonzero(change)
    ends = np.append(first[1:], len(kept)) if len(first) else first
    char = rows[kept, 0].astype(np.int64)
    char_end = char + rows[kept, 1].astype(np.int64)
    sent_doc = doc_of[kept[first]].tolist()
    said = [
        texts[d][a:b]
        for d, a, b in zip(sent_doc, char[first].tolist(), char_end[ends - 1].tolist(), strict=True)
    ]
    lower = _ids(vocab, strings, rows[kept, 5]) if len(kept) else np.zeros(0, np.int64)
    tag = _tag_ids(strings, rows[kept, 4]) if len(kept) else np.zeros(0, np.int64)
    starts = first.tolist()
    stops = ends.tolist()
    message = list(sent_doc)
    extra = [False] * len(said)
    order: list[list[int]] = [[] for _ in texts]
    # Subjects go after the model's sentences in the arrays, first in `order`.
    subject_lower: list[int] = []
    at = len(kept)
    for index, subject in enumerate(subjects):
        if subject.strip():
            words = subject.split()
            order[index].append(len(said))
            subject_lower += [vocab.token(w.lower()) for w in words]
            starts.append(at)
            at += len(words)
            stops.append(at)
            said.append(subject)
            message.append(index)
            extra.append(True)
    for s, d in enumerate(sent_doc):
        order[d].append(s)
    if subject_lower:
        lower = np.concatenate([lower, np.asarray(subject_lower, dtype=np.int64)])
        tag = np.concatenate([tag, np.zeros(len(subject_lower), dtype=np.int64)])
    start_arr = np.asarray(starts, dtype=np.int64)
    end_arr = np.asarray(stops, dtype=np.int64)
    sentence = np.repeat(np.arange(len(starts), dtype=np.int64), end_arr - start_arr)
    flags = vocab.flags[lower]
    message_arr = np.asarray(message, dtype=np.int64)
    odd = (flags & (UNDERSCORED | BLANK)) != 0
    odd |= np.isin(tag, [i for i, name in enumerate(TAG_NAMES) if "_" in name])
    return Batch(
        lower=lower,
        tag=tag,
        flags=flags,
        sentence=sentence,
        starts=start_arr,
        ends=end_arr,
        message=message_arr,
        extra=np.asarray(extra, dtype=bool),
        texts=said,
        order=order,
        irregular=frozenset(message_arr[sentence[np.flatnonzero(odd)]].tolist()),
    )
