"""The four detectors: reply, follow up, reconnect, recover. Pure: data and `now` in,
suggestions out; no I/O.

Each detector reads threads (who wrote last), the cached NLP signals, the
meetings seen on the calendar and the rulebook (tiers, windows, ignores). A
suggestion exists only while its reason holds, so when the user replies or the
contact writes back, the next run simply does not produce it and the planner
removes the task.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from .contacts import Identity, Interaction, interactions, learned_cadence, normalise, two_way
from .durations import ago, day, format_duration, moment
from .model import Address, CalendarEvent, Message, NudgeKey, Origin, Signals, Suggestion
from .nlp import header_verdict
from .rules import ContactRule, Rulebook, Tier
from .threads import Thread, build

ASK_MIN = 0.5
UPSET_MIN = 0.7  # tone is a soft signal: only clear upset earns a recover nudge
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


@dataclass(slots=True)
class _Context:
    inputs: Inputs
    threads: list[Thread]
    skip: dict[str, str] = field(default_factory=dict)  # message_id → why ignored

    def tier(self, address: str) -> tuple[Tier, ContactRule | None]:
        return self.inputs.rules.match_contact(address)

    def signals(self, message: Message) -> Signals:
        return self.inputs.signals.get(message.message_id, Signals())


def ignore_reason(message: Message, signals: Signals | None, rules: Rulebook) -> str:
    """Why a message never counts (automated by headers or NLP, or a rule), or ""."""
    if rules.ignore.automated:
        verdict = (signals.automated if signals else None) or header_verdict(message)
        if verdict is not None:
            return f"automated ({verdict.value})"
    return rules.ignored(message.sender, message.subject)


def candidates(
    messages: Sequence[Message], identity: Identity, rules: Rulebook, now: datetime
) -> list[Message]:
    """Messages whose text the NLP must read: only those that could become a nudge.

    Inbound mail waiting for the user (nothing from the user after it in its
    thread) and the user's own latest mail in each thread, within the window
    after which nudges are forgotten; never automated or ignored mail.
    """
    horizon = now - rules.tasks.forget_after
    picked = []
    for thread in build([m for m in messages if m.date >= horizon - THREAD_CONTEXT]):
        user_after = False
        other_after = False
        for m in reversed(thread.messages):
            if m.date < horizon:
                break
            if ignore_reason(m, None, rules):
                continue
            outbound = identity.outbound(m)
            if outbound and not other_after:
                picked.append(m)  # may ask a question or promise something
            elif not outbound and not user_after:
                picked.append(m)  # waiting for the user: may ask something, or be upset
            user_after |= outbound
            other_after |= not outbound
    return picked


def detect(inputs: Inputs) -> list[Suggestion]:
    """Every nudge that holds at `inputs.now`, one per key, highest priority first."""
    now = inputs.now
    recent = [m for m in inputs.messages if m.date >= now - LOOKBACK]
    ctx = _Context(inputs, build(recent))
    for m in recent:
        reason = ignore_reason(m, inputs.signals.get(m.message_id), inputs.rules)
        if reason:
            ctx.skip[m.message_id] = reason
    found: list[Suggestion] = []
    found += _replies_and_recover(ctx)
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


def _addressed(message: Message, identity: Identity, signals: Signals) -> bool:
    """The user is on To, or only on Cc but named or greeted in the text."""
    if any(identity.is_user(a) for a in message.to):
        return True
    return any(identity.is_user(a) for a in message.cc) and signals.greets_user


def _rule_name(tier: Tier, rule: ContactRule | None) -> str:
    return f"contacts {rule.where} → tier {tier.name}" if rule else f"tier {tier.name} (default)"


def _replies_and_recover(ctx: _Context) -> list[Suggestion]:
    inputs, identity, now = ctx.inputs, ctx.inputs.identity, ctx.inputs.now
    forget = inputs.rules.tasks.forget_after
    out = []
    for thread in ctx.threads:
        waiting: list[Message] = []
        for m in reversed(thread.messages):
            if identity.outbound(m):
                break
            waiting.append(m)
        for m in waiting:
            if m.message_id in ctx.skip or now - m.date > forget:
                continue
            sig = ctx.signals(m)
            tier, rule = ctx.tier(m.sender.email)
            if sig.upset >= UPSET_MIN and tier.recover and now - m.date <= UPSET_RECENT:
                out.append(_recover(ctx, m, sig, tier, rule))
                continue
            if sig.ask_score < ASK_MIN or not _addressed(m, identity, sig):
                continue
            if m is not waiting[0] and any(
                ctx.signals(later).ask_score >= ASK_MIN for later in waiting[: waiting.index(m)]
            ):
                continue  # one reply answers the thread: nudge for its newest ask only
            due = m.date + tier.reply_within
            if due > now:
                continue
            ask = max(sig.asks, key=lambda a: a.score)
            age = ago(m.date, now, inputs.rules.work.zone)
            out.append(
                Suggestion(
                    key=NudgeKey(Origin.REPLY, m.message_id),
                    contact=m.sender,
                    title=f'Reply to {m.sender.display()} — "{_subject(m)}"',
                    why=f"{m.sender.display()} asked {age} and is waiting for your answer "
                    f"(reply window for tier {tier.name}: {format_duration(tier.reply_within)}).",
                    action=ACTIONS[Origin.REPLY],
                    due=due,
                    priority=_priority(tier, due, tier.reply_within, now, 0.25),
                    tier=tier.name,
                    rule=_rule_name(tier, rule),
                    evidence=ask.sentence,
                    subject=m.subject,
                    thread_link=m.link,
                    message_id=m.message_id,
                )
            )
    return out


def _recover(
    ctx: _Context, m: Message, sig: Signals, tier: Tier, rule: ContactRule | None
) -> Suggestion:
    now = ctx.inputs.now
    contact = normalise(m.sender.email)
    upset_again = sum(
        1
        for other in ctx.inputs.messages
        if normalise(other.sender.email) == contact
        and now - other.date <= timedelta(days=30)
        and ctx.signals(other).upset >= UPSET_MIN
    )
    action = ACTIONS[Origin.RECOVER]
    if upset_again >= 2 and rule is not None and rule.escalation:
        action += (
            f" They have been unhappy {upset_again} times this month: consider bringing "
            f"in {rule.escalation}."
        )
    quote = sig.upset_sentence or _subject(m)
    return Suggestion(
        key=NudgeKey(Origin.RECOVER, m.message_id),
        contact=m.sender,
        title=f'Call {m.sender.display()} — upset: "{_short(quote)}"',
        why=f"{m.sender.display()} sounds {_upset_words(sig.upset)} and has not heard "
        f"from you since {day(m.date, ctx.inputs.rules.work.zone)}.",
        action=action,
        due=m.date,
        priority=_priority(tier, m.date, tier.reply_within, now, 1.0 + sig.upset),
        tier=tier.name,
        rule=_rule_name(tier, rule),
        evidence=sig.upset_sentence,
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


def _follow_ups(ctx: _Context) -> list[Suggestion]:
    inputs, identity, now = ctx.inputs, ctx.inputs.identity, ctx.inputs.now
    out = []
    for thread in ctx.threads:
        last = thread.last
        if not identity.outbound(last) or last.message_id in ctx.skip:
            continue
        sig = ctx.signals(last)
        contact = _main_recipient(last, identity)
        if contact is None or sig.ask_score < ASK_MIN:
            continue
        tier, rule = ctx.tier(contact.email)
        due = last.date + tier.follow_up_after
        if due > now or now - last.date > inputs.rules.tasks.forget_after:
            continue
        ask = max(sig.asks, key=lambda a: a.score)
        out.append(
            Suggestion(
                key=NudgeKey(Origin.FOLLOW_UP, last.message_id),
                contact=contact,
                title=f"Follow up with {contact.display()} — {_subject(last)} "
                f"(sent {ago(last.date, now, inputs.rules.work.zone)})",
                why=f"You asked {contact.display()} on {day(last.date, inputs.rules.work.zone)} "
                "and nobody has "
                f"answered (follow-up window for tier {tier.name}: "
                f"{format_duration(tier.follow_up_after)}).",
                action=ACTIONS[Origin.FOLLOW_UP],
                due=due,
                priority=_priority(tier, due, tier.follow_up_after, now),
                tier=tier.name,
                rule=_rule_name(tier, rule),
                evidence=ask.sentence,
                subject=last.subject,
                thread_link=last.link,
                message_id=last.message_id,
            )
        )
    return out


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
        recapped = any(
            identity.outbound(m)
            and m.date >= meeting.start
            and emails & {normalise(a.email) for a in m.recipients}
            for m in inputs.messages
        )
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
