"""One demo message as data, and its rendering to RFC 5322 bytes.

The renderer writes bytes directly instead of going through the `email`
package's generator: output must be byte-identical for the same input (MIME
boundaries are derived from the Message-ID, never random), and the same code
path serves the bulk generator, where speed matters. Headers are encoded with
the standard library's helpers so non-ASCII names and subjects are valid.
"""

from __future__ import annotations

import base64
import hashlib
import html
import quopri
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr

from .people import ALEX, ALEX_ALIAS, Person

INBOX = "inbox"
SENT = "sent"


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Mail:
    """One message of the demo, before rendering.

    `text` is the newly written part including the greeting and sign-off; the
    renderer adds the sender's signature and, for a reply, the quoted parent in
    the sender's client style. `date` is aware; it is written in the sender's
    own UTC offset.
    """

    message_id: str
    sender: Person
    to: tuple[Person, ...]
    date: datetime
    subject: str
    text: str
    folder: str = INBOX
    cc: tuple[Person, ...] = ()
    parent: Mail | None = None
    headers: tuple[tuple[str, str], ...] = ()
    html: bool = False
    attachments: tuple[Attachment, ...] = ()
    calendar: tuple[str, str] | None = None  # (METHOD, iCalendar text)
    bounce_of: Mail | None = None
    signature: bool = True
    quote: bool = True
    seen: bool = True

    @property
    def references(self) -> tuple[str, ...]:
        """The References chain for this message (the parent's chain plus the parent)."""
        if self.parent is None:
            return ()
        return (*self.parent.references, self.parent.message_id)

    @property
    def from_user(self) -> bool:
        return self.sender.address in (ALEX.address, ALEX_ALIAS.address)


def _addr(person: Person) -> str:
    return formataddr((person.name, person.address), charset="utf-8")


def _header_text(value: str) -> str:
    if value.isascii():
        return value
    return Header(value, "utf-8").encode()


def _fold_ids(name: str, ids: tuple[str, ...]) -> str:
    return f"{name}: " + "\n ".join(ids)


def local_date(mail: Mail) -> datetime:
    return mail.date.astimezone(mail.sender.zone)


def visible_text(mail: Mail, depth: int = 0) -> str:
    """The plain text a reader sees: new text, signature, then the quoted parent."""
    parts = [mail.text.rstrip("\n")]
    if mail.signature and mail.sender.role not in ("newsletter", "notification"):
        sig = mail.sender.signature()
        if mail.sender.style == "outlook":
            parts.append("\n" + sig)
        else:
            parts.append("\n-- \n" + sig)
    if mail.parent is not None and mail.quote and depth < 3:
        parts.append(_quote(mail, mail.parent, depth))
    return "\n".join(parts) + "\n"


def _quote(mail: Mail, parent: Mail, depth: int) -> str:
    inner = visible_text(parent, depth + 1).rstrip("\n")
    when = parent.date.astimezone(mail.sender.zone)
    if mail.sender.style == "outlook":
        to = "; ".join(f"{p.name} <{p.address}>" for p in parent.to)
        head = [
            "",
            "-----Original Message-----",
            f"From: {parent.sender.name} <{parent.sender.address}>",
            f"Sent: {when:%A, %B} {when.day}, {when:%Y} {when:%I:%M %p}",
            f"To: {to}",
        ]
        if parent.cc:
            head.append("Cc: " + "; ".join(f"{p.name} <{p.address}>" for p in parent.cc))
        head += [f"Subject: {parent.subject}", "", inner]
        return "\n".join(head)
    if mail.sender.style == "apple":
        lead = (
            f"\nOn {when.day} {when:%b %Y}, at {when:%H:%M}, "
            f"{parent.sender.name} <{parent.sender.address}> wrote:\n"
        )
    else:
        lead = (
            f"\nOn {when:%a}, {when.day} {when:%b %Y} at {when:%H:%M}, "
            f"{parent.sender.name} <{parent.sender.address}> wrote:"
        )
    quoted = "\n".join(
        ">" + (" " + line if line and not line.startswith(">") else line)
        for line in inner.split("\n")
    )
    return lead + "\n" + quoted


def _html_from_text(text: str) -> str:
    """A plausible HTML rendering of a plain-text body (quotes become blockquotes)."""
    out: list[str] = ['<html><head><meta charset="utf-8"></head><body>']
    out.append('<div dir="ltr" style="font-family:Arial,sans-serif;font-size:14px">')
    in_quote = False
    for para in text.split("\n\n"):
        lines = para.split("\n")
        quoted = all(line.startswith(">") for line in lines if line)
        if quoted and not in_quote:
            out.append('<blockquote style="margin:0 0 0 .8ex;border-left:1px solid #ccc">')
            in_quote = True
        elif not quoted and in_quote:
            out.append("</blockquote>")
            in_quote = False
        body = "<br>\n".join(html.escape(line.lstrip("> ") if quoted else line) for line in lines)
        out.append(f"<p>{body}</p>")
    if in_quote:
        out.append("</blockquote>")
    out.append("</div></body></html>")
    return "\n".join(out) + "\n"


def _text_part(text: str, subtype: str = "plain") -> bytes:
    data = text.encode("utf-8")
    if data.isascii() and all(len(line) <= 76 for line in text.split("\n")):
        head = f'Content-Type: text/{subtype}; charset="us-ascii"\nContent-Transfer-Encoding: 7bit'
        return head.encode() + b"\n\n" + data
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"\n'
        "Content-Transfer-Encoding: quoted-printable"
    )
    return head.encode() + b"\n\n" + quopri.encodestring(data)


