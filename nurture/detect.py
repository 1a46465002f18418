"""The four detectors: reply, follow up, reconnect, recover. Pure: data and `now` in,
suggestions out; no I/O.

Each detector reads threads (who answered what, branch by branch), the cached NLP
signals, the meetings seen on the calendar, the rulebook (tiers, windows, ignores)
and, once there is enough history, the user's personal model (`nurture.personal`). A
suggestion exists only while its reason holds, so when the user replies or the
contact writes back, the next run simply does not produce it and the planner
removes the task.

Replies. Every inbound message still open for the user gets a `Judgement` (`judge`):
its "needs your reply" probability and, when it gets no nudge, why not. With a
personal model the probability is the model's (the chance the user answers it within
two weeks from now, which falls as it goes stale) and the reply window is the user's
usual reply time to that contact; a reply window the user's rule files chose stays the
rule, and then an ask the message makes is nudged even when the model doubts it (the
rule promises an answer). Without one (cold start) the probability is the ask score
and the window the tier's, as before. Either way a message is not the user's to answer
when it was only sent to a shared inbox the team never answers (unless a contact rule
names its sender), when it opens by greeting another recipient (its asks are theirs),
or when its sender sends the same text to many people (addressed to them, not copied:
a robot with a human look, `nurture.repeats`); an ask about a date that has passed is
stale. What mail to a crowd asks is not asked of the user unless it greets them
(without a model it gets no nudge; with one, the user's habits with such mail decide),
and a sentence the sender writes in many messages is their template, not an ask. One
nudge covers a person: it names their newest open message and lists the others (a
thread's siblings, the same ask resent as v7 and v9 of a patch, their other
conversations).

Recover. One nudge per contact, for their newest upset message. A contact is
escalating when that message says they asked before (`Signals.chaser`), or an earlier
message of theirs about the same matter (its conversation, or its subject) that asked
something, at least a day older and at most two weeks, is still unanswered (they write
again; a burst the same day, a patch that asks nothing or mail about other matters is
not chasing), or their tone rose sharply since their previous message on that matter;
either only while nobody else took the matter up in between (a discussion among
several people is not a contact left unheard);
an escalating contact earns a recover nudge at a milder tone, and after escalating
twice the rules' escalation contact is suggested.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo

import numpy as np

from . import personal as learned
from .contacts import (
    Identity,
    Interaction,
    first_names,
    interactions,
    learned_cadence,
    normalise,
    two_way,
)
from .durations import ago, day, format_duration, moment
from .model import Address, Ask, CalendarEvent, Message, NudgeKey, Origin, Signals, Suggestion
from .nlp import header_verdict
from .nlp.dates import DATE_PHRASE, resolve
from .nlp.signals import greets
from .personal import Personal
from .repeats import Repeats, resend_key
from .rules import ContactRule, Rulebook, Tier
from .threads import Thread, ancestry, build, replies

ASK_MIN = 0.5
UPSET_MIN = 0.7  # tone is a soft signal: only clear upset earns a recover nudge
UPSET_ESCALATING = 0.5  # ... or milder upset from a contact who is escalating
CHASER_MIN = 0.5  # "this is my third mail": the writer asked before and still waits
TONE_RISE = 0.15  # tone this much above the contact's previous message is rising
ESCALATION_SPAN = timedelta(days=14)  # an earlier open message this recent escalates
# ... when at least this much older (mail sent the same day is one burst, not a chase)
# and the earlier one asked something about the same matter: counting any open message
# made a developer's next mail an escalation (`bench/e2e.py` on a maintainer's mailbox:
# 149 recover nudges in 71 weeks; 92 once an ask and a day were needed, and the 40 of
# those read were all developers in review "written again without an answer").
ESCALATION_GAP = timedelta(days=1)
ESCALATION_TIMES = 2  # escalating this often (in 30 days) suggests the escalation contact
# Mail to at least this many people that does not name the user is a broadcast: a
# press clipping to a distribution list asks nothing of them in particular.
CROWD = 15
# Without a personal model, a reply nudge lasts this long past its window: by then
# most people have answered what they were going to (on a maintainer's mailbox, 3%
# of messages still open after three days were answered in the next two weeks).
COLD_STALE = timedelta(days=14)
PROMISE_LEAD = timedelta(days=1)
RECONNECT_AFTER = 1.5  # cadences without contact before a reconnect nudge
DORMANT_FACTOR = 8
RECAP_WITHIN = timedelta(days=5)
UPSET_RECENT = timedelta(days=14)
LOOKBACK = timedelta(days=400)
# How far before the forget window a thread's earlier mail is still read, so that
# a reply inside the window finds what it answers.
THREAD_CONTEXT = timedelta(days=30)

# What each suggestion tells the user to do, by what found it.
ACTIONS: dict[Origin, str] = {
    Origin.REPLY: (
        "Get back to them today. Even a short \"I'm on it — you'll have it by Thursday\" "
        "keeps their trust."
    ),
    Origin.FOLLOW_UP: "Send a friendly check-in that offers help to unblock it — not a complaint.",
    Origin.PROMISE: (
        "Deliver what you promised, or tell them now when it will come: a kept promise "
        "is worth more than a fast one."
    ),
    Origin.RECONNECT: (
        "Give the richest touch you can: stop by, call, write a note, or send an email. "
        "Ask how you can help, or share something useful to them. Serve, don't sell."
    ),
    Origin.RECOVER: (
        "Acknowledge how they feel and empathise first, then offer what you can do: "
        '"I can do this for you". A call beats another email.'
    ),
    Origin.RECAP: (
        "Send a short recap: what was decided, who does what by when, and thanks for their time."
    ),
}


@dataclass(frozen=True, slots=True)
class Inputs:
    """Everything the detectors read, loaded by the application layer."""

    messages: Sequence[Message]
    signals: Mapping[str, Signals]
    meetings: Sequence[CalendarEvent]
    rules: Rulebook
    identity: Identity
    now: datetime
    personal: Personal | None = None  # None: too little history yet (cold start)


@dataclass(frozen=True, slots=True)
class Judgement:
    """What detection made of one inbound message that reached the user.

    `probability` is how much nurture believes it needs the user's reply now: the
    personal model's probability, or the ask score without one; 0 when a rule says
    it is not the user's to answer. `why_not` says why it has no reply nudge ("" when
    it has one).
    """

    message: Message
    probability: float
    why_not: str = ""
    due: datetime | None = None
    window: timedelta | None = None
    evidence: str = ""
    reasons: tuple[str, ...] = ()
    personal: bool = False
    reading: learned.Reading | None = None  # what the personal model read, when it judged
    model: float | None = None  # the model's probability, also where a rule rules it out


@dataclass(slots=True)
class _Context:
    inputs: Inputs
    threads: list[Thread]
    skip: dict[str, str] = field(default_factory=dict)  # message_id → why ignored
    thread_of: dict[str, Thread] = field(default_factory=dict)
    answers: dict[str, list[Message]] = field(default_factory=dict)  # id → who answered it
    repeats: Repeats | None = None
    facts: dict[str, learned.Facts] = field(default_factory=dict)  # filled thread by thread

    def tier(self, address: str) -> tuple[Tier, ContactRule | None]:
        return self.inputs.rules.match_contact(address)

    def signals(self, message: Message) -> Signals:
        return self.inputs.signals.get(message.message_id, Signals())

    def template_sender(self, message: Message) -> bool:
        """`message`'s sender sends its text to many people (`Repeats.template_sender`)."""
        assert self.repeats is not None
        shape = self.signals(message).fingerprint
        return self.repeats.template_sender(
            normalise(message.sender.email), shape, self.inputs.identity.is_user
        )

    def answered(self, m: Message) -> datetime | None:
        """When `m` was answered: by the user; for mail that reached the user only
        through a shared inbox, by anyone but its sender (a colleague, a list member)."""
        identity = self.inputs.identity
        team = not identity.named(m) and bool(identity.shared_inbox(m))
        for x in self.answers.get(m.message_id, ()):
            if identity.outbound(x) or (team and x.sender.email != m.sender.email):
                return x.date
        return None


