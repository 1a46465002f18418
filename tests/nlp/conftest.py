"""Builders for the NLP tests: messages and raw mail written here, never from the corpora."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

import pytest

from nurture.model import UTC, Address, Body, Message
from nurture.nlp import Reader


def make_message(
    *,
    sender: str = "sam@example.org",
    name: str = "Sam Lee",
    subject: str = "Quarterly numbers",
    date: datetime | None = None,
    headers: Mapping[str, str] | None = None,
    to: tuple[str, ...] = ("alex@example.com",),
) -> Message:
    when = date or datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
    return Message(
        id="m1",
        message_id="m1@example.org",
        date=when,
        sender=Address(sender, name),
        to=tuple(Address(x) for x in to),
        subject=subject,
        headers=dict(
            headers if headers is not None else {"date": "Wed, 4 Mar 2026 15:00:00 +0000"}
        ),
    )


def raw_mail(body: str, *, content_type: str = "text/plain; charset=utf-8") -> bytes:
    head = (
        "From: Sam Lee <sam@example.org>\r\nTo: alex@example.com\r\nSubject: Numbers\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n"
    )
    return (head + body.replace("\n", "\r\n")).encode("utf-8")


def text_body(text: str) -> Body:
    return Body(text=text)


@pytest.fixture
def reader() -> Reader:
    return Reader(addresses=("alex@example.com",), names=("Alex Morgan",), timezone="Europe/Berlin")


def class_takes_what_letters_take(letters: str) -> bool:
    """Whether, case-blind, the class of `letters` takes exactly the characters the
    letters take one by one, over every code point (the long s and the Kelvin sign fold
    to "s" and "k"): a `(?=[...])` of them before a case-blind alternation of words that
    start with them changes nothing it finds."""
    every = "".join(chr(c) for c in range(0x110000))
    one_by_one = re.compile("|".join(sorted(letters)), re.IGNORECASE)
    as_class = re.compile(f"[{letters}]", re.IGNORECASE)
    return [m.start() for m in one_by_one.finditer(every)] == [
        m.start() for m in as_class.finditer(every)
    ]
