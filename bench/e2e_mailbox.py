"""A real person's mailbox for the end-to-end benchmark: what they got, what they answered.

Reads a folder laid out like ``../shared/corpora/mailboxes/NAME/``: raw messages in
``m/*.eml`` and ``person.json`` (name, addresses, bots, cutoff_range). It knows three
things, decided here and not by nurture, so the instrument does not share nurture's
mistakes (only the decoding of header values is nurture's, `nurture.headers`):

- **the ground truth**: when the person answered each message. A message is answered
  by the person's message whose In-Reply-To or References holds it; In-Reply-To chains
  are followed upwards, so a reply to a later message of a branch answers the messages
  that branch descends from. The person's mail with no threading headers at all
  (Enron-era Outlook, Lotus Notes) answers the earlier messages of the same normalised
  subject whose sender it went to, within `FALLBACK_WINDOW`;
- **who is a human and who is addressed**: the person's addresses and bots come from
  person.json; RFC 3834 Auto-Submitted mail and daemon/no-reply senders are machines
  too. A message is *direct* when one of the person's addresses (or, with shared
  inboxes, one of those) is in its To or Cc;
- **the copy the person received**: an archive keeps the list's copy. The person got a
  direct copy of mail that names them, without the headers and footer the list adds;
  `replay()` gives those bytes, and the list's copy unchanged for list-only mail.
"""

from __future__ import annotations

import bisect
import fnmatch
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

from nurture.headers import addresses, decode, message_ids, parse_date

FALLBACK_WINDOW = timedelta(days=60)
HEAD_LIMIT = 256 * 1024  # header blocks longer than this are cut (never seen in real mail)

_PARSER = BytesHeaderParser(policy=compat32)
_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|sv|vs|antw|wg|tr|r|rif|res)\s*(?:\[\d+\])?\s*:\s*)+", re.I
)
_EMAIL = re.compile(r"[\w.+=-]+@[\w-]+(?:\.[\w-]+)+")  # in list headers' raw values
_MACHINE = re.compile(
    r"^(?:mailer-daemon|postmaster|mail-daemon|no[-_.]?reply|do[-_.]?not[-_.]?reply)(?:[-_.+].*)?@",
    re.I,
)


def normalise_subject(subject: str) -> str:
    """The subject without reply/forward prefixes, whitespace folded, lower case."""
    return " ".join(_PREFIX.sub("", subject).split()).lower()


def normalise_address(address: str) -> str:
    """Lower case, without a +tag: "Alex+News@X.org" → "alex@x.org"."""
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if local else address.strip().lower()


def _addresses(values: Sequence[object]) -> tuple[str, ...]:
    found = (normalise_address(a.email) for a in addresses([str(v) for v in values]))
    return tuple(dict.fromkeys(found))


def _date(value: object) -> datetime | None:
    missing = datetime.min.replace(tzinfo=UTC)
    when = parse_date(value, missing)
    return None if when is missing else when


def head_and_body(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """(header block, the blank line that ends it, body) of a raw message."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        cut = raw.find(sep)
        if cut != -1:
            return raw[:cut], sep, raw[cut + len(sep) :]
    return raw, b"", b""


@dataclass(frozen=True, slots=True)
class Mail:
    """What the benchmark needs of one message: threading, people, date, list marks."""

    path: Path
    message_id: str
    date: datetime
    sender: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    auto_submitted: str = ""
    list_id: str = ""  # List-Id, X-Mailing-List or Mailing-List: the list's copy
    own_id: bool = True  # False: the file had no Message-ID and the benchmark made one
    body_hash: str = ""  # of the body's words: tells copies from distinct mail

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.to + self.cc

    @property
    def copy_key(self) -> tuple[object, ...]:
        """Equal for copies of one message kept under different Message-IDs.

        Enron's folders hold the same mail in several folders (sent, sent_items,
        all_documents), each copy with a Message-ID of its own. The body counts: a
        script's reports can share sender, second and subject (seen on linux-man).
        """
        return (self.sender, self.date, self.subject, self.to, self.cc, self.body_hash)

    @property
    def parent(self) -> str:
        """The message this one answers: the last In-Reply-To, else the last Reference."""
        if self.in_reply_to:
            return self.in_reply_to[-1]
        return self.references[-1] if self.references else ""

    @property
    def threaded(self) -> bool:
        return bool(self.in_reply_to or self.references)


def read_mail(path: Path) -> Mail | None:
    """Parse one message file's headers; None when it has no usable Date."""
    raw = path.read_bytes()
    block, sep, _ = head_and_body(raw[:HEAD_LIMIT])
    body = raw[len(block) + len(sep) :]
    msg = _PARSER.parsebytes(block + b"\n\n")
    when = _date(msg.get("date"))
    if when is None:
        return None
    senders = _addresses(msg.get_all("from", []) or msg.get_all("sender", []) or [])
    own = message_ids(msg.get("message-id"))
    listed = ""
    for name in ("list-id", "x-mailing-list", "mailing-list", "list-post"):
        if msg.get(name):
            listed = decode(msg.get(name))
            break
    return Mail(
        path=path,
        message_id=own[0] if own else f"{path.stem}@e2e.invalid",
        date=when,
        sender=senders[0] if senders else "unknown@invalid",
        to=_addresses(msg.get_all("to", [])),
        cc=_addresses(msg.get_all("cc", [])),
        subject=decode(msg.get("subject")),
        in_reply_to=message_ids(msg.get("in-reply-to")),
        references=message_ids(msg.get("references")),
        auto_submitted=decode(msg.get("auto-submitted")).lower(),
        list_id=listed,
        own_id=bool(own),
        body_hash=hashlib.blake2b(b" ".join(body.split()), digest_size=8).hexdigest(),
    )