def _context(inputs: Inputs) -> _Context:
    now = inputs.now
    recent = [m for m in inputs.messages if m.date >= now - LOOKBACK and m.date <= now]
    ctx = _Context(inputs, build(recent))
    for m in recent:
        reason = ignore_reason(m, inputs.signals.get(m.message_id), inputs.rules, inputs.identity)
        if reason:
            ctx.skip[m.message_id] = reason
    for thread in ctx.threads:
        for m in thread.messages:
            ctx.thread_of[m.message_id] = thread
        ctx.answers.update(replies(thread, ancestry(thread)))
    ctx.repeats = Repeats.of(
        recent,
        inputs.signals,
        lambda mid: ctx.thread_of[mid].id if mid in ctx.thread_of else mid,
        lambda m: normalise(m.sender.email),
    )
    return ctx


# List headers that mark a team's shared list mail as list mail; for the team it is not.
_LIST_FIELDS = frozenset({"list-id", "list-post", "list-unsubscribe", "list-help"})


def as_team_mail(message: Message) -> Message:
    """`message` without the headers its mailing list added (`Identity.shared_inbox`):
    for the team that reads the list, list mail is mail to them."""
    headers = {
        k: v
        for k, v in message.headers.items()
        if k not in _LIST_FIELDS
        and not (k == "precedence" and v.strip().lower() in {"list", "bulk"})
    }
    return replace(message, headers=headers)


def ignore_reason(
    message: Message,
    signals: Signals | None,
    rules: Rulebook,
    identity: Identity | None = None,
) -> str:
    """Why a message never counts (automated by headers or NLP, or a rule), or "".

    With `identity`, mail that came through one of the user's shared inboxes is judged
    without its list's headers (`as_team_mail`).
    """
    if rules.ignore.automated:
        judged = message
        if identity is not None and identity.shared_inbox(message):
            judged = as_team_mail(message)
        verdict = (signals.automated if signals else None) or header_verdict(judged)
        if verdict is not None:
            return f"automated ({verdict.value})"
    return rules.ignored(message.sender, message.subject)


