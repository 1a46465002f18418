"""The plain data that flows between nurture's stages.

Every record is a frozen dataclass with slots. Datetimes are timezone-aware
(UTC inside the core); a naive datetime never passes the connector boundary,
which `aware()` enforces where data enters.

Terms used throughout:

- *message id*: the connector's own stable id of one message in one account
  (a Maildir file name, an IMAP folder+UID, a Gmail id). Unique per account.
- *Message-ID*: the RFC 5322 header, normalised without angle brackets; it links
  replies to what they answer across folders and accounts.
- *identity*: what `Message.message_id` holds once stored: the Message-ID, or, for a
  second message under a Message-ID another message had first, that Message-ID with
  ``#`` and its Date (`nurture.identity`), so no message is ever taken for another.
- *message ref*: where a stored message lives, `MessageRef(account, id)`: the
  account's name in config.toml and the connector's message id in it.
- *key*: a suggestion's stable identity, e.g. ``reply:<message-id>`` (a `NudgeKey`).
  A calendar task's UID is derived from its key, so the same nudge is always the
  same task.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

UTC = UTC

# Header fields a connector copies into `Message.headers` (names lower-cased,
# values unfolded) so header rules can judge a message before its body is read.
# IMAP fetches exactly these with BODY.PEEK[HEADER.FIELDS (...)].
RULE_HEADERS: tuple[str, ...] = (
    "date",
    "list-id",
    "list-unsubscribe",
    "list-post",
    "precedence",
    "auto-submitted",
    "x-auto-response-suppress",
    "x-autoreply",
    "x-autorespond",
    "content-type",
    "return-path",
    "feedback-id",
    "x-mailer",
    "x-ms-exchange-generated-message-source",
    "x-ms-exchange-organization-autoreplied",
    "reply-to",
)


def aware(value: datetime, *, field_name: str = "datetime") -> datetime:
    """Return `value` in UTC; refuse a naive datetime (a connector bug)."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{field_name} must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True, order=True)
class Address:
    """A mail address, normalised to lower case, with its display name."""

    email: str
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "email", self.email.strip().lower())

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]

    def display(self) -> str:
        return self.name or self.email


class FolderRole(enum.StrEnum):
    """What a folder means to nurture; connectors map their folders to these."""

    INBOX = "inbox"
    SENT = "sent"
    ARCHIVE = "archive"
    JUNK = "junk"
    TRASH = "trash"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where a stored message lives: its account, and the connector's id in that account."""

    account: str
    id: str


@dataclass(frozen=True, slots=True)
class Message:
    """The metadata of one message, as a connector delivers it.

    `id` is the connector's own id; `account` is empty from a connector and set by
    the state store, which keeps every account's mail (see `ref`). `message_id` is
    the Message-ID from a connector and the message's identity from the state store. `headers`
    carries the header fields that header rules look at (List-Id, Auto-Submitted,
    Precedence, Content-Type, ...), lower-cased names.
    """

    id: str
    message_id: str
    date: datetime
    sender: Address
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    subject: str = ""
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    folder: FolderRole = FolderRole.INBOX
    headers: Mapping[str, str] = field(default_factory=dict)
    link: str = ""
    account: str = ""

    def __post_init__(self) -> None:
        if self.date.tzinfo is not UTC:  # from the state store it is UTC already
            object.__setattr__(self, "date", aware(self.date, field_name=f"date of {self.id}"))

    @property
    def recipients(self) -> tuple[Address, ...]:
        return self.to + self.cc

    @property
    def ref(self) -> MessageRef:
        return MessageRef(self.account, self.id)


@dataclass(frozen=True, slots=True)
class Body:
    """A message's content for analysis. Held in memory only, never stored.

    Connectors give `raw` (RFC 822 bytes) where they can, else `text`/`html`.
    """

    raw: bytes | None = None
    text: str | None = None
    html: str | None = None


class Automated(enum.StrEnum):
    """Why a message is machine-sent and never worth a nudge."""

    LIST = "list"
    BULK = "bulk"
    AUTO_REPLY = "auto-reply"
    OUT_OF_OFFICE = "out-of-office"
    BOUNCE = "bounce"
    RECEIPT = "receipt"
    NOTIFICATION = "notification"
    INVITATION = "invitation"
    NO_REPLY = "no-reply"


@dataclass(frozen=True, slots=True)
class Ask:
    """A sentence that asks something of the reader, with the detector's score."""

    sentence: str
    score: float


@dataclass(frozen=True, slots=True)
class Commitment:
    """A promise the writer made, with its resolved due time (None: no date given)."""

    sentence: str
    due: datetime | None
    score: float = 1.0


