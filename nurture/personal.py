"""The personal model: what this user answers, and how fast, learned from their own mail.

Pure: messages, threads and `now` in, a `Personal` out; numpy does the arithmetic. The
mailbox holds its own labels. For every inbound message from a person that reached
the user (To, Cc, or a shared inbox), did the user answer it (a message of theirs on
its branch of the thread, `threads.ancestry`; for a shared inbox, anyone's but the
sender's) within `HORIZON`, and how long after? And for every message of the user's,
did anyone answer it?

Two parts, each made of
- a logistic regression over named features of the message as it arrived (who sent
  it and to whom, the thread, the user's past replies to that sender and domain, the
  ask score, patches and attachments, the hour): `p0`, the chance it gets an answer;
- the reply times (`Timing`): the user's own, blended with those to this contact.

Together they give the "needs your reply" probability of a message still open at age
`a`: the chance the user answers it within `SOON` from now, given that they have not
yet (`Part.soon`): p0 · (F(a + SOON) − F(a)) / (1 − p0 · F(a)), F the reply times'
distribution. It is high while the message is young and its sender is one the user
answers, and falls as the message goes stale. For replies, the open-message model
(`Part.aging`) then weighs that chance against what the user's history shows about
mail still open at that age: how far to trust it, and what has happened in the thread
since (`Later`: someone else took the message up, its sender wrote again, the user
wrote in the thread without answering it). It is fitted on every day each past
message stayed open, with out-of-fold chances, so its output is calibrated on mail it
did not learn from. A reply nudge needs it at least the
part's `threshold`, and the user's usual reply time (`Part.window`) passed. Threshold
and usual time (which share of replies has gone out by then) are chosen by
time-forward validation on the user's own history (`_choose`): fitted on the older
part, judged day by day on the newer, as the daemon would have nudged; the usual time
whose nudges reach the best F1, and half that F1 as the threshold. A follow-up needs
an answer to have been expected (the follow-up part's p0 at least `FOLLOW_EXPECTED`)
and four fifths of this contact's answers to have come by now.

Features are computed as of each message's arrival, from outcomes known by then, so
nothing leaks from the future. What the model keeps (`Personal.to_json`): weights,
reply-time quantiles, and per-contact counts and reply times. Never text.

Cold start: with fewer than `MIN_ROWS` answered-or-not messages (or too few of
either), there is no model and detection uses the ask score and the tier windows.
"""

from __future__ import annotations

import bisect
import json
import math
import re
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

import numpy as np

from .contacts import Identity, normalise
from .model import UTC, Message
from .rules import Rulebook
from .threads import Thread, ancestry, is_reply_subject, replies