@dataclass(frozen=True, slots=True)
class Person:
    """person.json: who the mailbox belongs to, their machines, the cutoff range."""

    name: str
    addresses: tuple[str, ...]
    bots: tuple[str, ...] = ()
    cutoff_range: tuple[date, date] | None = None

    @classmethod
    def load(cls, path: Path) -> Person:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SystemExit(
                f"{path}: cannot read person.json ({exc}); see the mailbox README"
            ) from None
        addresses = data.get("addresses") or []
        if not isinstance(addresses, list) or not addresses:
            raise SystemExit(f"{path}: 'addresses' must list the person's mail addresses")
        span = data.get("cutoff_range")
        cutoffs = None
        if span:
            try:
                cutoffs = (date.fromisoformat(span[0]), date.fromisoformat(span[1]))
            except (TypeError, ValueError, IndexError):
                raise SystemExit(
                    f'{path}: cutoff_range must be ["YYYY-MM-DD", "YYYY-MM-DD"], got {span!r}'
                ) from None
        return cls(
            name=str(data.get("name", "")),
            addresses=tuple(a.strip().lower() for a in addresses),
            bots=tuple(b.strip().lower() for b in data.get("bots") or []),
            cutoff_range=cutoffs,
        )


def _matches(address: str, patterns: Iterable[str]) -> bool:
    plain = normalise_address(address)
    return any(plain == normalise_address(p) or fnmatch.fnmatchcase(address, p) for p in patterns)


@dataclass(slots=True)
class Mailbox:
    """The messages of one person, oldest first, with what the person answered and when."""

    folder: Path
    person: Person
    mails: list[Mail]
    shared: tuple[str, ...] = ()
    answered_at: dict[str, datetime] = field(default_factory=dict)
    skipped: int = 0  # files without a usable Date, and second copies of a message
    _addressed: list[Mail] | None = None  # human mail addressed to the person, oldest first
    _dates: list[datetime] = field(default_factory=list)
    _by_id: dict[str, Mail] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path, shared: Sequence[str] = ()) -> Mailbox:
        person = Person.load(folder / "person.json")
        files = sorted((folder / "m").glob("*.eml"))
        if not files:
            raise SystemExit(f"{folder}/m: no *.eml messages; see the mailbox README")
        seen: set[str] = set()
        copies: set[tuple[object, ...]] = set()
        mails = []
        skipped = 0
        for path in files:
            mail = read_mail(path)
            if mail is None or mail.message_id in seen or mail.copy_key in copies:
                skipped += 1
                continue
            seen.add(mail.message_id)
            copies.add(mail.copy_key)
            mails.append(mail)
        mails.sort(key=lambda m: (m.date, m.path.name))
        box = cls(folder, person, mails, tuple(a.lower() for a in shared), skipped=skipped)
        box.answered_at = ground_truth(mails, box.own)
        return box

    def by_id(self) -> dict[str, Mail]:
        """The messages by Message-ID."""
        if len(self._by_id) != len(self.mails):
            self._by_id = {m.message_id: m for m in self.mails}
        return self._by_id

    def own(self, mail: Mail) -> bool:
        return _matches(mail.sender, self.person.addresses)

    def human(self, mail: Mail) -> bool:
        """Not the person's, not a bot named in person.json, not a machine by its headers."""
        if self.own(mail) or _matches(mail.sender, self.person.bots):
            return False
        if mail.auto_submitted and mail.auto_submitted != "no":
            return False
        return not _MACHINE.match(mail.sender)

    def names_person(self, mail: Mail) -> bool:
        return any(_matches(a, self.person.addresses) for a in mail.recipients)

    def direct(self, mail: Mail) -> bool:
        """Addressed to the person: one of their addresses, or a shared inbox, in To/Cc."""
        if self.names_person(mail):
            return True
        return bool(self.shared) and any(_matches(a, self.shared) for a in mail.recipients)

    def labelled(self, cutoff: datetime, horizon: timedelta, after: timedelta) -> list[Label]:
        """The messages scored at `cutoff`, each with whether it is positive.

        Inbound, from a human, addressed to the person, dated before the cutoff and at
        most `horizon` old, not answered before the cutoff; positive when the person
        answered it within `after` of the cutoff.
        """
        if self._addressed is None:
            self._addressed = [m for m in self.mails if self.human(m) and self.direct(m)]
            self._dates = [m.date for m in self._addressed]
        first = bisect.bisect_left(self._dates, cutoff - horizon)
        last = bisect.bisect_left(self._dates, cutoff)
        out = []
        for mail in self._addressed[first:last]:
            answered = self.answered_at.get(mail.message_id)
            if answered is not None and answered < cutoff:
                continue
            out.append(Label(mail, answered is not None and answered < cutoff + after))
        return out

    def replay(self, mail: Mail) -> bytes:
        """The bytes the person's mailbox held: a direct copy for mail naming them."""
        raw = mail.path.read_bytes()
        if not mail.own_id:
            raw = f"Message-ID: <{mail.message_id}>\n".encode() + raw
        if self.own(mail) or self.names_person(mail):
            return direct_copy(raw)
        return raw


