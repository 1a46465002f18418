"""Newest text: each quoting style, signatures, disclaimers, HTML and MIME."""

from __future__ import annotations

import random

import pytest

from nurture.model import Body
from nurture.nlp import model_text, newest_text, text
from nurture.nlp.text import html_to_text, newest_lines

from .conftest import class_takes_what_letters_take, raw_mail

NEW = "The revised budget looks fine to me.\nI moved the review to Thursday."

STYLES = {
    "gmail": NEW + "\n\nOn Tue, Mar 3, 2026 at 9:14 AM Jordan Park <jordan@example.net> wrote:\n"
    "> Can you look at the budget?\n> Thanks\n",
    "gmail-wrapped": NEW + "\n\nOn Tue, Mar 3, 2026 at 9:14 AM Jordan Park <\n"
    "jordan@example.net> wrote:\n\n> Can you look at the budget?\n",
    "apple": NEW + "\n\n> On 3 Mar 2026, at 09:14, Jordan Park <jordan@example.net> wrote:\n"
    ">\n> Can you look at the budget?\n",
    "outlook": NEW + "\n\n-----Original Message-----\nFrom: Park, Jordan\n"
    "Sent: Tuesday, March 03, 2026 9:14 AM\nTo: Morgan, Alex\nSubject: budget\n\n"
    "Can you look at the budget?\n",
    "outlook-new": NEW + "\n\n________________________________\nFrom: Jordan Park "
    "<jordan@example.net>\nSent: Tuesday, March 3, 2026 09:14\nTo: Alex Morgan\n"
    "Subject: budget\n\nCan you look at the budget?\n",
    "outlook-no-separator": NEW + "\n\nFrom: Jordan Park\nSent: Tuesday, March 3, 2026\n"
    "To: Alex Morgan\nSubject: budget\n\nCan you look at the budget?\n",
    "lotus": NEW + "\n\n\n\tJordan Park@FINANCE\n\t03/03/2026 09:14 AM\n\t\t\n\t\t To: "
    "Alex Morgan/HQ/CORP@CORP\n\t\t cc: \n\t\t Subject: budget\n\nCan you look at the budget?\n",
    "lotus-on": NEW + '\n\n"Park, Jordan" <jordan@example.net> on 03/03/2026 09:14:00 AM\n\n'
    "To: <alex@example.com>\ncc:\n\nSubject: budget\n\nCan you look at the budget?\n",
    "lotus-on-wrapped": NEW + '\n\n"Park, Jordan" <jordan@example.net> on 03/03/2026\n'
    "09:14:00 AM\n\nTo: <alex@example.com>\ncc:\n\nSubject: budget\n\nCan you look?\n",
    "lotus-forwarded": NEW + "\n---------------------- Forwarded by Alex Morgan/HQ/CORP on "
    "03/03/2026 09:20 AM ---------------------------\n\nJordan Park\n03/03/2026 09:14 AM\n"
    "To: Alex Morgan/HQ/CORP@CORP\ncc:\nSubject: budget\n\nCan you look at the budget?\n",
    "forwarded": NEW + "\n\n---------- Forwarded message ---------\nFrom: Jordan Park "
    "<jordan@example.net>\nDate: Tue, Mar 3, 2026\nSubject: budget\n\nCan you look at it?\n",
    "apple-forward": NEW + "\n\nBegin forwarded message:\n\nFrom: Jordan Park "
    "<jordan@example.net>\nSubject: budget\n\nCan you look at it?\n",
    "angle-quotes": NEW + "\n\nJordan Park <jordan@example.net>:\n> Can you look at the budget?\n"
    ">> Earlier text\n",
    "groupwise": NEW + "\n\n>>> Jordan Park 03/03/2026 09:14AM >>>\nCan you look at the budget?\n",
    "reply-separator": NEW + "\n\n____________________Reply Separator____________________\n"
    "Subject: budget\nAuthor: Jordan Park\n\nCan you look at the budget?\n",
    "german-gmail": NEW + "\n\nAm 03.03.2026 um 09:14 schrieb Jordan Park <jordan@example.net>:\n"
    "> Can you look at the budget?\n",
}


