"""Header rules: each automated-mail kind, and personal mail left alone."""

from __future__ import annotations

import pytest

from nurture.model import Automated
from nurture.nlp import header_verdict

from .conftest import make_message

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