def candidates(
    messages: Sequence[Message], identity: Identity, rules: Rulebook, now: datetime
) -> list[Message]:
    """Messages whose text the NLP must read: only those that could become a nudge.

    Inbound mail still open for the user (no answer from the user on its branch of
    the thread; for a shared inbox, from anyone but its sender) and the user's own
    latest mail in each thread, within the window after which nudges are forgotten;
    never automated or ignored mail.
    """
    horizon = now - rules.tasks.forget_after
    picked = []
    for thread in build([m for m in messages if m.date >= horizon - THREAD_CONTEXT]):
        answers = replies(thread)
        other_after = False
        for m in reversed(thread.messages):
            if m.date < horizon:
                break
            if ignore_reason(m, None, rules, identity):
                continue
            outbound = identity.outbound(m)
            if outbound and not other_after:
                picked.append(m)  # may ask a question or promise something
            elif not outbound:
                team = not identity.named(m) and bool(identity.shared_inbox(m))
                if not any(
                    identity.outbound(x) or (team and x.sender.email != m.sender.email)
                    for x in answers.get(m.message_id, ())
                ):
                    picked.append(m)  # open for the user: may ask something, or be upset
            other_after |= not outbound
    return picked


def detect(inputs: Inputs) -> list[Suggestion]:
    """Every nudge that holds at `inputs.now`, one per key, highest priority first."""
    ctx = _context(inputs)
    found: list[Suggestion] = []
    recovering, covered = _recover(ctx)
    found += recovering
    found += _replies(ctx, covered)
    found += _follow_ups(ctx)
    found += _promises(ctx)
    found += _recaps(ctx)
    busy_contacts = {s.contact.email for s in found}
    found += [s for s in _reconnects(ctx) if s.contact.email not in busy_contacts]
    unique: dict[str, Suggestion] = {}
    for s in sorted(found, key=lambda s: (-s.priority, s.key)):
        unique.setdefault(s.key, s)
    return list(unique.values())


def _priority(
    tier: Tier, due: datetime, window: timedelta, now: datetime, boost: float = 0.0
) -> float:
    overdue = max((now - due).total_seconds(), 0) / max(window.total_seconds(), 3600)
    return round(tier.weight * (1 + min(overdue, 3) * 0.5) * (1 + boost), 4)


def _subject(message: Message) -> str:
    subject = " ".join(message.subject.split()) or "(no subject)"
    return subject if len(subject) <= 80 else subject[:79] + "…"


def _rule_name(tier: Tier, rule: ContactRule | None) -> str:
    return f"contacts {rule.where} → tier {tier.name}" if rule else f"tier {tier.name} (default)"


def learn(inputs: Inputs) -> Personal:
    """Train the user's personal model on `inputs.messages`, reading them as detection
    does: the same mail ignored, the same asks (templates left out)."""
    ctx = _context(inputs)

    def usable(m: Message) -> bool:
        return m.message_id not in ctx.skip and not ctx.template_sender(m)

    def ask_of(m: Message) -> float | None:
        sig = inputs.signals.get(m.message_id)
        if sig is None:
            return None
        asks, _ = _asks(ctx, m, sig, dates=False)
        return _ask_feature(sig, asks)

    found = learned.history(
        inputs.messages,
        ctx.threads,
        inputs.identity,
        inputs.rules,
        inputs.now,
        usable=usable,
        ask_of=ask_of,
        answers=ctx.answers,
    )
    return learned.train(found, inputs.rules, inputs.now)


# --------------------------------------------------------------------------- replies


def judge(inputs: Inputs) -> dict[str, Judgement]:
    """A `Judgement` for every inbound message from a person that reached the user
    (To, Cc or a shared inbox) within the window after which nudges are forgotten.

    The same judgements `detect` nudges from; `nurture explain` and the end-to-end
    benchmark read them for messages that got no nudge too.
    """
    ctx = _context(inputs)
    _, covered = _recover(ctx)
    return {j.message.message_id: j for j in _judgements(ctx, covered)}


def _judgements(ctx: _Context, covered: set[str]) -> list[Judgement]:
    inputs, identity, now = ctx.inputs, ctx.inputs.identity, ctx.inputs.now
    forget = inputs.rules.tasks.forget_after
    found: list[Judgement] = []
    weigh: list[_Open] = []  # open messages the personal model weighs, all at once
    for thread in ctx.threads:
        for m in thread.messages:
            if (
                identity.outbound(m)
                or m.message_id in ctx.skip
                or now - m.date > forget
                or not (identity.named(m) or identity.shared_inbox(m))
            ):
                continue
            judged = _judge(ctx, m, covered)
            if isinstance(judged, Judgement):
                found.append(judged)
            else:
                weigh.append(judged)
    return found + _weighed(ctx, weigh, covered)


@dataclass(frozen=True, slots=True)
class _Open:
    """An open message the personal model is to weigh, with what the rules found."""

    message: Message
    ask: Ask | None
    tier: Tier
    rule: ContactRule | None
    shared_only: bool
    reading: learned.Reading
    ruled_out: str  # why a rule says it is not the user's ("" when none does)


def _judge(ctx: _Context, m: Message, covered: set[str]) -> Judgement | _Open:
    """What `m` needs from the user now and why it gets no reply nudge if it does not;
    or, with a personal model, what the model is to weigh (`_weighed`)."""
    inputs, identity = ctx.inputs, ctx.inputs.identity
    if ctx.answered(m) is not None:
        return Judgement(m, 0.0, "answered")
    sig = ctx.signals(m)
    asks, stale = _asks(ctx, m, sig)
    ruled_out = _not_yours(ctx, m, sig) or stale
    crowd = _crowd(m, sig)
    if crowd:
        asks = []  # asked of everyone: with a model, the user's habits with such mail decide
    ask = asks[0] if asks else None
    tier, rule = ctx.tier(m.sender.email)
    shared_only = not identity.named(m)
    if inputs.personal is None or inputs.personal.reply is None:
        if ruled_out or crowd:
            return Judgement(m, 0.0, ruled_out or crowd)
        return _cold(ctx, m, sig, ask, tier, rule, covered, shared_only)
    reading = learned.reply_reading(
        m,
        _facts(ctx, m),
        inputs.personal.book,
        identity,
        inputs.rules,
        _ask_feature(sig, asks),
        shared_only,
        tier.weight,
    )
    return _Open(m, ask, tier, rule, shared_only, reading, ruled_out)