@dataclass(frozen=True, slots=True)
class Label:
    mail: Mail
    positive: bool


def ground_truth(mails: Sequence[Mail], is_own: Callable[[Mail], bool]) -> dict[str, datetime]:
    """Message-ID → when the person first answered it (see the module docstring).

    `mails` oldest first; `is_own` tells the person's messages.
    """
    by_id = {m.message_id: m for m in mails}
    answered: dict[str, datetime] = {}

    def mark(message_id: str, when: datetime) -> None:
        if message_id not in answered or when < answered[message_id]:
            answered[message_id] = when

    recent: dict[str, list[Mail]] = {}
    for mail in mails:  # oldest first
        if is_own(mail):
            if mail.threaded:
                stack = [*mail.references, *mail.in_reply_to]
                seen: set[str] = set()
                while stack:
                    target = stack.pop()
                    if target in seen or target == mail.message_id:
                        continue
                    seen.add(target)
                    mark(target, mail.date)
                    parent = by_id.get(target)
                    if parent is not None and parent.parent:
                        stack.append(parent.parent)
            else:
                to = set(mail.recipients)
                for earlier in recent.get(normalise_subject(mail.subject), ()):
                    if (
                        earlier.sender in to
                        and mail.date - earlier.date <= FALLBACK_WINDOW
                        and not is_own(earlier)
                    ):
                        mark(earlier.message_id, mail.date)
        key = normalise_subject(mail.subject)
        if key:
            recent.setdefault(key, []).append(mail)
    return answered


# --- the direct copy: what a list adds, taken off again ---------------------------

_LIST_FIELDS = frozenset(
    {
        "list-id",
        "list-post",
        "list-help",
        "list-subscribe",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "list-owner",
        "list-archive",
        "x-mailing-list",
        "mailing-list",
        "x-beenthere",
        "x-mailman-version",
        "x-mailman-rule-misses",
        "x-mailman-rule-hits",
        "errors-to",
        "x-list-administrivia",
        "archived-at",
    }
)
_LIST_PRECEDENCE = frozenset({"bulk", "list", "junk"})
_LIST_ROBOT = re.compile(r"(?:^owner-|-owner@|-bounces?[@+]|-request@|^majordomo@)", re.I)
_FIELD = re.compile(rb"^([!-9;-~]+)[ \t]*:", re.M)
_SEPARATOR = re.compile(r"^(?:-- ?|_{8,}|-=(?:-=)+-?|={8,}|-{8,})\s*$")
_FOOTER_WORDS = re.compile(
    r"unsubscribe|listinfo|mailing list|majordomo|you received this message because"
    r"|you are subscribed|groups\.io|list archive",
    re.I,
)
FOOTER_LINES = 12


def _fields(block: bytes) -> list[tuple[str, bytes]]:
    """The header block as (lower-case name, raw field with its folded lines)."""
    out: list[tuple[str, bytes]] = []
    for line in block.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and out:
            name, raw = out[-1]
            out[-1] = (name, raw + line)
            continue
        match = _FIELD.match(line)
        out.append((match.group(1).decode("ascii").lower() if match else "", line))
    return out