@dataclass(frozen=True, slots=True)
class Signals:
    """What the NLP found in one message. Computed once and cached in state.

    `automated` is set by header rules before any text is read; messages with
    it set are not analysed further. `version` names the analyser that made
    the signals, so a better analyser can recompute them.
    """

    automated: Automated | None = None
    asks: tuple[Ask, ...] = ()
    commitments: tuple[Commitment, ...] = ()
    upset: float = 0.0
    upset_sentence: str = ""
    greets_user: bool = False
    version: str = ""
    # 0..1: the writer says they asked before and still wait ("my third email", "two
    # weeks without an answer"); with the thread (inbound again, no reply between) it
    # marks an escalating contact.
    chaser: float = 0.0
    # A hash of the message's own text (`identity.text_hash`), never the text: it
    # tells a message stored twice under two Message-IDs from two messages.
    text_hash: str = ""
    # What repeats tells (`nurture.repeats`): the SimHash of the newest text, and a short
    # hash of each asking sentence (in the order of `asks`). Kept when the sentences are
    # cleared; neither gives the words back.
    fingerprint: str = ""
    sentence_keys: tuple[str, ...] = ()
    # The other recipient the message opens by greeting ("Hi Maureen,"), when it is
    # not the user: its asks are for them.
    addressee: str = ""
    # Whether the text is about code or a text under review (`nlp.tone.technical`): its
    # critique can sound mildly upset, which must not read as a contact escalating.
    technical: bool = False

    @property
    def ask_score(self) -> float:
        return max((a.score for a in self.asks), default=0.0)


class Kind(enum.StrEnum):
    """What a task of nurture's is: one of the four nudges, or one of nurture's own
    entries (the weekly report event, `nurture.weekly`; one day's digest of nudges,
    ``grouping = "digest"``). The ledger and its history count by it."""

    REPLY = "reply"
    FOLLOW_UP = "follow-up"
    RECONNECT = "reconnect"
    RECOVER = "recover"
    REPORT = "report"
    DIGEST = "digest"

    @property
    def label(self) -> str:
        """The word a user reads, as the README's table of nudges names it ("follow up")."""
        return self.value.replace("-", " ")


class Origin(enum.StrEnum):
    """What made a suggestion: the first part of its key. Finer than `Kind`: a kept
    promise is a follow-up and a missing recap is a recovery, each with its own words."""

    REPLY = "reply"
    FOLLOW_UP = "follow-up"
    PROMISE = "promise"
    RECONNECT = "reconnect"
    RECOVER = "recover"
    RECAP = "recap"
    REPORT = "report"
    DIGEST = "digest"

    @property
    def kind(self) -> Kind:
        return _KIND_OF[self]

    @property
    def signal(self) -> str:
        """The signal the suggestion rests on, as `nurture explain` and the report name it."""
        return _SIGNAL_OF[self]

    @property
    def label(self) -> str:
        """The word a user reads: its kind, with the finer origin in brackets where it
        says more ("follow up (promise)", "recover (recap)")."""
        kind = self.kind
        return kind.label if self.value == kind.value else f"{kind.label} ({self.value})"


_KIND_OF = {
    Origin.REPLY: Kind.REPLY,
    Origin.FOLLOW_UP: Kind.FOLLOW_UP,
    Origin.PROMISE: Kind.FOLLOW_UP,
    Origin.RECONNECT: Kind.RECONNECT,
    Origin.RECOVER: Kind.RECOVER,
    Origin.RECAP: Kind.RECOVER,
    Origin.REPORT: Kind.REPORT,
    Origin.DIGEST: Kind.DIGEST,
}
_SIGNAL_OF = {
    Origin.REPLY: "asks",
    Origin.FOLLOW_UP: "asks",
    Origin.PROMISE: "commitments",
    Origin.RECONNECT: "cadence",
    Origin.RECOVER: "tone",
    Origin.RECAP: "meeting",
    Origin.REPORT: "report",
    Origin.DIGEST: "digest",
}