def _weighed(ctx: _Context, items: Sequence[_Open], covered: set[str]) -> list[Judgement]:
    """The personal model's judgements of open messages (see the module docstring)."""
    if not items:
        return []
    now = ctx.inputs.now
    assert ctx.inputs.personal is not None and ctx.inputs.personal.reply is not None
    part = ctx.inputs.personal.reply
    ages = np.array([(now - o.message.date).total_seconds() / 3600 for o in items])
    chances, usual = part.assess([o.reading for o in items], ages)
    found = []
    for o, chance, hours in zip(items, chances, usual, strict=True):
        m, probability = o.message, float(chance)
        window = o.tier.reply_within if o.tier.reply_chosen else timedelta(hours=float(hours))
        due = m.date + window
        evidence = o.ask.sentence if o.ask is not None and o.ask.sentence else _subject(m)
        judged = Judgement(
            m, probability, "", due, window, evidence, (), True, o.reading, probability
        )
        promised = o.tier.reply_chosen and o.ask is not None  # the rule promises answers
        if o.ruled_out:
            judged = replace(judged, probability=0.0, why_not=o.ruled_out)
        elif o.shared_only and o.rule is None and probability < part.threshold:
            judged = replace(judged, why_not="shared inbox mail the team seldom answers")
        elif probability < part.threshold and not promised:
            judged = replace(judged, why_not=f"needs your reply {probability:.0%}: too unlikely")
        elif due > now:
            judged = replace(judged, why_not="your usual reply time has not passed")
        elif m.message_id in covered:
            judged = replace(judged, why_not="a recover nudge covers it")
        found.append(judged)
    return found


def _cold(
    ctx: _Context,
    m: Message,
    sig: Signals,
    ask: Ask | None,
    tier: Tier,
    rule: ContactRule | None,
    covered: set[str],
    shared_only: bool,
) -> Judgement:
    """Without a personal model: an ask, on To (or greeted on Cc), past the tier's window."""
    identity, now = ctx.inputs.identity, ctx.inputs.now
    score = ask.score if ask is not None else 0.0
    due = m.date + tier.reply_within
    judged = Judgement(m, score, "", due, tier.reply_within, ask.sentence if ask else "")
    if ask is None:
        return replace(judged, why_not="asks nothing")
    if shared_only and rule is None:
        return replace(judged, why_not="shared inbox mail and no contact rule for its sender")
    if not shared_only and not _on_to(m, identity) and not sig.greets_user:
        return replace(judged, why_not="you are only on Cc and not greeted")
    if due > now:
        return replace(judged, why_not="the reply window has not passed")
    if now - due > COLD_STALE:
        return replace(judged, why_not="stale: it has waited long past its window")
    if m.message_id in covered:
        return replace(judged, why_not="a recover nudge covers it")
    return judged


def _on_to(m: Message, identity: Identity) -> bool:
    return any(identity.is_user(a) or identity.is_shared(a) for a in m.to)


def _not_yours(ctx: _Context, m: Message, sig: Signals) -> str:
    """Why `m` is not the user's to answer, whatever it asks, or ""."""
    identity = ctx.inputs.identity
    if ctx.template_sender(m):
        return "its sender sends the same text to many people"
    if sig.greets_user:
        return ""
    if sig.addressee and not identity.is_user(sig.addressee):
        return f"addressed to {sig.addressee}"
    return ""


def _crowd(m: Message, sig: Signals) -> str:
    """Why what `m` asks is asked of a crowd, not of the user, or "": it went to
    `CROWD` people or more and does not greet the user."""
    if sig.greets_user or len({a.email for a in m.recipients}) < CROWD:
        return ""
    return f"sent to {len(m.recipients)} people without naming you"


def _asks(ctx: _Context, m: Message, sig: Signals, *, dates: bool = True) -> tuple[list[Ask], str]:
    """`m`'s asks of the user, strongest first, and why it is stale ("" when not).

    Left out: the sender's template sentences, and sentences that open by naming
    another recipient ("Maureen - please keep this on file"). When every ask that
    names a moment names one that has passed, the message is stale.
    """
    assert ctx.repeats is not None
    if not sig.asks:
        return [], ""
    sender = normalise(m.sender.email)
    keys = sig.sentence_keys if len(sig.sentence_keys) == len(sig.asks) else ("",) * len(sig.asks)
    others = [a for a in ctx.inputs.identity.others(m.recipients) if a.email != m.sender.email]
    kept: list[Ask] = []
    for ask, key in zip(sig.asks, keys, strict=True):
        if ask.score < ASK_MIN:
            continue
        if key and ctx.repeats.template_sentence(sender, key):
            continue
        if ask.sentence and any(greets([ask.sentence], first_names(o)) for o in others):
            continue
        kept.append(ask)
    kept.sort(key=lambda a: -a.score)
    worded = [a for a in kept if a.sentence]
    if worded and dates:
        zone = ctx.inputs.rules.work.zone
        moments = [_occasion(a.sentence, m.date, zone) for a in worded]
        if all(when is not None and when < ctx.inputs.now for when in moments):
            return kept, "stale: the moment it asks about has passed"
    return kept, ""