def _b64(data: bytes) -> bytes:
    raw = base64.b64encode(data)
    return b"\n".join(raw[i : i + 76] for i in range(0, len(raw), 76)) + b"\n"


def _multipart(subtype: str, boundary: str, parts: list[bytes], extra: str = "") -> bytes:
    head = f'Content-Type: multipart/{subtype};{extra} boundary="{boundary}"'
    chunks = [head.encode(), b"\n\nThis is a multi-part message in MIME format.\n"]
    for part in parts:
        chunks.append(f"\n--{boundary}\n".encode())
        chunks.append(part.rstrip(b"\n") + b"\n")
    chunks.append(f"\n--{boundary}--\n".encode())
    return b"".join(chunks)


def _boundary(mail: Mail, level: int) -> str:
    digest = hashlib.sha1(mail.message_id.encode()).hexdigest()[:20]
    return f"----=_Part_{level}_{digest}"


def _received(mail: Mail) -> str:
    digest = hashlib.sha1(mail.message_id.encode()).digest()
    ip = f"203.0.113.{digest[0] % 250 + 1}"
    when = format_datetime(mail.date.astimezone(ALEX.zone))
    if mail.bounce_of is not None:
        return f"Received: by mx.brightpath.example (Postfix)\n\tid {digest[1:7].hex()}; {when}"
    host = "mail." + mail.sender.domain
    return (
        f"Received: from {host} ({host} [{ip}])\n\tby mx.brightpath.example "
        f"with ESMTPS id {digest[1:7].hex()}\n\tfor <{mail.to[0].address if mail.to else ''}>; "
        f"{when}"
    )


def _body(mail: Mail) -> bytes:
    text = visible_text(mail)
    if mail.bounce_of is not None:
        return _bounce_body(mail, text)
    content = _text_part(text)
    if mail.html:
        content = _multipart(
            "alternative", _boundary(mail, 1), [content, _text_part(_html_from_text(text), "html")]
        )
    if mail.calendar is not None:
        method, ics = mail.calendar
        cal = (
            f'Content-Type: text/calendar; charset="utf-8"; method={method}\n'
            "Content-Transfer-Encoding: 7bit\n\n"
        ).encode() + ics.replace("\r\n", "\n").encode("utf-8")
        if mail.html:
            content = _multipart("mixed", _boundary(mail, 2), [content, cal])
        else:
            content = _multipart("alternative", _boundary(mail, 2), [content, cal])
    if mail.attachments:
        parts = [content]
        for att in mail.attachments:
            head = (
                f'Content-Type: {att.content_type}; name="{att.filename}"\n'
                f'Content-Disposition: attachment; filename="{att.filename}"\n'
                "Content-Transfer-Encoding: base64\n\n"
            )
            parts.append(head.encode() + _b64(att.data))
        content = _multipart("mixed", _boundary(mail, 3), parts)
    return content


def _bounce_body(mail: Mail, text: str) -> bytes:
    original = mail.bounce_of
    assert original is not None
    rcpt = original.to[0].address
    status = (
        "Content-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.brightpath.example\n"
        f"Arrival-Date: {format_datetime(original.date)}\n\n"
        f"Final-Recipient: rfc822; {rcpt}\n"
        "Action: failed\n"
        "Status: 5.1.1\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected: "
        "User unknown in virtual mailbox table\n"
    ).encode()
    headers = (b"Content-Type: text/rfc822-headers\n\n") + _headers(original)
    return _multipart(
        "report",
        _boundary(mail, 4),
        [_text_part(text), status, headers],
        extra=" report-type=delivery-status;",
    )


def _headers(mail: Mail) -> bytes:
    lines: list[str] = []
    if not mail.from_user:
        path = "" if mail.bounce_of is not None else mail.sender.address
        lines.append(f"Return-Path: <{path}>")
        lines.append(_received(mail))
    lines.append(f"Date: {format_datetime(local_date(mail))}")
    lines.append(f"From: {_addr(mail.sender)}")
    if mail.to:
        lines.append("To: " + ",\n ".join(_addr(p) for p in mail.to))
    if mail.cc:
        lines.append("Cc: " + ",\n ".join(_addr(p) for p in mail.cc))
    lines.append(f"Subject: {_header_text(mail.subject)}")
    lines.append(f"Message-ID: {mail.message_id}")
    if mail.parent is not None:
        lines.append(f"In-Reply-To: {mail.parent.message_id}")
        lines.append(_fold_ids("References", mail.references))
    if mail.sender.style == "outlook" and mail.signature:
        topic = mail.subject[4:] if mail.subject.startswith("Re: ") else mail.subject
        lines.append(f"Thread-Topic: {_header_text(topic)}")
        lines.append("X-Mailer: Microsoft Outlook 16.0")
        lang = "de-DE" if mail.sender.tz == "Europe/Berlin" else "en-GB"
        lines.append(f"Content-Language: {lang}")
    for name, value in mail.headers:
        lines.append(f"{name}: {value}")
    lines.append("MIME-Version: 1.0")
    return ("\n".join(lines) + "\n").encode("utf-8")


def render(mail: Mail) -> bytes:
    """The message as RFC 5322 bytes with LF line ends, as Maildir stores it."""
    return _headers(mail) + _body(mail)
