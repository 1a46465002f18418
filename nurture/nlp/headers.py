"""Header-only rules: decide that a message is machine-sent before reading its body.

These run first and cheaply on every message; a message they flag is never given to
the language model. Each rule names one `Automated` kind so `nurture explain` can say
why a message was skipped. The first matching rule wins, in the order below: the
specific kinds (bounce, receipt, invitation, out-of-office) before the general ones
(list, bulk, no-reply).
"""

from __future__ import annotations

import re

from nurture.model import Address, Automated, Body, Message

_NO_REPLY = re.compile(
    r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|donotreply|noreply|notifications?|"
    r"notify|alerts?|mailer|bounces?|automated|auto[-_.]?confirm)(?:[-_.+].*)?@",
    re.IGNORECASE,
)
_DAEMON = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon)(?:[-_.+].*)?@", re.IGNORECASE)
_OOO_SUBJECT = re.compile(
    r"^\s*(?:automatic reply|auto(?:matic)?[- ]?(?:reply|response)|out of (?:the )?office|"
    r"abwesenheitsnotiz|absence|r[ée]ponse automatique|respuesta autom[áa]tica|"
    r"away from (?:the )?office|on vacation|vacation reply)\b",
    re.IGNORECASE,
)
_INVITE_SUBJECT = re.compile(
    r"^\s*(?:invitation|updated invitation|accepted|declined|tentative(?:ly accepted)?|"
    r"canceled event|cancelled event|new event|event canceled|event cancelled)"
    r"(?: with note)?\s*:",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:undeliverable|undelivered mail|delivery status notification|"
    r"mail delivery (?:failed|failure|subsystem)|returned mail|delivery failure|"
    r"failure notice|message not delivered)\b",
    re.IGNORECASE,
)
_RECEIPT_SUBJECT = re.compile(
    r"^\s*(?:read|read receipt|return receipt|not read|delivered)\s*:", re.IGNORECASE
)
_PRECEDENCE = frozenset({"bulk", "list", "junk", "auto_reply"})


def _content_type(message: Message) -> tuple[str, dict[str, str]]:
    """The lower-case media type and its parameters from the Content-Type header."""
    raw = message.headers.get("content-type", "") or ""
    parts = raw.split(";")
    media = parts[0].strip().lower()
    params: dict[str, str] = {}
    for part in parts[1:]:
        name, sep, value = part.partition("=")
        if sep:
            params[name.strip().lower()] = value.strip().strip('"').lower()
    return media, params


def _sender_is(pattern: re.Pattern[str], sender: Address) -> bool:
    return bool(pattern.match(sender.email))


_GMAIL_TABS = {
    "promotions": Automated.BULK,
    "updates": Automated.NOTIFICATION,
    "social": Automated.NOTIFICATION,
    "forums": Automated.LIST,
}


