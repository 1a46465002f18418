"""Header rules: each automated-mail kind, and personal mail left alone."""

from __future__ import annotations

import pytest

from nurture.model import Automated, Body
from nurture.nlp import header_verdict, headers
from nurture.nlp.alternation import _expand, alternatives
from nurture.nlp.headers import body_verdict

from .conftest import class_takes_what_letters_take, make_message

DATE = {"date": "Wed, 4 Mar 2026 15:00:00 +0000"}


@pytest.mark.parametrize(
    ("headers", "sender", "subject", "expected"),
    [
        ({"list-id": "<dev.lists.example.org>"}, "sam@example.org", "Re: build", Automated.LIST),
        ({"list-unsubscribe": "<mailto:u@x.org>"}, "news@shop.example", "Sale", Automated.BULK),
        ({"precedence": "bulk"}, "sam@example.org", "Weekly digest", Automated.BULK),
        ({"precedence": "list"}, "sam@example.org", "Digest", Automated.LIST),
        ({"precedence": "junk"}, "sam@example.org", "Offer", Automated.BULK),
        ({"auto-submitted": "auto-replied"}, "sam@example.org", "Re: hi", Automated.AUTO_REPLY),
        ({"auto-submitted": "auto-generated"}, "ci@example.org", "Build", Automated.NOTIFICATION),
        ({"x-auto-response-suppress": "All"}, "sam@example.org", "Report", Automated.NOTIFICATION),
        ({}, "no-reply@service.example", "Your receipt", Automated.NO_REPLY),
        ({}, "noreply@service.example", "Your code", Automated.NO_REPLY),
        ({}, "do-not-reply@bank.example", "Statement", Automated.NO_REPLY),
        (
            {"content-type": 'multipart/report; report-type="delivery-status"; boundary=x'},
            "sam@example.org",
            "Undelivered Mail",
            Automated.BOUNCE,
        ),
        (
            {"content-type": "multipart/report; report-type=disposition-notification"},
            "sam@example.org",
            "Read: Numbers",
            Automated.RECEIPT,
        ),
        ({}, "MAILER-DAEMON@mx.example.org", "failure notice", Automated.BOUNCE),
        ({}, "postmaster@example.org", "Delivery problem", Automated.BOUNCE),
        (
            {"content-type": "text/calendar; method=REQUEST; charset=utf-8"},
            "sam@example.org",
            "Planning",
            Automated.INVITATION,
        ),
        ({}, "sam@example.org", "Accepted: Planning @ Wed 10:00", Automated.INVITATION),
        ({}, "sam@example.org", "Invitation: Lunch", Automated.INVITATION),
        ({}, "sam@example.org", "Automatic reply: Numbers", Automated.OUT_OF_OFFICE),
        ({}, "sam@example.org", "Out of Office: back Monday", Automated.OUT_OF_OFFICE),
        ({"return-path": "<>"}, "sam@example.org", "Your report", Automated.NOTIFICATION),
        (
            {"x-ms-exchange-organization-autoreplied": "yes"},
            "sam@example.org",
            "RE: budget",
            Automated.OUT_OF_OFFICE,
        ),
    ],
)
def test_automated_kinds(
    headers: dict[str, str], sender: str, subject: str, expected: Automated
) -> None:
    message = make_message(sender=sender, subject=subject, headers={**DATE, **headers})
    assert header_verdict(message) == expected


@pytest.mark.parametrize(
    ("headers", "subject"),
    [
        ({}, "Quarterly numbers"),
        ({"auto-submitted": "no"}, "Re: lunch"),
        ({"content-type": "multipart/alternative; boundary=b"}, "Invitation to talk"),
        ({"precedence": ""}, "Accepted the offer, thanks"),
        ({"return-path": ""}, "Re: out of office cover next week?"),
        ({"return-path": "<sam@example.org>"}, "Lunch"),
    ],
)
def test_personal_mail_is_not_automated(headers: dict[str, str], subject: str) -> None:
    message = make_message(subject=subject, headers={**DATE, **headers})
    assert header_verdict(message) is None


@pytest.mark.parametrize(
    ("tab", "expected"),
    [
        ("promotions", Automated.BULK),
        ("updates", Automated.NOTIFICATION),
        ("social", Automated.NOTIFICATION),
        ("forums", Automated.LIST),
        ("primary", None),
    ],
)
def test_gmail_tabs_from_the_google_connector(tab: str, expected: Automated | None) -> None:
    message = make_message(subject="Your order", headers={**DATE, "x-gmail-category": tab})
    assert header_verdict(message) == expected


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        ("Content-Type: text/calendar; method=REQUEST", Automated.INVITATION),
        ("CONTENT-TYPE:\tTEXT/CALENDAR", Automated.INVITATION),
        ("content-type: Text/Calendar; charset=utf-8", Automated.INVITATION),
        ("Content-Type: message/delivery-status", Automated.BOUNCE),
        ("Content-Type: MESSAGE/Disposition-Notification", Automated.BOUNCE),
        ("Content-Type: text/calendars", None),
        ("X-Note: text/calendar", None),
        ("Content-Type: message/rfc822", None),
        ("Content-Type: text/plain", None),
    ],
)
def test_mime_parts_are_found_in_any_case(part: str, expected: Automated | None) -> None:
    """The verdict tries its patterns only where the type is named: the same verdict as
    the patterns alone."""
    raw = (
        "From: a@example.org\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        f"{part}\r\n\r\nbody\r\n--b--\r\n"
    ).encode()
    assert body_verdict(Body(raw=raw)) is expected
    if headers._CALENDAR_PART.search(raw):
        assert expected is Automated.INVITATION
    elif headers._REPORT_PART.search(raw):
        assert expected is Automated.BOUNCE
    else:
        assert expected is None


def test_the_bulk_footer_initials_are_the_footers_first_letters() -> None:
    """The class tried before the footers takes, case-blind, exactly the characters their
    first letters take; so the footer is found where the whole pattern finds it."""
    inner = headers._BULK_FOOTER.pattern.removeprefix("(?:").removesuffix(")")
    firsts = {b.removeprefix(r"\b")[0] for a in alternatives(inner) for b in _expand(a)}
    assert firsts == set(headers.BULK_INITIALS)
    assert class_takes_what_letters_take(headers.BULK_INITIALS)
    for text in [
        "To unsubscribe, CLICK HERE TO UNSUBSCRIBE.",
        "You were receiving this newsletter; Manage your e-mail preferences.",
        "View this email in your browser or opt-out of future mail.",
        "If you no longer wish to receive these, write.",
        "Nothing here. Unsubscribed long ago.",
    ]:
        assert headers.bulk_footer([text]) == (headers._BULK_FOOTER.search(text) is not None)
