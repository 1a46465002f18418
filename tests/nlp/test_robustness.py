"""Nothing a mailbox holds can make extraction or signals raise or hang.

Hypothesis feeds random bytes and mutated messages; the large inputs are there to
catch catastrophic regex backtracking (pytest-timeout gives a generous bound; nothing
here measures speed).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nurture.model import Body, Signals
from nurture.nlp import ANALYSER_VERSION, Reader, analyse, newest_text
from nurture.nlp.text import body_text, newest_lines

from .conftest import make_message, raw_mail

READER = Reader(addresses=("alex@example.com",), names=("Alex",), timezone="Europe/Berlin")

SEED_MAIL = raw_mail(
    "Hi Alex,\n\nCould you send the figures by Friday? I'll call you tomorrow at 10am.\n\n"
    "On Tue, Mar 3, 2026 at 9:14 AM Jordan <jordan@example.net> wrote:\n> older text\n"
)
MULTIPART = (
    b"From: a@example.org\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/alternative; boundary="zz"\r\n\r\n'
    b"--zz\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\nCaf=E9? Please confirm.\r\n"
    b"--zz\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n"
    b"\r\nPHA+SGVsbG88L3A+\r\n--zz--\r\n"
)


def _check(body: Body) -> None:
    text = newest_text(body)
    assert isinstance(text, str)
    [signals] = analyse([(make_message(), body)], READER)
    assert isinstance(signals, Signals)
    assert signals.version == ANALYSER_VERSION
    assert 0.0 <= signals.upset <= 1.0
    assert all(len(a.sentence) <= 300 for a in signals.asks)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_random_bytes(data: bytes) -> None:
    _check(Body(raw=data))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=3000))
def test_random_text_and_html(text: str) -> None:
    _check(Body(text=text))
    _check(Body(html=text))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from([SEED_MAIL, MULTIPART]),
    cuts=st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 40), st.binary(max_size=40)),
        max_size=6,
    ),
)
def test_mutated_messages(seed: bytes, cuts: list[tuple[int, int, bytes]]) -> None:
    data = bytearray(seed)
    for position, length, insert in cuts:
        at = position % (len(data) + 1)
        data[at : at + length] = insert
    _check(Body(raw=bytes(data)))


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("> \n\t-_:=abcOnwrote@/01AMPM?.\"'")), max_size=2000))
def test_marker_soup(text: str) -> None:
    """Text made of the characters the quote rules look for."""
    assert isinstance(newest_lines(text), list)
    _check(Body(text=text))


@pytest.mark.timeout(60)
def test_five_megabyte_single_line_finishes() -> None:
    line = ("Could you look at this? " * 220_000)[:5_000_000]
    body = Body(raw=raw_mail(line))
    _check(body)
    assert body_text(body)  # something was read


@pytest.mark.timeout(60)
def test_hundred_thousand_quote_lines_finish() -> None:
    text = "Thanks, see below.\n" + ">\n" * 100_000
    _check(Body(text=text))
    _check(Body(text=">" * 100_000))


@pytest.mark.timeout(60)
def test_pathological_marker_lines_finish() -> None:
    nasty = [
        "On " + "x " * 100_000,
        "From: " + "a" * 200_000,
        "-" * 300_000,
        ("1/2/2001 " * 50_000),
        "\n".join(["From: a", "To: b"] * 20_000),
        "<div>" * 50_000,
    ]
    for text in nasty:
        _check(Body(text=text))
    _check(Body(html="<div>" * 50_000 + "hi"))


def test_broken_mime_degrades_to_text() -> None:
    raw = b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\nPlease call me.\r\n"
    assert isinstance(newest_text(Body(raw=raw)), str)
    bad_charset = raw_mail("Caf\u00e9?", content_type="text/plain; charset=no-such-charset")
    assert "Caf" in newest_text(Body(raw=bad_charset))


def test_strict_mode_reports_nothing_on_good_mail() -> None:
    [signals] = analyse([(make_message(), Body(raw=SEED_MAIL))], READER, strict=True)
    assert signals.asks