@pytest.mark.parametrize("style", sorted(STYLES))
def test_quoting_styles_keep_only_the_new_text(style: str) -> None:
    text = newest_text(Body(raw=raw_mail(STYLES[style])))
    assert text == NEW


def test_inline_reply_without_attribution_is_kept() -> None:
    # Quoted lines that no "... wrote:" introduces are part of what this message says
    # (an inline reply or a forward by quoting); the signals skip them (test_signals).
    body = (
        "> Can we move the review?\nYes, Thursday works.\n\n"
        "> And the budget?\nStill waiting on finance.\n"
    )
    assert newest_text(Body(text=body)) == body.strip()


def test_colon_quoting_needs_a_run_of_lines() -> None:
    body = "See below.\nJordan wrote:\n: one\n: two\n: three\n"
    assert newest_text(Body(text=body)) == "See below."


def test_colon_quoted_header_block_starts_the_quote() -> None:
    body = (
        "Use a filter query instead.\n\n: Date: Tue, 3 Mar 2026 09:14:00 +0100\n"
        ": From: Jordan Park <jordan@example.net>\n: Subject: slow queries\n: \n"
        ": Why are my queries slow?\n"
    )
    assert newest_text(Body(text=body)) == "Use a filter query instead."


def test_attachment_placeholders_are_removed() -> None:
    body = NEW + "\n\n - budget 2026.xls\n <<notes.doc>>  <<plan.pdf>>\n"
    assert newest_text(Body(text=body)) == NEW


def test_signature_after_delimiter_is_removed() -> None:
    body = NEW + "\n\n-- \nSam Lee\nHead of Things\n+1 555 010 0000\n"
    assert newest_text(Body(text=body)) == NEW


def test_contact_block_after_sign_off_is_removed() -> None:
    body = (
        NEW + "\n\nThanks,\nSam\nExample Corp.\n100 Main Street, Suite 4\n"
        "713-555-0100 (phone)\nsam@example.org\n"
    )
    # The name opens the signature block it heads (the Quagga zones label it so).
    assert newest_text(Body(text=body)) == NEW + "\n\nThanks,"


def test_mobile_footer_is_removed() -> None:
    assert newest_text(Body(text=NEW + "\n\nSent from my iPhone\n")) == NEW


def test_legal_disclaimer_is_removed() -> None:
    body = (
        NEW + "\n\nThis e-mail is confidential and may contain privileged information. "
        "If you are not the intended recipient, please delete it and notify the sender; "
        "any unauthorised use is prohibited.\n"
    )
    assert newest_text(Body(text=body)) == NEW


def test_plain_sign_off_is_kept() -> None:
    body = NEW + "\n\nBest,\nSam\n"
    assert newest_text(Body(text=body)) == NEW + "\n\nBest,\nSam"


def test_html_part_becomes_text_without_gmail_quote() -> None:
    html = (
        "<html><head><style>p{color:red}</style></head><body><div>Works for me.<br>"
        "See you Thursday.</div><div class='gmail_quote'>On Tue wrote:<blockquote>old"
        "</blockquote></div></body></html>"
    )
    assert newest_text(Body(html=html)) == "Works for me.\nSee you Thursday."


def test_html_blockquote_cite_becomes_quoted_lines() -> None:
    # A quote element has a clear end (the writer may answer below it): it becomes '>'
    # lines for the plain-text rules, which the signals never read.
    text = html_to_text("<p>New words.</p><blockquote type='cite'><p>Old words.</p></blockquote>")
    assert text.splitlines() == ["New words.", "", "> Old words."]
    assert model_text(newest_lines(text)) == "New words."


def test_multipart_prefers_plain_and_skips_attachments() -> None:
    raw = (
        b"From: a@example.org\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        b'--b1\r\nContent-Type: multipart/alternative; boundary="b2"\r\n\r\n'
        b"--b2\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\nCaf=C3=A9 at noon?\r\n"
        b"--b2\r\nContent-Type: text/html\r\n\r\n<p>HTML version</p>\r\n--b2--\r\n"
        b"--b1\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; "
        b'filename="notes.txt"\r\n\r\nattached notes\r\n--b1--\r\n'
    )
    assert newest_text(Body(raw=raw)) == "Café at noon?"