class NudgeKey(str):
    """A suggestion's stable identity: ``<origin>:<ref>``.

    ``reply:<Message-ID>``, ``promise:<Message-ID>``, ``recap:<uid>:<start>``,
    ``reconnect:<address>:<date>``, ``report:2026-W48``, ``digest:2026-11-23``.
    It is a `str`, because the text is what the ledger, the history and the
    calendar marker hold and what every mapping of tasks is keyed by; its parts
    are read here and nowhere else.
    """

    __slots__ = ()

    def __new__(cls, origin: Origin, ref: str) -> NudgeKey:
        return super().__new__(cls, f"{origin.value}:{ref}")

    @classmethod
    def parse(cls, text: str) -> NudgeKey:
        """The key `text` names; ValueError when its first part is no `Origin`."""
        head, sep, ref = text.partition(":")
        if not sep:
            raise ValueError(f"{text!r} is not a nurture key (no origin before a colon)")
        return cls(Origin(head), ref)

    @property
    def origin(self) -> Origin:
        return Origin(self.partition(":")[0])

    @property
    def ref(self) -> str:
        """What the key points at: a Message-ID, an address and date, a week, a day."""
        return self.partition(":")[2]

    @property
    def kind(self) -> Kind:
        return self.origin.kind


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A nudge the detectors found and the rules kept.

    `due` is when it becomes worth doing; `evidence` is the sentence or fact
    that triggered it; `rule` names the rule that set the tier and window.
    """

    key: NudgeKey
    contact: Address
    title: str
    why: str
    action: str
    due: datetime
    priority: float
    tier: str = "default"
    rule: str = ""
    evidence: str = ""
    subject: str = ""
    thread_link: str = ""
    message_id: str = ""
    # The personal model's "needs your reply" (or "expects an answer") probability,
    # None when it did not decide (too little history, or another kind of nudge), and
    # what carried it, in words ("you answer Dana within a day 9 times in 10").
    probability: float | None = None
    reasons: tuple[str, ...] = ()
    # A reply nudge covers one person: the Message-IDs of their older open messages
    # that wait with the one it names, oldest first.
    waiting: tuple[str, ...] = ()

    @property
    def kind(self) -> Kind:
        return self.key.kind


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """A busy block or meeting read from a calendar (recurrences expanded)."""

    uid: str
    start: datetime
    end: datetime
    summary: str = ""
    all_day: bool = False
    busy: bool = True
    organizer: Address | None = None
    attendees: tuple[Address, ...] = ()
    cancelled: bool = False


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class CalendarTask:
    """A task nurture wants on the calendar (desired state)."""

    key: str
    uid: str
    title: str
    description: str
    start: datetime
    end: datetime
    kind: Kind
    todo: bool = False
    free: bool = True
    url: str = ""

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A task of nurture's as read back from the calendar (actual state).

    `ref` is the connector's handle for updates and deletes (href + etag,
    event id, item id + change key); the core treats it as opaque.
    `content_hash` is the hash of the content nurture wrote into the task
    (`connector.task_hash`), when the connector can store it, so changes by the
    user can be told from ours.
    """

    key: str
    uid: str
    start: datetime
    end: datetime
    status: TaskStatus = TaskStatus.OPEN
    ref: str = ""
    content_hash: str = ""
    title: str = ""


class LedgerState(enum.StrEnum):
    """Where one suggestion key stands across runs (the ledger's `state`)."""

    CREATING = "creating"  # written ahead of the calendar write, to adopt it after a crash
    ACTIVE = "active"  # on the calendar
    DISMISSED = "dismissed"  # the user deleted it: never again for this key
    DONE = "done"  # completed (a past week's report event is done too)
    RESOLVED = "resolved"  # the reason went away; the task was removed

    @property
    def final(self) -> bool:
        """The user's decision, which stands whatever the detectors say later."""
        return self in (LedgerState.DISMISSED, LedgerState.DONE)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """What nurture knows about one suggestion key across runs.

    `start`/`end` are the times nurture last wrote, to tell a user's move;
    `content_hash` is the hash of what it wrote (`connector.task_hash`);
    `detail` holds what `nurture explain` shows (the why, the rule, the evidence).
    Made fresh by `LedgerEntry.new`, read back by the state store.
    """

    key: str
    kind: Kind
    contact: str
    uid: str
    state: LedgerState
    calendar: str
    start: datetime | None
    end: datetime | None
    content_hash: str
    ref: str
    title: str
    detail: dict[str, Any]
    created: datetime
    updated: datetime

    @classmethod
    def new(
        cls,
        key: str,
        uid: str,
        now: datetime,
        *,
        state: LedgerState = LedgerState.CREATING,
        calendar: str = "",
        contact: str = "",
    ) -> LedgerEntry:
        """The entry of a key nurture has not recorded before."""
        return cls(
            key=key,
            kind=NudgeKey.parse(key).kind,
            contact=contact,
            uid=uid,
            state=state,
            calendar=calendar,
            start=None,
            end=None,
            content_hash="",
            ref="",
            title="",
            detail={},
            created=now,
            updated=now,
        )