def header_verdict(message: Message) -> Automated | None:
    """Why `message` is machine-sent, judged from its headers alone; None if it looks personal."""
    headers = message.headers
    subject = message.subject or ""
    media, params = _content_type(message)

    # Delivery reports and read receipts (RFC 3464 / RFC 8098).
    if media == "multipart/report":
        report = params.get("report-type", "")
        if report == "disposition-notification":
            return Automated.RECEIPT
        return Automated.BOUNCE
    if media == "message/delivery-status" or _sender_is(_DAEMON, message.sender):
        return Automated.BOUNCE
    if _BOUNCE_SUBJECT.match(subject) and not message.sender.name.strip():
        return Automated.BOUNCE
    if media == "message/disposition-notification" or _RECEIPT_SUBJECT.match(subject):
        return Automated.RECEIPT

    # Calendar invitations and their replies.
    if media == "text/calendar" or params.get("method", "") in {
        "request",
        "reply",
        "cancel",
        "counter",
    }:
        return Automated.INVITATION
    if _INVITE_SUBJECT.match(subject):
        return Automated.INVITATION

    # Gmail's own sorting (the Google connector passes the tab as x-gmail-category).
    category = _GMAIL_TABS.get(headers.get("x-gmail-category", "").strip().lower())
    if category is not None:
        return category

    # Auto-replies: RFC 3834 Auto-Submitted, Exchange and vacation headers, subjects.
    auto_submitted = headers.get("auto-submitted", "").strip().lower()
    autoreplied = headers.get("x-ms-exchange-organization-autoreplied", "").strip()
    # Only at the start: "Re: out of office cover next week?" is a person writing.
    ooo_subject = bool(_OOO_SUBJECT.match(subject))
    if ooo_subject or autoreplied:
        return Automated.OUT_OF_OFFICE
    if (
        auto_submitted.startswith("auto-replied")
        or headers.get("x-autoreply")
        or (headers.get("x-autorespond"))
    ):
        return Automated.AUTO_REPLY
    if auto_submitted and auto_submitted != "no":
        return Automated.NOTIFICATION
    if headers.get("x-auto-response-suppress", "").strip():
        return Automated.NOTIFICATION
    if headers.get("x-ms-exchange-generated-message-source", "").strip():
        return Automated.NOTIFICATION

    # Mailing lists and bulk senders.
    if headers.get("list-id", "").strip() or headers.get("list-post", "").strip():
        return Automated.LIST
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in _PRECEDENCE:
        return Automated.LIST if precedence == "list" else Automated.BULK
    # Feedback-ID alone says nothing: some providers put it on every message, a
    # person's too; bulk senders also add List-Unsubscribe, which decides.
    if headers.get("list-unsubscribe", "").strip():
        return Automated.BULK

    if _sender_is(_NO_REPLY, message.sender):
        return Automated.NO_REPLY
    reply_to = headers.get("reply-to", "").strip().lower()
    if reply_to and _NO_REPLY.search(reply_to.split("<")[-1].lstrip()):
        return Automated.NO_REPLY
    if headers.get("return-path", "").strip() == "<>":
        # An empty envelope sender is what RFC 5321 requires of automatic notifications.
        return Automated.NOTIFICATION
    return None


# A text/calendar part anywhere in the MIME tree (invitations often sit inside a
# multipart/alternative, so the top-level Content-Type does not show them).
_CALENDAR_PART = re.compile(rb"(?im)^content-type:[ \t]*text/calendar\b")
_REPORT_PART = re.compile(
    rb"(?im)^content-type:[ \t]*message/(?:delivery-status|disposition-notification)\b"
)


def body_verdict(body: Body) -> Automated | None:
    """Machine-sent kinds that only the MIME structure shows (one cheap scan of the raw bytes)."""
    raw = body.raw
    if not raw:
        return None
    head = raw[:262_144]
    # Each pattern is tried only where its type is named at all (ASCII case folding,
    # as the patterns' own for bytes): most mail names neither.
    low = head.lower()
    if b"text/calendar" in low and _CALENDAR_PART.search(head):
        return Automated.INVITATION
    if b"message/d" in low and _REPORT_PART.search(head):
        return Automated.BOUNCE
    return None


# Footers that only bulk mail carries.
_BULK_FOOTER = re.compile(
    r"(?:\bto unsubscribe\b|\bclick here to unsubscribe\b|\bunsubscribe (?:from|here|at)\b|"
    r"\bif you (?:no longer wish|would (?:rather|prefer) not) to receive\b|"
    r"\byou (?:are|were) receiving this (?:e-?mail|message|newsletter)\b|"
    r"\bmanage (?:your )?(?:e-?mail |subscription |notification )?preferences\b|"
    r"\bview (?:this|it) (?:e-?mail )?in (?:your|a) (?:web )?browser\b|"
    r"\bopt[- ]out of (?:future|these)\b)",
    re.IGNORECASE,
)
# The footers' first letters: `_BULK_FOOTER` is tried only where a word starts with one
# (case-blind, the class takes what the letters take; a third less time on 1,000 mails).
BULK_INITIALS = "cimotuvy"
_BULK_FOOTER_AT = re.compile(rf"\b(?=[{BULK_INITIALS}]){_BULK_FOOTER.pattern}", re.IGNORECASE)


def bulk_footer(lines: list[str]) -> bool:
    """Whether the newest text ends like bulk mail ("to unsubscribe ...", "manage preferences").

    Only the last lines count, where such footers sit, and questions never do: a person
    asking "how do I unsubscribe from the list?" is not a newsletter.
    """
    tail = [line for line in lines if line.strip() and not line.rstrip().endswith("?")][-15:]
    return bool(_BULK_FOOTER_AT.search(" ".join(tail)[-3000:]))