def test_html_only_message() -> None:
    raw = raw_mail("<p>Hello <b>there</b></p><p>Second</p>", content_type="text/html")
    assert newest_text(Body(raw=raw)) == "Hello there\n\nSecond"


def test_empty_body() -> None:
    assert newest_text(Body()) == ""


def test_raw_body_without_headers_is_read_as_text() -> None:
    raw = b"bq: the first line looks like a header field\n\nMy answer is below.\n"
    assert newest_text(Body(raw=raw)).splitlines()[0] == (
        "bq: the first line looks like a header field"
    )


MARKER_PIECES = [
    "On Mon, Mar 2, 2026 at 9:00 AM Alex Morgan",
    "  > on Tuesday Jo",
    ">>Am 02.03.2026 schrieb Jo",
    "Le lundi 2 mars",
    "Jo wrote",
    "Dana WRITES",
    "as I said before",
    "\u017fAID",
    "unsaid words",
    "wrote-off",
    "the onset",
    "on",
    "on the list",
    "Thanks",
    "a-b",
    "see http",
    "x = y",
    "*bold*",
    "",
    "Den 2 mars",
    "Op maandag",
]


def test_the_marker_hint_in_parts_matches_where_the_whole_pattern_does() -> None:
    """`_maybe_marker` (three patterns, the words tried only where a "w" or an "s"
    starts a word) answers as `_MAYBE_MARKER` does."""
    rng = random.Random(3)
    lines = MARKER_PIECES + [
        " ".join(rng.sample(MARKER_PIECES, rng.randint(2, 4))) for _ in range(400)
    ]
    answers = set()
    for line in lines:
        expected = text._MAYBE_MARKER.search(line) is not None
        assert text._maybe_marker(line) == expected, line
        answers.add(expected)
    assert answers == {True, False}
    # Case-blind, the class takes exactly the characters the words' first letters take
    # (the long s and the Kelvin sign among them).
    assert class_takes_what_letters_take("ws")


# Every alternative of each group of `text._DISCLAIMER`, in other case too, and near
# misses.
DISCLAIMER_PHRASES = [
    "confidential",
    "Confidentiality",
    "private communication",
    "privileged",
    "PROPRIETARY",
    "intended for",
    "intended solely for",
    "intended only for",
    "intended recipient",
    "named addressee",
    "in error",
    "by mistake",
    "delivery error",
    "notify the sender",
    "notify us",
    "inform the sender",
    "reply to the sender",
    "replying to this message",
    "delete",
    "destroy",
    "prohibited",
    "unauthorised",
    "Unauthorized",
    "strictly forbidden",
    "not copy",
    "not disclose",
    "not use",
    "disclose",
    "disclosure",
    "dissemination",
    "distribution",
    "copying",
    "disclaimer",
    "liable",
    "liability",
    "the report",
    "a draft",
    "we met",
    "errors",
    "not",
    "intend",
    "replies",
]


def test_disclaimer_cores_never_skip_a_disclaimer() -> None:
    """A paragraph where `_DISCLAIMER` finds three kinds always passes the cheap test
    on the strings of its groups, and the groups are the pattern's."""
    assert set(text._DISCLAIMER_CORES) == set(text._DISCLAIMER.groupindex)
    rng = random.Random(4)
    kinds = set()
    for _ in range(2000):
        words = rng.sample(DISCLAIMER_PHRASES, rng.randint(1, 6))
        paragraph = " and ".join(words) + "."
        found = text._disclaimer_kinds(paragraph)
        kinds.add(found >= 3)
        if found >= 3:
            assert text._may_be_disclaimer(paragraph), paragraph
        for name, cores in text._DISCLAIMER_CORES.items():
            for match in text._DISCLAIMER.finditer(paragraph.lower()):
                if match.lastgroup == name:
                    assert any(core in match.group(0) for core in cores), match.group(0)
    assert kinds == {True, False}