def _value(raw: bytes) -> str:
    return " ".join(raw.decode("latin-1").partition(":")[2].split())


def direct_copy(raw: bytes) -> bytes:
    """`raw` as its recipient got it directly: list headers, subject tag and footer gone.

    Only a message carrying list headers is changed. Precedence, Sender and Return-Path
    go only when they are the list's (bulk/list precedence, an owner or bounce address).
    """
    block, sep, body = head_and_body(raw)
    fields = _fields(block)
    names = {name for name, _ in fields}
    if not names & {"list-id", "x-mailing-list", "mailing-list", "list-post"}:
        return raw
    tags = _list_tags(fields)
    sender = ""
    kept: list[bytes] = []
    for name, field_raw in fields:
        value = _value(field_raw)
        if name == "from":
            found = _EMAIL.findall(value)
            sender = found[0] if found else ""
        if name in _LIST_FIELDS or name.startswith("x-mailman-"):
            continue
        if name == "precedence" and value.lower() in _LIST_PRECEDENCE:
            continue
        if name in ("sender", "return-path") and _LIST_ROBOT.search(
            (_EMAIL.findall(value) or [""])[0]
        ):
            continue
        if name == "subject" and "=?" not in value:
            field_raw = _untag(field_raw, tags)
        kept.append(field_raw)
    if sender and "return-path" in names:
        kept.insert(0, f"Return-Path: <{sender}>\n".encode())
    return b"".join(kept).rstrip(b"\r\n") + (sep or b"\n\n") + strip_footer(body)


def _list_tags(fields: Sequence[tuple[str, bytes]]) -> tuple[str, ...]:
    """Subject tags the list may add: "[name]" for the List-Id's first label."""
    tags = []
    for name, raw in fields:
        if name == "list-id":
            value = _value(raw)
            inner = message_ids(value)
            ident = inner[0] if inner else value
            label = ident.split(".", 1)[0].strip()
            if label:
                tags.append(label.lower())
    return tuple(tags)


def _untag(field_raw: bytes, tags: Sequence[str]) -> bytes:
    if not tags:
        return field_raw
    text = field_raw.decode("latin-1")
    for tag in tags:
        text = re.sub(r"\[" + re.escape(tag) + r"\]\s*", "", text, count=1, flags=re.I)
    return text.encode("latin-1")


def strip_footer(body: bytes) -> bytes:
    """The body without a list footer at its end (majordomo, Mailman, Google Groups...).

    A footer is a block of at most `FOOTER_LINES` lines at the very end, opened by a
    separator line ("-- ", a row of underscores, "-=-=-") and naming the list's
    machinery ("unsubscribe", "listinfo", "mailing list"). A personal signature after
    "-- " names none of these and stays. A Mailman footer in a MIME part of its own is
    found the same way: its lines end the raw body, before the closing boundary.
    """
    text = body.decode("latin-1")
    lines = text.splitlines(keepends=True)
    end = len(lines)
    closing = ""
    # A closing MIME boundary (and blank lines) may follow the footer part.
    while end and not lines[end - 1].strip():
        end -= 1
    if end and lines[end - 1].strip().startswith("--") and lines[end - 1].strip().endswith("--"):
        boundary = lines[end - 1]
        end -= 1
        while end and not lines[end - 1].strip():
            end -= 1
        closing = boundary
    start = max(0, end - FOOTER_LINES)
    for i in range(end - 1, start - 1, -1):
        if _SEPARATOR.match(lines[i].rstrip("\r\n")):
            block = "".join(lines[i:end])
            if _FOOTER_WORDS.search(block):
                part = _part_start(lines, i) if closing else None
                cut = part if part is not None else i
                kept = "".join(lines[:cut]).rstrip("\r\n") + "\n"
                return (kept + closing).encode("latin-1")
            break
    return body


def _part_start(lines: Sequence[str], footer: int) -> int | None:
    """Where the MIME part holding only the footer begins (its boundary line), if so."""
    for i in range(footer - 1, -1, -1):
        line = lines[i].strip()
        if line.startswith("--") and not line.endswith("--") and len(line) > 2:
            between = [x for x in lines[i + 1 : footer] if x.strip()]
            headers_only = all(
                re.match(r"^[A-Za-z-]+:|^[ \t]", x) or not x.strip() for x in between
            )
            return i if headers_only else None
        if line and not re.match(r"^[A-Za-z-]+:|^[ \t]", lines[i]):
            return None
    return None
