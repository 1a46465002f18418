"""Hand-made mail for the detection tests: Alex Morgan's correspondents and a builder.

Every message here is the project's own. `letter()` numbers Message-IDs so tests can
thread replies; `signals()` makes the NLP's output for a message without the NLP.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from nurture.contacts import Identity
from nurture.model import Address, Ask, Message, Signals
from nurture.rules import ContactRule, Rulebook, Tasks, Tier, Work

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday
D = timedelta(days=1)
H = timedelta(hours=1)
ME = Address("alex@brightpath.example", "Alex Morgan")
DANA = Address("dana@client.example", "Dana Lee")
SAM = Address("sam@other.example", "Sam Ortiz")
MAUREEN = Address("maureen.hale@client.example", "Maureen Hale")
PRIYA = Address("priya@brightpath.example", "Priya Shah")
TEAM = Address("support@brightpath.example", "Support")
IDENTITY = Identity((ME.email,), ("Alex Morgan", "Alex"))
SHARED = Identity((ME.email,), ("Alex Morgan", "Alex"), (TEAM.email,))
RULES = Rulebook(
    tiers={
        "client": Tier("client", weight=2.0, reply_within=2 * D, follow_up_after=4 * D),
        "default": Tier("default", reply_within=3 * D, follow_up_after=7 * D),
    },
    contacts=(ContactRule(("*@client.example",), "client", where="contacts.toml:1"),),
    work=Work(timezone="UTC"),
    tasks=Tasks(),
)

_numbers = itertools.count(1)


def letter(
    sender: Address,
    to: Address | tuple[Address, ...],
    at: datetime,
    *,
    subject: str = "Q3 renewal",
    cc: tuple[Address, ...] = (),
    reply_to: Message | None = None,
    headers: dict[str, str] | None = None,
    threaded: bool = True,
) -> Message:
    """One message; `reply_to` threads it (In-Reply-To and References) unless not
    `threaded` (an Outlook-era reply: "RE:" subject, no threading headers)."""
    n = next(_numbers)
    refs: tuple[str, ...] = ()
    parent = ""
    if reply_to is not None and threaded:
        refs = (*reply_to.references, reply_to.message_id)
        parent = reply_to.message_id
    return Message(
        id=f"mail\x1f{n}",
        message_id=f"l{n}@letters.example",
        date=at,
        sender=sender,
        to=to if isinstance(to, tuple) else (to,),
        cc=cc,
        subject=subject,
        in_reply_to=parent,
        references=refs,
        headers=headers or {},
        account="mail",
    )


def asking(sentence: str = "Could you send me the renewal pricing?", score: float = 0.9) -> Signals:
    """What the NLP finds in a message that asks one thing."""
    return Signals(asks=(Ask(sentence, score),), version="test")


def plain() -> Signals:
    """What the NLP finds in a message that asks nothing."""
    return Signals(version="test")


def correspondence(
    days: int = 150, end: datetime = NOW
) -> tuple[list[Message], dict[str, Signals]]:
    """A season of Alex's mail, and what the NLP would find in it.

    Dana (a client) asks something every other day and Alex answers each within hours;
    Sam writes every third day and Alex never answers; Alex asks Dana things weekly
    and she answers within a day. Deterministic: the same mail on every call.
    """
    messages: list[Message] = []
    signals: dict[str, Signals] = {}
    start = end - days * D
    for day in range(0, days, 2):
        at = start + day * D + (9 + day % 5) * H
        ask = letter(DANA, ME, at, subject=f"Order {day}")
        messages.append(ask)
        signals[ask.message_id] = asking(f"Could you confirm order {day}?")
        if at + 12 * H < end:
            answer = letter(
                ME, DANA, at + (2 + day % 7) * H, subject=f"Re: Order {day}", reply_to=ask
            )
            messages.append(answer)
    for day in range(1, days, 3):
        at = start + day * D + 14 * H
        note = letter(SAM, ME, at, subject=f"Offer {day}")
        messages.append(note)
        signals[note.message_id] = asking(f"Would you like to see offer {day}?", 0.7)
    for day in range(3, days, 7):
        at = start + day * D + 10 * H
        question = letter(ME, DANA, at, subject=f"Forecast {day}")
        messages.append(question)
        signals[question.message_id] = asking(f"Could you send the forecast for week {day}?")
        if at + 20 * H < end:
            messages.append(
                letter(
                    DANA,
                    ME,
                    at + (4 + day % 11) * H,
                    subject=f"Re: Forecast {day}",
                    reply_to=question,
                )
            )
    messages.sort(key=lambda m: m.date)
    return messages, signals
