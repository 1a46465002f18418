"""The plain data that flows between nurture's stages.

Every record is a frozen dataclass with slots. Datetimes are timezone-aware
(UTC inside the core); a naive datetime never passes the connector boundary,
which `aware()` enforces where data enters.

Terms used throughout:

- *message id*: the connector's own stable id of one message in one account
  (a Maildir file name, an IMAP folder+UID, a Gmail id). Unique per account.
- *Message-ID*: the RFC 5322 header, normalised without angle brackets; it links
  replies to what they answer across folders and accounts.
- *key*: a suggestion's stable identity, e.g. ``reply:<message-id>``. A calendar
  task's UID is derived from its key, so the same nudge is always the same task.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

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


class Direction(enum.StrEnum):
    """Whether the user received or sent a message (decided by the core)."""

    IN = "in"
    OUT = "out"


class FolderRole(enum.StrEnum):
    """What a folder means to nurture; connectors map their folders to these."""

    INBOX = "inbox"
    SENT = "sent"
    ARCHIVE = "archive"
    JUNK = "junk"
    TRASH = "trash"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Message:
    """The metadata of one message, as a connector delivers it.

    `headers` carries the header fields that header rules look at (List-Id,
    Auto-Submitted, Precedence, Content-Type, ...), lower-cased names.
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

    def __post_init__(self) -> None:
        if self.date.tzinfo is not UTC:  # from the state store it is UTC already
            object.__setattr__(self, "date", aware(self.date, field_name=f"date of {self.id}"))

    @property
    def recipients(self) -> tuple[Address, ...]:
        return self.to + self.cc


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

    @property
    def ask_score(self) -> float:
        return max((a.score for a in self.asks), default=0.0)


class Kind(enum.StrEnum):
    """The four nudges, and the weekly report event (`nurture.digest`; not a nudge)."""

    REPLY = "reply"
    FOLLOW_UP = "follow-up"
    RECONNECT = "reconnect"
    RECOVER = "recover"
    REPORT = "report"


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A nudge the detectors found and the rules kept.

    `due` is when it becomes worth doing; `evidence` is the sentence or fact
    that triggered it; `rule` names the rule that set the tier and window.
    """

    key: str
    kind: Kind
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
    `digest` is the content digest nurture wrote into the task, when the
    connector can store it, so changes by the user can be told from ours.
    """

    key: str
    uid: str
    start: datetime
    end: datetime
    status: TaskStatus = TaskStatus.OPEN
    ref: str = ""
    digest: str = ""
    title: str = ""