# "by Friday", "before the end of the month": a deadline, which passing does not settle.
_DEADLINE = re.compile(
    r"\b(?:by|before|until|till|no later than|in time for|ahead of|due)\s+(?:the\s+)?$",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=4096)
def _occasion(sentence: str, sent: datetime, zone: tzinfo) -> datetime | None:
    """The moment an ask is about ("dinner on Friday"), or None: it names none, or
    names a deadline ("by Friday"), after which the ask is owed all the more. Cached: a
    daemon judges the same sentences daily."""
    found = DATE_PHRASE.search(sentence)
    if found is not None and _DEADLINE.search(sentence[: found.start()]):
        return None
    return resolve(sentence, sent, zone)


def _ask_feature(sig: Signals, asks: Sequence[Ask]) -> float | None:
    """The ask score the personal model reads: None for a message the NLP never read."""
    if not sig.version:
        return None
    return max((a.score for a in asks), default=0.0)


def _facts(ctx: _Context, m: Message) -> learned.Facts:
    if m.message_id not in ctx.facts:
        thread = ctx.thread_of[m.message_id]
        ctx.facts.update(learned.thread_facts(thread, ctx.inputs.identity, ctx.answers))
    return ctx.facts[m.message_id]


def _replies(ctx: _Context, covered: set[str]) -> list[Suggestion]:
    """One reply nudge per person, for their newest open message: a sender's open
    messages in one thread (the patches of a series, a question and its ping: answering
    a sibling leaves the others open), the same ask resent under another thread, and
    their other open conversations all wait with it, and the nudge says how many.
    People get answers, not messages: a tester who files twenty reports in a week gets
    one task, not twenty. Measured on a maintainer's mailbox (`bench/e2e.py`): nudging
    each thread sibling apart added 40% more reply tasks, nearly all of them wrong; one
    nudge per person rather than per conversation cut the reply tasks by 38% and raised
    their precision from 0.18 to 0.23 (recall 0.25 to 0.20)."""
    wanted = sorted(
        (j for j in _judgements(ctx, covered) if not j.why_not),
        key=lambda j: (j.message.date, j.message.message_id),
    )
    by_sender: dict[str, list[Judgement]] = {}
    for j in wanted:  # oldest first: the last one is the newest
        by_sender.setdefault(normalise(j.message.sender.email), []).append(j)
    return [_reply(ctx, js[-1], [j.message for j in js[:-1]]) for js in by_sender.values()]


def _reply(ctx: _Context, j: Judgement, older: Sequence[Message] = ()) -> Suggestion:
    """The reply nudge for `j`, which also covers the `older` open messages of theirs."""
    now = ctx.inputs.now
    m = j.message
    assert j.due is not None and j.window is not None
    tier, rule = ctx.tier(m.sender.email)
    age = ago(m.date, now, ctx.inputs.rules.work.zone)
    window = (
        f"reply window for tier {tier.name}: {format_duration(tier.reply_within)}"
        if not j.personal or tier.reply_chosen
        else f"you usually answer within {format_duration(j.window)}"
    )
    said = j.reasons
    model = ctx.inputs.personal
    if j.reading is not None and model is not None and model.reply is not None:
        said = learned.reasons(model.reply, j.reading, m.sender.display(), model.book, reply=True)
    return Suggestion(
        key=NudgeKey(Origin.REPLY, m.message_id),
        contact=m.sender,
        title=f'Reply to {m.sender.display()} — "{_subject(m)}"',
        why=f"{m.sender.display()} asked {age} and is waiting for your answer ({window})."
        + _waiting(older),
        action=ACTIONS[Origin.REPLY],
        due=j.due,
        priority=_priority(tier, j.due, j.window, now, 0.25),
        tier=tier.name,
        rule=_rule_name(tier, rule),
        evidence=j.evidence,
        subject=m.subject,
        thread_link=m.link,
        message_id=m.message_id,
        probability=round(j.probability, 4) if j.personal else None,
        reasons=said,
        waiting=tuple(o.message_id for o in older),
    )


def _waiting(older: Sequence[Message], shown: int = 3) -> str:
    """' 2 older message(s) of theirs wait with it: "Report 0", "Report 1".'"""
    if not older:
        return ""
    subjects = [f'"{_subject(o)}"' for o in reversed(older[-shown:])]
    rest = f" and {len(older) - shown} more" if len(older) > shown else ""
    return f" {len(older)} older message(s) of theirs wait with it: {', '.join(subjects)}{rest}."


# --------------------------------------------------------------------------- recover