VERSION = 2  # 2: the open-message model (`Part.aging`)
HORIZON = timedelta(days=30)  # an answer counts when it comes within this long
SOON = timedelta(days=14)  # "needs your reply": you will answer it within this long
REFRESH = timedelta(days=1)  # the model is trained again when it is this old
MIN_ROWS = 40  # messages with a known outcome before there is a model
# A model learns as much from this many messages as from all of a large mailbox; beyond
# it an even sample of the history (by Message-ID) is read, and every message still
# counts in the per-contact figures. Keeps training on 100k messages within seconds.
MAX_ROWS = 20_000
MIN_CLASS = 8  # ... of which at least this many answered, and this many not
RIDGE = 1.0  # L2 penalty on the standardised weights (not on the intercept)
RATE_PRIOR = 2.0  # a reply rate starts as this many messages at the overall rate
TIMING_PRIOR = 5.0  # a contact's reply times count as this many of the user's overall
TAIL_PRIOR = 2.0  # ... and the user's as this many replies spread over the horizon
KEEP_TIMES = 20  # reply times kept per contact (the newest)
QUANTILES = 101  # the overall reply times are kept as this many quantiles
VALIDATE = 0.3  # the newest share of the history judges the choices
MIN_JUDGED = 20  # ... when it holds this many answered messages (else the defaults)
THRESHOLDS = (0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
WITHIN = (0.5, 0.67, 0.8)  # usual reply time: when this share of replies has gone out
DEFAULT_THRESHOLD = 0.25  # when the history is too short to choose by validation
DEFAULT_WITHIN = 0.67
FOLLOW_EXPECTED = 0.5  # a follow-up when an answer was at least this likely
FOLLOW_WITHIN = 0.8  # ... and this share of answers would have come by now
FOLDS = 5  # the open-message model learns from chances of this many arrival models
AGING_ROWS = 5_000  # ... on the days of at most this many messages (an even sample)
SHORTEST = timedelta(hours=2)  # a personal window is at least this long
LONGEST = timedelta(days=14)  # ... and at most this long

_PATCH = re.compile(r"\[(?:[^\]]*\s)?(?:PATCH|RFC)\b|^\s*(?:\[[^\]]*\]\s*)*patch\b", re.I)
_GRID = np.geomspace(0.25, 24 * 45, 120)  # hours at which a window is looked for (7% apart)
_FIRST, _LAST = 0.25, HORIZON.total_seconds() / 3600  # the broad prior's span, in hours

REPLY_FEATURES = (
    "to_user",
    "recipients",
    "new_thread",
    "thread_size",
    "sender_volume",
    "user_started",
    "user_in_thread",
    "answers_user",
    "ask",
    "rate_sender",
    "rate_domain",
    "wrote_to_sender",
    "latency_sender",
    "tier",
    "patch",
    "attachment",
    "off_hours",
    "day_off",
    "colleague",
    "shared_only",
)
# The open-message model's: the arrival model's chance that day (as a logit), the age
# (log hours), and which of `Later` had happened by then.
AGING_FEATURES = ("needs_reply", "age", "others_answered", "sender_again", "you_wrote_since")
FOLLOW_FEATURES = (
    "recipients",
    "new_thread",
    "thread_size",
    "ask",
    "answer_rate",
    "contact_volume",
    "wrote_to_contact",
    "answers_them",
    "tier",
    "patch",
    "attachment",
    "colleague",
)


# --------------------------------------------------------------------------- the thread


@dataclass(frozen=True, slots=True)
class Later:
    """What happened in a message's thread after it, in hours after it (inf: not, or not
    yet). The open-message model (`Part.aging`) reads these at each day a message stays
    open: a message someone else took up, or whose thread the user wrote in without
    answering it, is seldom answered later; one whose sender wrote again often is."""

    others_answered: float = math.inf  # someone other than the user and its sender answered it
    sender_again: float = math.inf  # its sender wrote in the thread again
    you_wrote_since: float = math.inf  # the user wrote in the thread without answering it

    def happened(self) -> tuple[float, float, float]:
        return (self.others_answered, self.sender_again, self.you_wrote_since)


NOTHING_LATER = Later()


@dataclass(frozen=True, slots=True)
class Facts:
    """What a message's thread says about it as it arrived, and what came `later`."""

    earlier: int  # messages of the thread before it
    user_started: bool
    sender_started: bool
    user_before: bool  # the user wrote in the thread before it
    parent_sender: str  # who wrote the message it answers ("" for none)
    is_reply: bool
    later: Later = NOTHING_LATER


def thread_facts(
    thread: Thread, identity: Identity, answers: Mapping[str, Sequence[Message]] | None = None
) -> dict[str, Facts]:
    """Message-ID → `Facts`, for every message of `thread`. `answers` (Message-ID → the
    messages that answer it, `threads.replies`) saves working them out again."""
    messages = thread.messages
    by_id = {m.message_id: m for m in messages}
    answers = replies(thread, ancestry(thread)) if answers is None else answers
    outbound = [identity.outbound(m) for m in messages]
    key_of = {m.message_id: normalise(m.sender.email) for m in messages}
    # the next message from the same sender, and the user's messages, by position
    sender_next: list[Message | None] = [None] * len(messages)
    seen: dict[str, Message] = {}
    for index in range(len(messages) - 1, -1, -1):
        key = key_of[messages[index].message_id]
        sender_next[index] = seen.get(key)
        seen[key] = messages[index]
    own = [i for i, out in enumerate(outbound) if out]
    found: dict[str, Facts] = {}
    for index, m in enumerate(messages):
        parent = by_id.get(m.in_reply_to) or next(
            (by_id[r] for r in reversed(m.references) if r in by_id), None
        )
        later = NOTHING_LATER
        if not outbound[index]:
            yours = [messages[i] for i in own[bisect.bisect_right(own, index) :]]
            later = _later(m, answers.get(m.message_id, ()), sender_next[index], yours, key_of)
        found[m.message_id] = Facts(
            earlier=index,
            user_started=outbound[0],
            sender_started=messages[0].sender.email == m.sender.email,
            user_before=bool(own) and own[0] < index,
            parent_sender=parent.sender.email if parent is not None else "",
            is_reply=bool(m.in_reply_to or m.references or is_reply_subject(m.subject)),
            later=later,
        )
    return found


def _later(
    m: Message,
    answered_by: Sequence[Message],
    sender_next: Message | None,
    yours: Sequence[Message],
    key_of: Mapping[str, str],
) -> Later:
    """`Later` of inbound `m`: the messages answering it, its sender's next message in
    the thread, and the user's messages after it (`key_of`: each message's sender,
    normalised)."""

    def hours(x: Message | None) -> float:
        return math.inf if x is None else max((x.date - m.date).total_seconds() / 3600, 0.0)

    mine = {x.message_id for x in yours}
    sender = key_of[m.message_id]
    took = (
        x
        for x in answered_by
        if x.message_id not in mine and key_of.get(x.message_id, sender) != sender
    )
    answering = {x.message_id for x in answered_by}
    return Later(
        others_answered=hours(next(took, None)),
        sender_again=hours(sender_next),
        you_wrote_since=hours(next((x for x in yours if x.message_id not in answering), None)),
    )


# --------------------------------------------------------------------------- counts


@dataclass(slots=True)
class Contact:
    """What the user's mail says about one contact, as of some moment."""

    inbound: int = 0  # their messages that reached the user
    seen: int = 0  # of those, with a known outcome
    replied: int = 0  # of those, answered within HORIZON
    wrote: int = 0  # the user's messages to them
    asked: int = 0  # the user's messages to them with a known outcome
    answered: int = 0  # of those, answered within HORIZON
    times: list[float] = field(default_factory=list)  # hours to the user's replies
    answer_times: list[float] = field(default_factory=list)  # hours to their answers

    def to_json(self) -> list[Any]:
        return [
            self.inbound,
            self.seen,
            self.replied,
            self.wrote,
            self.asked,
            self.answered,
            [round(t, 2) for t in self.times],
            [round(t, 2) for t in self.answer_times],
        ]

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> Contact:
        inbound, seen, replied, wrote, asked, answered = (int(x) for x in data[:6])
        return cls(inbound, seen, replied, wrote, asked, answered, list(data[6]), list(data[7]))


@dataclass(slots=True)
class Book:
    """Per-contact and per-domain counts, and the overall rates and reply times."""

    contacts: dict[str, Contact] = field(default_factory=dict)
    domains: dict[str, list[int]] = field(default_factory=dict)  # [seen, replied]
    seen: int = 0
    replied: int = 0
    asked: int = 0
    answered: int = 0
    times: list[float] = field(default_factory=list)  # every reply time, sorted

    def contact(self, address: str) -> Contact:
        found = self.contacts.get(address)
        if found is None:
            found = self.contacts[address] = Contact()
        return found

    def peek(self, address: str) -> Contact:
        return self.contacts.get(address) or _NOBODY

    @property
    def reply_rate(self) -> float:
        return (self.replied + 1) / (self.seen + 2)

    @property
    def answer_rate(self) -> float:
        return (self.answered + 1) / (self.asked + 2)

    @property
    def median_time(self) -> float:
        return self.times[len(self.times) // 2] if self.times else 24.0

    def rate(self, hits: int, seen: int, prior: float) -> float:
        return (hits + prior * RATE_PRIOR) / (seen + RATE_PRIOR)


_NOBODY = Contact()


# --------------------------------------------------------------------------- features


def _log(n: float) -> float:
    return math.log1p(max(n, 0.0))


def _local(moment: datetime, rules: Rulebook) -> tuple[bool, bool]:
    """(outside working hours, on a day off) for `moment` in the user's zone."""
    local = moment.astimezone(rules.work.zone)
    day_off = local.weekday() not in rules.work.days
    clock = local.time()
    off = day_off or not (rules.work.start <= clock < rules.work.end)
    return off, day_off


def _attachment(m: Message) -> bool:
    return m.headers.get("content-type", "").strip().lower().startswith("multipart/mixed")


@dataclass(frozen=True, slots=True)
class Reading:
    """One message as a row of the model: its features, and the sender's reply times then."""

    message: Message
    values: tuple[float, ...]
    times: tuple[float, ...]  # the contact's reply (or answer) times known then
    contact: str
    later: Later = NOTHING_LATER  # what came after it in its thread (reply readings)


def reply_reading(
    m: Message,
    facts: Facts,
    book: Book,
    identity: Identity,
    rules: Rulebook,
    ask: float | None,
    shared_only: bool,
    weight: float,
) -> Reading:
    """The reply model's features of inbound message `m` (`weight`: its sender's tier's)."""
    sender = normalise(m.sender.email)
    who = book.peek(sender)
    domain = m.sender.domain
    seen, hits = book.domains.get(domain, (0, 0))
    off, day_off = _local(m.date, rules)
    to_user = any(identity.is_user(a) or identity.is_shared(a) for a in m.to)
    latency = _median(who.times) if who.times else book.median_time
    values = (
        float(to_user),
        _log(len({a.email for a in m.recipients})),
        float(not facts.is_reply),
        _log(facts.earlier),
        _log(who.inbound),
        float(facts.user_started),
        float(facts.user_before),
        float(bool(facts.parent_sender) and identity.is_user(facts.parent_sender)),
        math.nan if ask is None else ask,
        book.rate(who.replied, who.seen, book.reply_rate),
        book.rate(hits, seen, book.reply_rate),
        _log(who.wrote),
        _log(latency),
        math.log(max(weight, 1e-3)),
        float(bool(_PATCH.search(m.subject))),
        float(_attachment(m)),
        float(off),
        float(day_off),
        float(domain in identity.domains),
        float(shared_only),
    )
    return Reading(m, values, tuple(who.times), sender, facts.later)


def follow_reading(
    m: Message,
    contact: str,
    facts: Facts,
    book: Book,
    identity: Identity,
    rules: Rulebook,
    ask: float | None,
    weight: float,
) -> Reading:
    """The follow-up model's features of the user's message `m` to `contact`."""
    who = book.peek(contact)
    others = identity.others(m.recipients)
    values = (
        _log(len({a.email for a in others})),
        float(not facts.is_reply),
        _log(facts.earlier),
        math.nan if ask is None else ask,
        book.rate(who.answered, who.asked, book.answer_rate),
        _log(who.inbound),
        _log(who.wrote),
        float(normalise(facts.parent_sender) == contact),
        math.log(max(weight, 1e-3)),
        float(bool(_PATCH.search(m.subject))),
        float(_attachment(m)),
        float(contact.rpartition("@")[2] in identity.domains),
    )
    return Reading(m, values, tuple(who.answer_times), contact)


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


# --------------------------------------------------------------------------- history


@dataclass(frozen=True, slots=True)
class Row:
    """A reading with its outcome: answered within HORIZON, and after how many hours."""

    reading: Reading
    answered: bool
    hours: float  # inf when not answered within HORIZON


@dataclass(slots=True)
class History:
    """The rows of both models over a mailbox, and the counts as of its end."""

    reply: list[Row]
    follow: list[Row]
    book: Book


def history(
    messages: Sequence[Message],
    threads: Sequence[Thread],
    identity: Identity,
    rules: Rulebook,
    now: datetime,
    *,
    usable: Callable[[Message], bool],
    ask_of: Callable[[Message], float | None],
    answers: Mapping[str, Sequence[Message]] | None = None,
) -> History:
    """Walk the mail oldest first, reading each message with the counts known then.

    `usable(m)` says whether an inbound message counts (a person's, not ignored);
    `ask_of(m)` gives its ask score, None when the NLP never read it. Rows are made
    only for messages whose outcome is known by `now` (older than `HORIZON`, or
    answered); the counts take in an outcome once it is known. `answers` (Message-ID
    → the messages that answer it, `threads.replies`) saves working the threads out
    again when the caller has them.
    """
    facts: dict[str, Facts] = {}
    answer_at: dict[str, float] = {}  # Message-ID → hours to its answer (reply rows)
    reply_at: dict[str, float] = {}  # the user's message → hours to someone's answer
    weights: dict[str, float] = {}

    def weight(address: str) -> float:
        if address not in weights:
            weights[address] = rules.match_contact(address)[0].weight
        return weights[address]

    for thread in threads:
        found = replies(thread, ancestry(thread)) if answers is None else answers
        facts.update(thread_facts(thread, identity, found))
        for m in thread.messages:
            later = found.get(m.message_id)
            if later:
                _outcomes(m, later, identity, answer_at, reply_at)
    book = Book()
    pending: deque[tuple[datetime, Callable[[], None]]] = deque()
    reply_rows: list[Row] = []
    follow_rows: list[Row] = []
    ordered = sorted(
        (m for m in messages if m.message_id in facts), key=lambda m: (m.date, m.message_id)
    )
    outbound = sum(1 for m in ordered if identity.outbound(m))
    share_out = min(1.0, MAX_ROWS / max(outbound, 1))
    share_in = min(1.0, MAX_ROWS / max(len(ordered) - outbound, 1))
    limit = HORIZON.total_seconds() / 3600
    for m in (m for m in ordered if m.date <= now):
        while pending and pending[0][0] <= m.date:
            pending.popleft()[1]()
        if identity.outbound(m):
            others = identity.others(m.recipients)
            for a in others:
                book.contact(normalise(a.email)).wrote += 1
            main = identity.others(m.to) or others
            if not main:
                continue
            contact = normalise(main[0].email)
            hours = reply_at.get(m.message_id, math.inf)
            answered = hours <= limit
            pending.append((m.date + HORIZON, _follow_outcome(book, contact, answered, hours)))
            if not _sampled(m, share_out):
                continue
            reading = follow_reading(
                m, contact, facts[m.message_id], book, identity, rules, ask_of(m), weight(contact)
            )
            if m.date + HORIZON <= now or answered:
                follow_rows.append(Row(reading, answered, hours if answered else math.inf))
            continue
        if not usable(m):
            continue
        named = identity.named(m)
        if not named and not identity.shared_inbox(m):
            continue
        hours = answer_at.get(m.message_id, math.inf)
        answered = hours <= limit
        sender = normalise(m.sender.email)
        if _sampled(m, share_in):
            reading = reply_reading(
                m,
                facts[m.message_id],
                book,
                identity,
                rules,
                ask_of(m),
                not named,
                weight(m.sender.email),
            )
            if m.date + HORIZON <= now or answered:
                reply_rows.append(Row(reading, answered, hours if answered else math.inf))
        book.contact(sender).inbound += 1
        pending.append(
            (m.date + HORIZON, _reply_outcome(book, sender, m.sender.domain, answered, hours))
        )
    while pending and pending[0][0] <= now:
        pending.popleft()[1]()
    return History(reply_rows, follow_rows, book)


def _sampled(m: Message, share: float) -> bool:
    """Whether `m` is in the even sample of `share` (by its Message-ID, so stable)."""
    return share >= 1.0 or zlib.crc32(m.message_id.encode()) < share * 2**32


def _outcomes(
    m: Message,
    later: Sequence[Message],
    identity: Identity,
    answer_at: dict[str, float],
    reply_at: dict[str, float],
) -> None:
    """Record when `m` was first answered: by the user (or, through a shared inbox, by
    anyone but its sender) for inbound mail; by anyone else for the user's own."""
    if identity.outbound(m):
        first = next((x for x in later if not identity.outbound(x)), None)
        if first is not None:
            reply_at[m.message_id] = (first.date - m.date).total_seconds() / 3600
        return
    team = not identity.named(m) and bool(identity.shared_inbox(m))
    first = next(
        (x for x in later if identity.outbound(x) or (team and x.sender.email != m.sender.email)),
        None,
    )
    if first is not None:
        answer_at[m.message_id] = (first.date - m.date).total_seconds() / 3600


def _reply_outcome(
    book: Book, sender: str, domain: str, answered: bool, hours: float
) -> Callable[[], None]:
    def known() -> None:
        who = book.contact(sender)
        who.seen += 1
        book.seen += 1
        counts = book.domains.setdefault(domain, [0, 0])
        counts[0] += 1
        if answered:
            who.replied += 1
            book.replied += 1
            counts[1] += 1
            who.times.append(hours)
            del who.times[:-KEEP_TIMES]
            bisect.insort(book.times, hours)

    return known


def _follow_outcome(book: Book, contact: str, answered: bool, hours: float) -> Callable[[], None]:
    def known() -> None:
        who = book.contact(contact)
        who.asked += 1
        book.asked += 1
        if answered:
            who.answered += 1
            book.answered += 1
            who.answer_times.append(hours)
            del who.answer_times[:-KEEP_TIMES]

    return known


# --------------------------------------------------------------------------- fitting


@dataclass(frozen=True, slots=True)
class Fitted:
    """A logistic regression over named, standardised features (intercept first)."""

    names: tuple[str, ...]
    weights: tuple[float, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]

    def z(self, values: Sequence[float] | Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
        x = np.asarray(values, dtype=float)
        x = np.where(np.isnan(x), np.asarray(self.means), x)
        return (x - np.asarray(self.means)) / np.asarray(self.scales)

    def probability(self, values: Sequence[float]) -> float:
        w = np.asarray(self.weights)
        logit = float(w[0] + self.z(values) @ w[1:])
        return 1 / (1 + math.exp(-max(min(logit, 30.0), -30.0)))

    def probabilities(self, rows: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
        """`probability` of many rows at once."""
        w = np.asarray(self.weights)
        logits = w[0] + self.z(rows) @ w[1:]
        return 1 / (1 + np.exp(-np.clip(logits, -30, 30)))

    def contributions(self, values: Sequence[float]) -> dict[str, float]:
        """How much each feature moved the logit from the average message's."""
        parts = self.z(values) * np.asarray(self.weights[1:])
        return dict(zip(self.names, (float(p) for p in parts), strict=True))


def fit(rows: Sequence[Row], names: Sequence[str], ridge: float = RIDGE) -> Fitted:
    """The logistic regression (`fit_arrays`) of `rows`' features on whether they were answered."""
    x = np.array([r.reading.values for r in rows], dtype=float)
    y = np.array([1.0 if r.answered else 0.0 for r in rows])
    return fit_arrays(x, y, names, ridge)


def fit_arrays(x: np.ndarray, y: np.ndarray, names: Sequence[str], ridge: float = RIDGE) -> Fitted:
    """Ridge logistic regression by Newton's method on standardised features.

    A feature missing in a row (NaN: the NLP never read that message) takes the mean
    of the rows that have it, so it moves nothing there.
    """
    means = np.nanmean(np.where(np.isnan(x).all(axis=0), 0.0, x), axis=0)
    means = np.where(np.isnan(means), 0.0, means)
    x = np.where(np.isnan(x), means, x)
    scales = x.std(axis=0)
    scales = np.where(scales > 1e-9, scales, 1.0)
    z = np.hstack([np.ones((len(x), 1)), (x - means) / scales])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], ridge)
    penalty[0] = 0.0
    for _ in range(25):
        p = 1 / (1 + np.exp(-np.clip(z @ w, -30, 30)))
        grad = z.T @ (p - y) + penalty * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-7:
            break
    return Fitted(
        tuple(names),
        tuple(float(v) for v in w),
        tuple(float(v) for v in means),
        tuple(float(v) for v in scales),
    )


# --------------------------------------------------------------------------- timing


@dataclass(frozen=True, slots=True)
class Timing:
    """Reply times in hours: the overall distribution as quantiles (`count` replies),
    blended with a contact's own times (each of theirs counts once, the overall
    `TIMING_PRIOR` times) and with a broad prior over the whole horizon (`TAIL_PRIOR`
    replies' worth), so that no reply time ever seems impossible: a message open long
    after every past reply went out is unlikely, not certain, to stay unanswered."""

    quantiles: tuple[float, ...]
    count: int = 0

    @classmethod
    def of(cls, hours: Iterable[float]) -> Timing:
        values = np.sort(np.asarray([h for h in hours if math.isfinite(h)], dtype=float))
        if not len(values):
            return cls(())
        points = np.quantile(values, np.linspace(0, 1, QUANTILES))
        return cls(tuple(round(float(v), 3) for v in points), len(values))

    def cdf(self, hours: np.ndarray, own: Sequence[float] = ()) -> np.ndarray:
        """The share of replies sent within `hours` (an array) of a message."""
        hours = np.asarray(hours, dtype=float)
        broad = np.clip(np.log(np.maximum(hours, 1e-9) / _FIRST) / np.log(_LAST / _FIRST), 0, 1)
        if self.quantiles:
            q = np.asarray(self.quantiles)
            seen = np.interp(hours, q, np.linspace(0, 1, len(q)), left=0.0, right=1.0)
            weight = max(self.count, 1)
            overall = (weight * seen + TAIL_PRIOR * broad) / (weight + TAIL_PRIOR)
        else:
            overall = broad
        if not own:
            return overall
        mine = np.searchsorted(np.sort(np.asarray(own)), hours, side="right") / len(own)
        return (len(own) * mine + TIMING_PRIOR * overall) / (len(own) + TIMING_PRIOR)

    def within(self, share: float, own: Sequence[float] = ()) -> float:
        """The hours by which `share` of replies have gone out (the usual reply time)."""
        found = self.cdf(_GRID, own)
        index = int(np.searchsorted(found, share, side="left"))
        return float(_GRID[min(index, len(_GRID) - 1)])

    def cdf_rows(self, hours: np.ndarray, owns: Sequence[Sequence[float]]) -> np.ndarray:
        """`cdf` for many messages at once: row i of `hours` with contact times `owns[i]`."""
        found = self.cdf(hours)
        width = max((len(o) for o in owns), default=0)
        if not width:
            return found
        times = np.full((len(owns), width), np.inf)
        for i, own in enumerate(owns):
            times[i, : len(own)] = own
        counts = np.array([len(o) for o in owns], dtype=float)
        for start in range(0, len(owns), 1000):  # in slices: rows × times × points booleans
            part = slice(start, start + 1000)
            within = (times[part, :, None] <= hours[part, None, :]).sum(axis=1)
            n = counts[part, None]
            mine = np.divide(within, n, out=np.zeros_like(found[part]), where=n > 0)
            found[part] = (n * mine + TIMING_PRIOR * found[part]) / np.where(
                n > 0, n + TIMING_PRIOR, TIMING_PRIOR
            )
        return found


def soon(p0: float | np.ndarray, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """P(answered within SOON from now | not yet), from p0 and F(now), F(now + SOON)."""
    p = np.asarray(p0, dtype=float)
    return p * (after - before) / np.maximum(1 - p * before, 1e-9)


# --------------------------------------------------------------------------- open messages


def aging_values(chance: np.ndarray, ages: np.ndarray, later: np.ndarray) -> np.ndarray:
    """The open-message model's features (`AGING_FEATURES`) of n messages at k ages:
    `chance` and `ages` (hours) shaped (n, k), `later` (n, 3) the hours of `Later`."""
    p = np.clip(chance, 1e-6, 1 - 1e-6)
    happened = (later[:, None, :] <= ages[:, :, None]).astype(float)
    return np.concatenate(
        [np.log(p / (1 - p))[..., None], np.log(np.maximum(ages, 1.0))[..., None], happened],
        axis=2,
    )


_NO_HOURS = np.zeros(0)


def _chances(
    fitted: Fitted,
    timing: Timing,
    aging: Fitted | None,
    readings: Sequence[Reading],
    ages: np.ndarray,
    extra: np.ndarray = _NO_HOURS,
) -> tuple[np.ndarray, np.ndarray]:
    """For each reading, open at each of its `ages` (hours, shaped (n, k)): the chance it
    is answered within SOON from then (see the module docstring); and the share of
    replies sent within each of the hours `extra`, shaped (n, len(extra))."""
    n, k = ages.shape
    soon_h = SOON.total_seconds() / 3600
    points = np.hstack([ages, ages + soon_h, np.broadcast_to(extra, (n, len(extra)))])
    found = timing.cdf_rows(points, [r.times for r in readings])
    p0 = fitted.probabilities([r.values for r in readings])
    chance = soon(p0[:, None], found[:, :k], found[:, k : 2 * k])
    if aging is not None:
        later = np.array([r.later.happened() for r in readings], dtype=float).reshape(n, 3)
        features = aging_values(chance, ages, later).reshape(n * k, len(AGING_FEATURES))
        chance = aging.probabilities(features).reshape(n, k)
    return chance, found[:, 2 * k :]


def _daily(rows: Sequence[Row], zone: Any, forget: timedelta) -> tuple[np.ndarray, ...]:
    """`rows` as the daemon sees them, once a day at midnight in the user's zone from
    arrival until `forget`: each day's age (hours), whether the message is still open
    then, and whether it is answered within `SOON` of that day (all shaped (n, days))."""
    days = int(forget / timedelta(days=1)) + 1
    hours = np.array([r.hours for r in rows])
    first = np.array([_to_midnight(r.reading.message.date, zone) for r in rows])
    ages = first[:, None] + 24 * np.arange(days)[None, :]
    open_ = hours[:, None] > ages
    positive = open_ & (hours[:, None] <= ages + SOON.total_seconds() / 3600)
    return ages, open_, positive


def _fit_aging(
    rows: Sequence[Row], names: Sequence[str], zone: Any, forget: timedelta
) -> Fitted | None:
    """The open-message model, fitted on `rows` whose outcome is fully known: a logistic
    regression, over every day each message stayed open, of "answered within SOON" on
    the chance the arrival model and reply times give that day, the message's age and
    what has happened in its thread since (`Later`).

    The chances it learns from are out of fold (`FOLDS` arrival models, each fitted
    without the rows it judges), so it learns how far to trust them on unseen mail.
    Five weights learn as much from `AGING_ROWS` messages' days as from all of them,
    so beyond that an even sample of the rows is judged (every row still fits the
    arrival models). None when the rows are too few.
    """
    if len(rows) < FOLDS * MIN_ROWS:
        return None
    fold = np.arange(len(rows)) % FOLDS
    judged = np.unique(np.linspace(0, len(rows) - 1, min(len(rows), AGING_ROWS)).astype(int))
    sample = [rows[int(i)] for i in judged]
    ages, open_, positive = _daily(sample, zone, forget)
    chance = np.zeros(ages.shape)
    for k in range(FOLDS):
        kept = [r for r, f in zip(rows, fold, strict=True) if f != k]
        if not _enough(kept):
            return None
        held = np.flatnonzero(fold[judged] == k)
        chance[held], _ = _chances(
            fit(kept, names),
            Timing.of(r.hours for r in kept if r.answered),
            None,
            [sample[int(i)].reading for i in held],
            ages[held],
        )
    later = np.array([r.reading.later.happened() for r in sample], dtype=float)
    x, y = aging_values(chance, ages, later)[open_], positive[open_]
    if y.sum() < MIN_CLASS or (~y).sum() < MIN_CLASS:
        return None
    return fit_arrays(x, y.astype(float), AGING_FEATURES)


# --------------------------------------------------------------------------- a model


@dataclass(frozen=True, slots=True)
class Part:
    """One fitted model (replies, or follow-ups) with its timing and chosen lines, and
    for replies the open-message model (`_fit_aging`) that judges a message each day
    it stays open."""

    fitted: Fitted
    timing: Timing
    threshold: float
    share: float  # the usual reply time is when this share of replies has gone out
    rows: int
    positives: int
    checked: Mapping[str, float] = field(default_factory=dict)  # validation figures
    aging: Fitted | None = None

    def p0(self, reading: Reading) -> float:
        return self.fitted.probability(reading.values)

    def window(self, reading: Reading) -> timedelta:
        """The usual time to an answer, for this contact, within SHORTEST..LONGEST."""
        _, hours = self.assess([reading], np.zeros(1))
        return timedelta(hours=float(hours[0]))

    def soon(self, reading: Reading, age: timedelta) -> float:
        """P(answered within SOON | not answered at `age`)."""
        found, _ = self.assess([reading], np.array([age.total_seconds() / 3600]))
        return float(found[0])

    def assess(
        self, readings: Sequence[Reading], ages: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """For messages still open at `ages` (hours): the probability that each is
        answered within SOON from now, and its usual time to an answer (hours, within
        SHORTEST..LONGEST). One pass of array arithmetic for all of them."""
        if not readings:
            return np.zeros(0), np.zeros(0)
        chance, grid = _chances(
            self.fitted, self.timing, self.aging, readings, ages[:, None], _GRID
        )
        return chance[:, 0], _usual(grid, self.share)

    def to_json(self) -> dict[str, Any]:
        return {
            **_fitted_json(self.fitted),
            "timing": list(self.timing.quantiles),
            "timed": self.timing.count,
            "threshold": self.threshold,
            "share": self.share,
            "rows": self.rows,
            "positives": self.positives,
            "checked": dict(self.checked),
            "aging": _fitted_json(self.aging) if self.aging else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Part:
        aging = data.get("aging")
        return cls(
            _fitted_from(data),
            Timing(tuple(data["timing"]), int(data.get("timed", 0))),
            float(data["threshold"]),
            float(data["share"]),
            int(data["rows"]),
            int(data["positives"]),
            dict(data.get("checked", {})),
            _fitted_from(aging) if aging else None,
        )


def _usual(grid: np.ndarray, share: float) -> np.ndarray:
    """The usual time to an answer (hours, within SHORTEST..LONGEST): the first of
    `_GRID`'s hours by which `share` of replies have gone out (`grid`: the share sent by
    each, one row per message)."""
    usual = _GRID[np.minimum((grid < share).sum(axis=1), len(_GRID) - 1)]
    return np.clip(usual, SHORTEST.total_seconds() / 3600, LONGEST.total_seconds() / 3600)


def _fitted_json(fitted: Fitted) -> dict[str, Any]:
    return {
        "names": list(fitted.names),
        "weights": [round(w, 6) for w in fitted.weights],
        "means": [round(v, 6) for v in fitted.means],
        "scales": [round(v, 6) for v in fitted.scales],
    }


def _fitted_from(data: Mapping[str, Any]) -> Fitted:
    return Fitted(
        tuple(data["names"]), tuple(data["weights"]), tuple(data["means"]), tuple(data["scales"])
    )


def _enough(rows: Sequence[Row]) -> bool:
    positives = sum(r.answered for r in rows)
    return len(rows) >= MIN_ROWS and positives >= MIN_CLASS and len(rows) - positives >= MIN_CLASS


def _part(
    rows: Sequence[Row],
    names: Sequence[str],
    zone: Any,
    forget: timedelta,
    now: datetime,
    *,
    choose: bool,
) -> Part | None:
    if not _enough(rows):
        return None
    rows = sorted(rows, key=lambda r: r.reading.message.date)
    threshold, share = DEFAULT_THRESHOLD, DEFAULT_WITHIN
    checked: dict[str, float] = {}
    aging = None
    if choose:
        chosen = _choose(rows, names, zone, forget)
        if chosen is not None:
            threshold, share, checked = chosen
        known = [r for r in rows if r.reading.message.date + HORIZON <= now]
        aging = _fit_aging(known, names, zone, forget)
    else:
        share = FOLLOW_WITHIN
        threshold = FOLLOW_EXPECTED
    return Part(
        fit(rows, names),
        Timing.of(r.hours for r in rows if r.answered),
        threshold,
        share,
        len(rows),
        sum(r.answered for r in rows),
        checked,
        aging,
    )


def _choose(
    rows: Sequence[Row], names: Sequence[str], zone: Any, forget: timedelta
) -> tuple[float, float, dict[str, float]] | None:
    """The threshold and usual-time share with the best F1, judged time-forward.

    The models and reply times are fitted on the older rows whose outcome was known
    before the newer part began; the newer rows are then judged as the daemon would
    see them (`_daily`): a nudge on a day when the message is still open counts as
    right when the user answered it within `SOON` of that day.
    """
    cut = rows[int(len(rows) * (1 - VALIDATE))].reading.message.date
    train = [r for r in rows if r.reading.message.date + HORIZON <= cut]
    test = [r for r in rows if r.reading.message.date >= cut]
    if not _enough(train) or sum(r.answered for r in test) < MIN_JUDGED:
        return None
    ages, open_, positive = _daily(test, zone, forget)
    p_soon, grid = _chances(
        fit(train, names),
        Timing.of(r.hours for r in train if r.answered),
        _fit_aging(train, names, zone, forget),
        [r.reading for r in test],
        ages,
        _GRID,
    )
    windows = np.stack([_usual(grid, share) for share in WITHIN], axis=1)
    best: tuple[float, float] | None = None  # (F1, share)
    for j, share in enumerate(WITHIN):
        due = open_ & (ages >= windows[:, j][:, None])
        f1 = max(_decide(due, p_soon, positive, t)[2] for t in THRESHOLDS)
        if best is None or f1 > best[0] + 1e-9:
            best = (f1, share)
    if best is None or best[0] <= 0:
        return None
    f1, share = best
    # A calibrated probability maximises F1 at half the best F1 (Lipton, Elkan and
    # Narayanaswamy 2014): the level of the curve, steadier than where its flat top peaks.
    threshold = min(max(f1 / 2, THRESHOLDS[0]), THRESHOLDS[-1])
    due = open_ & (ages >= windows[:, WITHIN.index(share)][:, None])
    precision, recall, reached = _decide(due, p_soon, positive, threshold)
    return (
        round(threshold, 4),
        share,
        {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(reached, 4),
            "best_f1": round(f1, 4),
            "base_precision": round(float(positive.sum()) / max(int(open_.sum()), 1), 4),
            "auc": round(_auc(p_soon[open_], positive[open_]), 4),
            "days_judged": int(open_.sum()),
        },
    )


def _decide(
    due: np.ndarray, chance: np.ndarray, positive: np.ndarray, threshold: float
) -> tuple[float, float, float]:
    """Precision, recall and F1 of nudging what is `due` with `chance` ≥ `threshold`."""
    nudged = due & (chance >= threshold)
    tp = int((nudged & positive).sum())
    fp = int((nudged & ~positive).sum())
    fn = int((positive & ~nudged).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _to_midnight(moment: datetime, zone: Any) -> float:
    """Hours from `moment` to the next midnight in `zone` (when a daily run would see it)."""
    local = moment.astimezone(zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), zone)
    return (midnight - moment).total_seconds() / 3600


def _auc(scores: np.ndarray, truth: np.ndarray) -> float:
    """ROC AUC by ranks (ties count half); 0.5 when a class is missing."""
    positives = int(truth.sum())
    negatives = len(truth) - positives
    if not positives or not negatives:
        return 0.5
    order = np.argsort(scores, kind="mergesort")
    ordered = scores[order]
    cuts = np.flatnonzero(np.diff(ordered)) + 1
    starts, ends = np.r_[0, cuts], np.r_[cuts, len(ordered)]
    ranks = np.empty(len(ordered))
    ranks[order] = np.repeat((starts + ends + 1) / 2, ends - starts)
    return float((ranks[truth].sum() - positives * (positives + 1) / 2) / (positives * negatives))


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True, slots=True)
class Personal:
    """The user's personal model: replies and follow-ups, and the counts behind them."""

    trained: datetime
    reply: Part | None
    follow: Part | None
    book: Book

    def stale(self, now: datetime) -> bool:
        return now - self.trained >= REFRESH or now < self.trained

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": VERSION,
                "trained": self.trained.isoformat(),
                "reply": self.reply.to_json() if self.reply else None,
                "follow": self.follow.to_json() if self.follow else None,
                "contacts": {a: c.to_json() for a, c in self.book.contacts.items()},
                "domains": self.book.domains,
                "counts": [self.book.seen, self.book.replied, self.book.asked, self.book.answered],
                "times": [round(t, 2) for t in self.book.times],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Personal | None:
        """The model stored by `to_json`; None for another version (train again)."""
        data = json.loads(text)
        if data.get("version") != VERSION:
            return None
        seen, replied, asked, answered = data["counts"]
        book = Book(
            {a: Contact.from_json(c) for a, c in data["contacts"].items()},
            {d: list(v) for d, v in data["domains"].items()},
            seen,
            replied,
            asked,
            answered,
            list(data["times"]),
        )
        return cls(
            datetime.fromisoformat(data["trained"]).astimezone(UTC),
            Part.from_json(data["reply"]) if data["reply"] else None,
            Part.from_json(data["follow"]) if data["follow"] else None,
            book,
        )


def train(found: History, rules: Rulebook, now: datetime) -> Personal:
    """Learn the user's model from the `history` of their mail up to `now` (see the
    module docstring): fit both parts, choose the reply part's lines time-forward."""
    zone = rules.work.zone
    forget = rules.tasks.forget_after
    return Personal(
        trained=now,
        reply=_part(found.reply, REPLY_FEATURES, zone, forget, now, choose=True),
        follow=_part(found.follow, FOLLOW_FEATURES, zone, forget, now, choose=False),
        book=found.book,
    )


# --------------------------------------------------------------------------- words


def reasons(part: Part, reading: Reading, name: str, book: Book, *, reply: bool) -> tuple[str, ...]:
    """What carried the decision, in words: the user's reply times to this contact,
    the sender writing again (when the user's history says that raises the chance),
    then the features that raised the probability most."""
    said: list[str] = []
    timing = _timing_words(reading.times, name, reply=reply)
    if timing:
        said.append(timing)
    if part.aging is not None and math.isfinite(reading.later.sender_again):
        weights = dict(zip(part.aging.names, part.aging.weights[1:], strict=True))
        if weights["sender_again"] > 0:
            said.append(f"{name} wrote again in this conversation since")
    parts = part.fitted.contributions(reading.values)
    values = dict(zip(part.fitted.names, reading.values, strict=True))
    who = book.peek(reading.contact)
    for feature, weight in sorted(parts.items(), key=lambda kv: -kv[1]):
        if weight < 0.15 or len(said) >= 3:
            break
        words = _feature_words(feature, values[feature], name, who, reply=reply)
        if words and words not in said:
            said.append(words)
    return tuple(said)


_SPANS = (
    (timedelta(hours=1), "an hour"),
    (timedelta(hours=3), "three hours"),
    (timedelta(days=1), "a day"),
    (timedelta(days=2), "two days"),
    (timedelta(days=3), "three days"),
    (timedelta(days=7), "a week"),
    (timedelta(days=14), "two weeks"),
)


def _timing_words(times: Sequence[float], name: str, *, reply: bool) -> str:
    """ "you answer Dana within a day 9 times in 10" (at least 3 replies to go on)."""
    if len(times) < 3:
        return ""
    for span, words in _SPANS:
        hits = sum(1 for t in times if t <= span.total_seconds() / 3600)
        if hits / len(times) >= 0.7:
            count = (
                f"{round(10 * hits / len(times))} times in 10"
                if len(times) >= 10
                else f"{hits} times in {len(times)}"
            )
            if reply:
                return f"you answer {name} within {words} {count}"
            return f"{name} answers you within {words} {count}"
    return ""


def _feature_words(feature: str, value: float, name: str, who: Contact, *, reply: bool) -> str:
    if reply:
        table: dict[str, Callable[[], str]] = {
            "to_user": lambda: "it is addressed to you",
            "recipients": lambda: "it went to few people",
            "new_thread": lambda: "it starts a new conversation",
            "thread_size": lambda: "its conversation is already long",
            "sender_volume": lambda: (
                f"{name} has written to you {who.inbound} times"
                if value > 0
                else f"{name} is new to you"
            ),
            "user_started": lambda: "you started this conversation",
            "user_in_thread": lambda: "you already wrote in this conversation",
            "answers_user": lambda: "it answers your message",
            "ask": lambda: "it asks you something",
            "rate_sender": lambda: (
                f"you answered {who.replied} of {name}'s {who.seen} messages"
                if who.seen
                else f"you answer most mail like {name}'s"
            ),
            "rate_domain": lambda: "you answer most mail from their organisation",
            "wrote_to_sender": lambda: f"you have written to {name} {who.wrote} times",
            "latency_sender": lambda: "",
            "tier": lambda: "their tier",
            "patch": lambda: "it carries a patch" if value else "",
            "attachment": lambda: "it has an attachment" if value else "",
            "off_hours": lambda: "",
            "day_off": lambda: "",
            "colleague": lambda: f"{name} is a colleague" if value else "",
            "shared_only": lambda: "it came to a shared inbox" if value else "",
        }
    else:
        table = {
            "recipients": lambda: "you wrote to few people",
            "new_thread": lambda: "you started the conversation",
            "ask": lambda: "you asked something",
            "answer_rate": lambda: (
                f"{name} answered {who.answered} of your {who.asked} messages" if who.asked else ""
            ),
            "contact_volume": lambda: f"{name} writes to you often",
            "wrote_to_contact": lambda: f"you write to {name} often",
            "answers_them": lambda: f"you answered {name}'s message",
            "patch": lambda: "",
            "attachment": lambda: "",
            "tier": lambda: "their tier",
            "colleague": lambda: "",
            "thread_size": lambda: "",
        }
    words = table.get(feature)
    return words() if words else ""
