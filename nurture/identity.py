"""Which stored mail is one message, and which of it is the user's. Pure, no I/O.

The detectors key everything by `Message.message_id`: threads, signals, the nudge's
key. Three things in real mailboxes would make that key lie, and are settled here,
before the detectors run:

1. **Two messages, one Message-ID.** A broken mailer, or someone who wants a task of
   theirs to borrow a trusted name, sends another message under a Message-ID already
   stored. Copies of one message (Sent and All Mail, two accounts, a list's copy)
   share their Date header; a different message almost never does. So a message's
   *identity* is its Message-ID when it was the first stored under it with its Date
   (`sent_at`), and otherwise the Message-ID with ``#`` and its Date
   (`identity`): its own signals, thread and key, never another's. The first comer
   keeps the plain Message-ID for good (`State` records it), so the keys of tasks
   already on the calendar stay valid. A reply's In-Reply-To names a Message-ID,
   and so joins the first comer's thread.

2. **One message, two Message-IDs.** The same text sent twice (resent, or stored
   twice), hours apart, from one sender with one subject, in answer to the same
   message (or to none), made two tasks. `fold_copies` keeps one of them (the one a
   task already rests on, else the first) and points replies to either at it, so a
   reply to either answers it. The text is compared by a hash the analysis stores
   (`text_hash`), never by the text.

3. **The user's own mail.** A message in the inbox with the user's address in From:
   and In-Reply-To: a question counted as the user's reply and removed its task.
   The user's mail is the mail in their sent folder (IMAP's \\Sent, Gmail's SENT
   label, Exchange's and Graph's Sent Items), or filed by them (archive, other
   folders, trash). Mail *delivered* to them (inbox, junk) that claims their address
   is left out (`claims_the_user`): a forgery, or a copy of what they sent whose sent
   copy counts already. An account with no sent mail at all (a lone mbox, a mailing
   list's archive) has nothing better than From:, so there it is believed: leaving
   it out would turn every answered question of such a mailbox into a wrong task.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from .contacts import Identity, normalise
from .headers import parse_date
from .model import FolderRole, Message, NudgeKey, Origin, Signals

# Copies of one text further apart than this are asked again, not stored twice: a
# weekly "could you approve the timesheet?" is a new ask each week.
COPY_WINDOW = timedelta(days=3)
# The origins whose key is a message's identity (``reply:<identity>``).
MESSAGE_ORIGINS = frozenset({Origin.REPLY, Origin.FOLLOW_UP, Origin.PROMISE, Origin.RECOVER})
_DELIVERED = frozenset({FolderRole.INBOX, FolderRole.JUNK})


def sent_at(message: Message) -> int:
    """When the message says it was written: its Date header in unix seconds (the same
    in every copy), else the date its connector gave."""
    when = parse_date(message.headers.get("date"), message.date)
    return int(when.timestamp())


def identity(message_id: str, sent: int, first: int | None) -> str:
    """The identity of a message with `message_id` written at `sent`, when the first
    message stored under that Message-ID was written at `first` (None: this is it)."""
    if first is None or first == sent:
        return message_id
    return f"{message_id}#{datetime.fromtimestamp(sent, UTC):%Y%m%dT%H%M%SZ}"


_DATED = re.compile(r"#\d{8}T\d{6}Z\Z")  # what `identity` appends to a Message-ID


def header_id(identity: str) -> str:
    """The Message-ID of the message whose identity is `identity`: what to show the user
    (its header says it; ``MSGID#20261117T080000Z`` is nurture's own). The identity
    stays the key of signals, threads and nudges."""
    return _DATED.sub("", identity)


NO_TEXT = "-"  # the text hash of a message read and found to have no text of its own


def text_hash(text: str) -> str:
    """A hash of a message's own text (case and spacing folded), to tell copies apart
    without keeping the text; `NO_TEXT` for a message with no text of its own."""
    folded = " ".join(text.split()).casefold()
    return hashlib.sha256(folded.encode()).hexdigest()[:16] if folded else NO_TEXT


def claims_the_user(message: Message, user: Identity, with_sent: Collection[str]) -> bool:
    """Mail delivered to the user (inbox, junk) that says it is from the user, in an
    account whose sent folder holds their real mail: not taken as the user's."""
    return message.folder in _DELIVERED and message.account in with_sent and user.outbound(message)


def own_mail(
    messages: Iterable[Message], user: Identity, with_sent: Collection[str]
) -> list[Message]:
    """`messages` without those that only claim to be the user's (`claims_the_user`)."""
    return [m for m in messages if not claims_the_user(m, user, with_sent)]


def known_identities(keys: Iterable[str]) -> set[str]:
    """The message identities that ledger `keys` rest on (``reply:<identity>`` ...)."""
    found = set()
    for key in keys:
        try:
            parsed = NudgeKey.parse(key)
        except ValueError:
            continue
        if parsed.origin in MESSAGE_ORIGINS:
            found.add(parsed.ref)
    return found


def fold_copies(
    messages: Sequence[Message], signals: Mapping[str, Signals], known: Collection[str] = ()
) -> list[Message]:
    """`messages` with each copy of a text folded into one message (point 2 above).

    Copies: one sender, one subject, one message answered (the same "Thanks, done!" to
    two questions is two answers), one text hash, within `COPY_WINDOW` of the first.
    The one kept is the copy a ledger entry already rests on (in `known`), else the
    first; the others are left out, and a reference to them points at the one kept.
    """
    groups: dict[tuple[str, str, str, str], list[Message]] = {}
    for m in messages:
        found = signals.get(m.message_id)
        if found is None or found.text_hash in ("", NO_TEXT):
            continue
        subject = " ".join(m.subject.split()).casefold()
        what = (normalise(m.sender.email), subject, m.in_reply_to, found.text_hash)
        groups.setdefault(what, []).append(m)
    alias: dict[str, str] = {}
    for group in groups.values():
        firsts: dict[str, datetime] = {}
        for m in sorted(group, key=lambda m: (m.date, m.message_id)):
            firsts.setdefault(m.message_id, m.date)
        if len(firsts) > 1:
            alias.update(_fold(list(firsts.items()), known))
    if not alias:
        return list(messages)
    kept = []
    for m in messages:
        if m.message_id in alias:
            continue
        refs = tuple(alias.get(r, r) for r in m.references)
        answers = alias.get(m.in_reply_to, m.in_reply_to)
        if refs != m.references or answers != m.in_reply_to:
            m = replace(m, references=refs, in_reply_to=answers)
        kept.append(m)
    return kept


def _fold(dated: list[tuple[str, datetime]], known: Collection[str]) -> dict[str, str]:
    """Copy → the identity kept, for one sender's one text (identities oldest first)."""
    alias: dict[str, str] = {}
    start = 0
    while start < len(dated):
        end = start + 1
        while end < len(dated) and dated[end][1] - dated[start][1] <= COPY_WINDOW:
            end += 1
        run = [ident for ident, _ in dated[start:end]]
        keep = next((ident for ident in run if ident in known), run[0])
        alias.update({ident: keep for ident in run if ident != keep})
        start = end
    return alias