def _recover(ctx: _Context) -> tuple[list[Suggestion], set[str]]:
    """One recover nudge per upset contact, for their newest upset open message, and
    the open messages of theirs that nudge covers: while it stands, the contact gets no
    reply nudge as well (one task a contact; the call settles the rest)."""
    inputs, identity, now = ctx.inputs, ctx.inputs.identity, ctx.inputs.now
    forget = inputs.rules.tasks.forget_after
    mail: dict[str, list[Message]] = {}
    for m in sorted(inputs.messages, key=lambda m: m.date):
        if identity.outbound(m) or m.message_id in ctx.skip or m.date > now:
            continue
        if now - m.date > timedelta(days=30) + forget:
            continue
        mail.setdefault(normalise(m.sender.email), []).append(m)
    out = []
    covered: set[str] = set()
    for contact, theirs in mail.items():
        tier, rule = ctx.tier(contact)
        if not tier.recover:
            continue
        distinct = _distinct(ctx, contact, theirs)
        escalations = 0
        chosen: tuple[Message, bool] | None = None
        for index, m in enumerate(distinct):
            if now - m.date > timedelta(days=30):
                continue
            escalating = _escalating(ctx, m, distinct[:index])
            upset = ctx.signals(m).upset
            # critique of code sounds mildly upset: only clear upset counts there
            mild_counts = upset >= UPSET_ESCALATING and not ctx.signals(m).technical
            escalations += escalating and mild_counts
            recent = now - m.date <= UPSET_RECENT and ctx.answered(m) is None
            if (
                recent
                and not ctx.template_sender(m)
                and (upset >= UPSET_MIN or (escalating and mild_counts))
            ):
                chosen = (m, escalating)
        if chosen is None:
            continue
        m, escalating = chosen
        out.append(_recovery(ctx, m, tier, rule, escalating, escalations))
        covered |= {
            x.message_id for x in theirs if ctx.answered(x) is None and now - x.date <= UPSET_RECENT
        }
    return out, covered


def _distinct(ctx: _Context, contact: str, theirs: Sequence[Message]) -> list[Message]:
    """A contact's messages with each run of near-identical ones counted once (the newest)."""
    assert ctx.repeats is not None
    kept: list[Message] = []
    for m in theirs:  # oldest first
        twins = ctx.repeats.near(contact, ctx.signals(m).fingerprint)
        if kept and kept[-1].message_id in twins:
            kept[-1] = m
        else:
            kept.append(m)
    return kept


def _escalating(ctx: _Context, m: Message, before: Sequence[Message]) -> bool:
    """Whether the contact is escalating with `m` (see the module docstring)."""
    sig = ctx.signals(m)
    if sig.chaser >= CHASER_MIN:
        return True
    if any(
        ESCALATION_GAP <= m.date - e.date <= ESCALATION_SPAN
        and ctx.answered(e) is None
        and ctx.signals(e).asks
        and _same_matter(ctx, e, m)
        and not _others_wrote(ctx, e, m)
        for e in before[-5:]
    ):
        return True
    if (
        before and _same_matter(ctx, before[-1], m) and not _others_wrote(ctx, before[-1], m)
    ):  # their tone rose about this matter, with nobody else in the conversation
        previous = ctx.signals(before[-1]).upset
        return sig.upset >= UPSET_ESCALATING and sig.upset >= previous + TONE_RISE
    return False


def _others_wrote(ctx: _Context, e: Message, m: Message) -> bool:
    """Whether a third person (neither its sender nor the user) wrote in `e`'s
    conversation between `e` and `m`: a colleague or another participant took it up, so
    it is a discussion, not a contact left unheard (a reviewer writing again, or
    sharper, in a busy thread is not a customer nobody could console)."""
    thread = ctx.thread_of.get(e.message_id)
    if thread is None:
        return False
    sender, identity = normalise(e.sender.email), ctx.inputs.identity
    return any(
        e.date < x.date < m.date
        and normalise(x.sender.email) != sender
        and not identity.outbound(x)
        for x in thread.messages
    )


def _same_matter(ctx: _Context, a: Message, b: Message) -> bool:
    """One conversation, or one subject once reply prefixes, tags and versions are off
    (a customer who writes a new mail about the same order)."""
    ta, tb = ctx.thread_of.get(a.message_id), ctx.thread_of.get(b.message_id)
    if ta is not None and tb is not None and ta.id == tb.id:
        return True
    key = resend_key(a.subject)
    return bool(key) and key == resend_key(b.subject)


def _recovery(
    ctx: _Context,
    m: Message,
    tier: Tier,
    rule: ContactRule | None,
    escalating: bool,
    escalations: int,
) -> Suggestion:
    now = ctx.inputs.now
    sig = ctx.signals(m)
    action = ACTIONS[Origin.RECOVER]
    if escalations >= ESCALATION_TIMES and rule is not None and rule.escalation:
        action += (
            f" They have been escalating {escalations} times this month: consider bringing "
            f"in {rule.escalation}."
        )
    quote = sig.upset_sentence or _subject(m)
    escalated = " and has written again without an answer" if escalating else ""
    return Suggestion(
        key=NudgeKey(Origin.RECOVER, m.message_id),
        contact=m.sender,
        title=f'Call {m.sender.display()} — upset: "{_short(quote)}"',
        why=f"{m.sender.display()} sounds {_upset_words(sig.upset)}{escalated} and has not "
        f"heard from you since {day(m.date, ctx.inputs.rules.work.zone)}.",
        action=action,
        due=m.date,
        priority=_priority(tier, m.date, tier.reply_within, now, 1.0 + sig.upset),
        tier=tier.name,
        rule=_rule_name(tier, rule),
        evidence=sig.upset_sentence or _subject(m),
        subject=m.subject,
        thread_link=m.link,
        message_id=m.message_id,
    )


def _upset_words(score: float) -> str:
    """The tone in words; the score itself is for `nurture explain`."""
    return "very upset" if score >= 0.9 else "upset"


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _main_recipient(m: Message, identity: Identity) -> Address | None:
    others = identity.others(m.to) or identity.others(m.cc)
    return others[0] if others else None


@dataclass(frozen=True, slots=True)
class _Asked:
    """A question of the user's that nobody answered yet, as `_follow_ups` weighs it."""

    message: Message
    contact: Address
    ask: Ask
    tier: Tier
    rule: ContactRule | None
    reading: learned.Reading | None


def _follow_ups(ctx: _Context) -> list[Suggestion]:
    """The user asked and nobody answered: past the follow-up window, or with a personal
    model, past the time this contact usually takes to answer, when an answer was
    expected (the model's `FOLLOW_EXPECTED`). The model weighs them all at once."""
    inputs, identity, now = ctx.inputs, ctx.inputs.identity, ctx.inputs.now
    model = inputs.personal
    part = model.follow if model is not None else None
    forget = inputs.rules.tasks.forget_after
    asked: list[_Asked] = []
    for thread in ctx.threads:
        last = thread.last
        if not identity.outbound(last) or last.message_id in ctx.skip or now - last.date > forget:
            continue
        sig = ctx.signals(last)
        contact = _main_recipient(last, identity)
        if contact is None or sig.ask_score < ASK_MIN:
            continue
        tier, rule = ctx.tier(contact.email)
        reading = None
        if part is not None and model is not None:
            reading = learned.follow_reading(
                last,
                normalise(contact.email),
                _facts(ctx, last),
                model.book,
                identity,
                inputs.rules,
                sig.ask_score,
                tier.weight,
            )
        asked.append(
            _Asked(last, contact, max(sig.asks, key=lambda a: a.score), tier, rule, reading)
        )
    chances: Sequence[float | None] = [None] * len(asked)
    usual: Sequence[float | None] = [None] * len(asked)
    if part is not None and asked:
        readings = [a.reading for a in asked if a.reading is not None]
        chances = [float(p) for p in part.fitted.probabilities([r.values for r in readings])]
        usual = [float(h) for h in part.assess(readings, np.zeros(len(readings)))[1]]
    out = []
    for a, probability, hours in zip(asked, chances, usual, strict=True):
        window = a.tier.follow_up_after
        if part is not None and probability is not None and hours is not None:
            if probability < part.threshold:
                continue  # they seldom answer mail like this: nothing to chase
            if not a.tier.follow_up_chosen:
                window = timedelta(hours=hours)
        due = a.message.date + window
        if due > now:
            continue
        out.append(_follow_up(ctx, a, due, window, probability))
    return out


def _follow_up(
    ctx: _Context, a: _Asked, due: datetime, window: timedelta, probability: float | None
) -> Suggestion:
    now, last, contact, tier = ctx.inputs.now, a.message, a.contact, a.tier
    zone = ctx.inputs.rules.work.zone
    model = ctx.inputs.personal
    said: tuple[str, ...] = ()
    if model is not None and model.follow is not None and a.reading is not None:
        said = learned.reasons(model.follow, a.reading, contact.display(), model.book, reply=False)
    setting = (
        f"follow-up window for tier {tier.name}: {format_duration(tier.follow_up_after)}"
        if probability is None or tier.follow_up_chosen
        else f"they usually answer within {format_duration(window)}"
    )
    return Suggestion(
        key=NudgeKey(Origin.FOLLOW_UP, last.message_id),
        contact=contact,
        title=f"Follow up with {contact.display()} — {_subject(last)} "
        f"(sent {ago(last.date, now, zone)})",
        why=f"You asked {contact.display()} on {day(last.date, zone)} and nobody has "
        f"answered ({setting}).",
        action=ACTIONS[Origin.FOLLOW_UP],
        due=due,
        priority=_priority(tier, due, window, now),
        tier=tier.name,
        rule=_rule_name(tier, a.rule),
        evidence=a.ask.sentence,
        subject=last.subject,
        thread_link=last.link,
        message_id=last.message_id,
        probability=None if probability is None else round(probability, 4),
        reasons=said,
    )


def _promises(ctx: _Context) -> list[Suggestion]:
    inputs, identity, now = ctx.inputs, ctx.inputs.identity, ctx.inputs.now
    sent_to: dict[str, list[datetime]] = {}
    for m in inputs.messages:
        if identity.outbound(m):
            for a in identity.others(m.recipients):
                sent_to.setdefault(normalise(a.email), []).append(m.date)
    out = []
    for m in inputs.messages:
        if not identity.outbound(m) or m.message_id in ctx.skip:
            continue
        sig = ctx.signals(m)
        if not sig.commitments:
            continue
        contact = _main_recipient(m, identity)
        if contact is None:
            continue
        if any(d > m.date for d in sent_to.get(normalise(contact.email), [])):
            continue  # wrote to them again since: the promise is taken as kept
        tier, rule = ctx.tier(contact.email)
        promise = max(sig.commitments, key=lambda c: c.score)
        promised = promise.due or (m.date + tier.follow_up_after)
        due = max(promised - PROMISE_LEAD, m.date)
        if promised - 2 * PROMISE_LEAD > now or now - promised > inputs.rules.tasks.forget_after:
            continue
        zone = inputs.rules.work.zone
        when = f"due {day(promised, zone)}" if promise.due else "no date given"
        out.append(
            Suggestion(
                key=NudgeKey(Origin.PROMISE, m.message_id),
                contact=contact,
                title=f"Keep your promise to {contact.display()} — {_subject(m)} ({when})",
                why=f"On {day(m.date, zone)} you promised {contact.display()}: "
                f'"{_short(promise.sentence, 120)}" and have not written to them since.',
                action=ACTIONS[Origin.PROMISE],
                due=due,
                priority=_priority(tier, due, PROMISE_LEAD, now, 0.5),
                tier=tier.name,
                rule=_rule_name(tier, rule),
                evidence=promise.sentence,
                subject=m.subject,
                thread_link=m.link,
                message_id=m.message_id,
            )
        )
    return out


def _known_names(inputs: Inputs) -> dict[str, Address]:
    """Contacts with the display names their own mail gave them, by normalised address."""
    names: dict[str, Address] = {}
    for m in inputs.messages:
        if not inputs.identity.outbound(m) and m.sender.name:
            names[normalise(m.sender.email)] = m.sender
    return names


def _recaps(ctx: _Context) -> list[Suggestion]:
    inputs, identity, now = ctx.inputs, ctx.inputs.identity, ctx.inputs.now
    internal = identity.domains
    names = _known_names(inputs)
    sent = sorted(  # the user's mail since the earliest meeting that may need a recap
        (m.date, {normalise(a.email) for a in m.recipients})
        for m in inputs.messages
        if m.date >= now - RECAP_WITHIN - timedelta(days=1) and identity.outbound(m)
    )
    out = []
    for meeting in inputs.meetings:
        if meeting.cancelled or not (now - RECAP_WITHIN <= meeting.end <= now):
            continue
        external = [
            a if a.name else names.get(normalise(a.email), a)
            for a in identity.others(meeting.attendees)
            if a.domain not in internal
        ]
        if not external:
            continue
        emails = {normalise(a.email) for a in external}
        recapped = any(when >= meeting.start and emails & to for when, to in sent)
        if recapped:
            continue
        contact = external[0]
        tier, rule = ctx.tier(contact.email)
        if not tier.recover:
            continue
        title = meeting.summary or "your meeting"
        due = meeting.end + timedelta(hours=1)
        out.append(
            Suggestion(
                key=NudgeKey(Origin.RECAP, f"{meeting.uid}:{meeting.start:%Y%m%dT%H%M}"),
                contact=contact,
                title=f'Send a recap to {contact.display()} — "{_short(title)}" ended '
                "without one",
                why=f"\"{title}\" with {', '.join(a.display() for a in external)} ended "
                f"{moment(meeting.end, inputs.rules.work.zone)} and no mail has gone to them "
                "since.",
                action=ACTIONS[Origin.RECAP],
                due=due,
                priority=_priority(tier, due, timedelta(days=1), now, 0.5),
                tier=tier.name,
                rule=_rule_name(tier, rule),
                evidence=title,
                subject=title,
            )
        )
    return out


def _reconnects(ctx: _Context) -> list[Suggestion]:
    inputs, identity, now = ctx.inputs, ctx.inputs.identity, ctx.inputs.now
    internal = identity.domains
    touches = interactions(inputs.messages, inputs.meetings, identity, set(ctx.skip), now)
    names = _known_names(inputs)
    zone = inputs.rules.work.zone
    out = []
    for contact, items in touches.items():
        if not two_way(items):
            continue
        tier, rule = ctx.tier(contact)
        if rule is None and contact.rpartition("@")[2] in internal:
            continue  # colleagues: no keep-in-touch nudge unless a rule asks for one
        setting = rule.cadence if rule is not None and rule.cadence is not None else tier.cadence
        if setting == "off":
            continue
        learned = learned_cadence(i.at for i in items)
        cadence = setting if isinstance(setting, timedelta) else learned
        if cadence is None:
            continue
        last = items[-1].at
        gap = now - last
        due = last + cadence * RECONNECT_AFTER
        if due > now or gap > cadence * DORMANT_FACTOR:
            continue
        address = names.get(contact, Address(contact))
        source = (
            "learned from your history" if cadence is learned else f"set by {_setter(tier, rule)}"
        )
        out.append(
            Suggestion(
                key=NudgeKey(Origin.RECONNECT, f"{contact}:{last:%Y-%m-%d}"),
                contact=address,
                title=f"Reconnect with {address.display()} — last in touch "
                f"{ago(last, now, zone)} (usually every {format_duration(cadence)})",
                why=f"You were in touch every {format_duration(cadence)} ({source}, "
                f"{len(items)} touches); the last was {_last_touch(items[-1], zone)}.",
                action=ACTIONS[Origin.RECONNECT],
                due=due,
                priority=_priority(tier, due, cadence, now),
                tier=tier.name,
                rule=_rule_name(tier, rule),
                evidence=f"cadence {format_duration(cadence)}; last contact {day(last, zone)}",
            )
        )
    return out


def _setter(tier: Tier, rule: ContactRule | None) -> str:
    """Which rule fixed a cadence: the contact's own rule, or else their tier."""
    if rule is not None and rule.cadence is not None:
        return f"the contacts rule {rule.where}"
    return f"tier {tier.name}"


def _last_touch(item: Interaction, zone: tzinfo) -> str:
    what = {"in": "their mail", "out": "your mail", "meeting": "a meeting"}[item.kind]
    return f"{what} on {item.at.astimezone(zone):%a %d %b %Y}"
