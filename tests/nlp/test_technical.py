"""Technical disagreement is not a customer's complaint.

On a maintainer's mailing list, "that still doesn't work", "the page is missing the
flag", "I rebased again and the build is broken" are reviews and bug reports about code
or a text: their complaint cues (unmet, again) must not put a recover call on the
calendar. A customer whose order, parcel or app let them down still earns one. The
examples are written for these tests.
"""

from __future__ import annotations

import random

import pytest

from nurture.detect import UPSET_MIN
from nurture.nlp import UPSET_THRESHOLD, Reader, tone
from nurture.nlp.alternation import _expand, alternatives

from .conftest import class_takes_what_letters_take
from .test_tone import upset_of

CODE_REVIEW = [
    "The example in the page still doesn't work for me: fcntl(2) returns an error when the "
    "lock is missing.",
    "I'm afraid the description is not right. Since Linux 4.8 the flag is ignored again when "
    "the caller lacks the capability, so the sentence about /proc/sys/kernel is wrong too.",
    "I rebased again on top of your tree and the build is broken. The header files are "
    "missing the new struct.",
]


@pytest.mark.parametrize("text", CODE_REVIEW)
def test_critique_of_code_never_reaches_the_recover_line(text: str, reader: Reader) -> None:
    assert upset_of(text, reader) < UPSET_MIN


@pytest.mark.parametrize("text", CODE_REVIEW)
def test_without_the_cap_their_cues_would_call(
    text: str, reader: Reader, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the cap takes away (so the test above is not met by a weak example): two
    kinds of complaint cues each, which are still upset, and were a recover call."""
    assert upset_of(text, reader) >= UPSET_THRESHOLD
    monkeypatch.setattr(tone, "TECHNICAL_CUES", 10)
    assert upset_of(text, reader) >= UPSET_MIN


def test_a_patch_subject_makes_the_message_technical(reader: Reader) -> None:
    text = "I tried it again and it still doesn't work for me."
    assert upset_of(text, reader, subject="Order 2231") >= UPSET_MIN
    assert upset_of(text, reader, subject="Re: [PATCH v2] add the new flag") < UPSET_MIN


@pytest.mark.parametrize(
    "text",
    [
        "Your app still doesn't open on my phone and I've already asked you twice to fix it.",
        "My parcel still hasn't arrived and the tracking page "
        "https://track.example.com/parcel_id=88 has not updated for a week.",
        "I paid £12.50 for next-day delivery and it still hasn't come, three days later.",
    ],
)
def test_a_customer_let_down_still_earns_a_call(text: str, reader: Reader) -> None:
    assert upset_of(text, reader) >= UPSET_MIN


@pytest.mark.parametrize(
    "text",
    [
        "The call to open_tree returns early.",
        "See select(2) and the example below.",
        "Use clone3() instead.",
        "It lives in /usr/include/linux.",
        "I fixed the typo in uri.7 and in proc.5 as well.",
        "if (flags != 0) return -1;",
        "#include <fcntl.h>",
        "This patch adds the missing flag.",
        "The man page says otherwise.",
    ],
)
def test_code_and_software_work_are_technical(text: str) -> None:
    assert tone.technical([text])


@pytest.mark.parametrize(
    "text",
    [
        "Track it at https://track.example.com/parcel_id=88 please.",
        "Write to jane_doe@example.com about the refund.",
        "The 7.42 to Leeds is cancelled and it cost me £12.50 for a taxi.",
        "The speaker(s) will be announced on p.2 of the programme.",
        "Our price range is wide ===== see below.",
        "We are committed to fixing the problem with your account.",
    ],
)
def test_links_prices_and_plain_prose_are_not(text: str) -> None:
    assert not tone.technical([text])


@pytest.mark.parametrize(
    ("text", "group"),
    [
        ("I will keep the range as it is.", "repeat"),
        ("It has behaved this way since 5.12 on all architectures.", "waiting"),
        ("The flag is ignored unless you already hold the lock.", "demand"),
        ("I expect some of these may crash when passed a null pointer.", "demand"),
    ],
)
def test_words_that_only_look_like_complaints(text: str, group: str) -> None:
    assert group not in tone.lexicon_groups(text)


@pytest.mark.parametrize(
    ("text", "group"),
    [
        ("Rang four times and nobody picked up.", "repeat"),
        ("No heating since 5pm yesterday.", "waiting"),
        ("Nothing will change unless you refund me.", "demand"),
        ("I expect you to call me back today.", "demand"),
    ],
)
def test_the_complaints_they_resemble_still_count(text: str, group: str) -> None:
    assert group in tone.lexicon_groups(text)


# Pieces of text for each of `tone._CODE`'s alternatives, the same in other case, and
# near misses; links and addresses that carry code-like text.
CODE_PIECES = [
    "call open_tree now",
    "OPEN_TREE",
    "_private",
    "trailing_ underscore",
    "see select(2)",
    "use clone3()",
    "a Foo.bar(baz) call",
    "the speaker(s) and (maybe) others",
    "in /usr/include",
    "In /USR/lib/ too",
    "path//usr/x",
    "a/usr/b",
    "fixed uri.7 and proc.5",
    "FOO.C and main.PY",
    "version 5.12 and 7.42 to Leeds",
    "p.2 of it",
    "a->b",
    "x - > y",
    "std::vector",
    "a: :b",
    "if (flags != 0)",
    "a == b",
    "===== below",
    "x <= y >= z",
    "#include <fcntl.h>",
    "#DEFINE MAX",
    "# include",
    "this patch",
    "the PATCHSET",
    "patchy weather",
    "the man page",
    "the manpages",
    "that FUNCTION",
    "a functional test",
    "https://example.com/open_tree(2)/usr/",
    "www.example.org/a.c",
    "jane_doe@example.com",
    "write to a@b.cd",
    "plain prose about a refund",
    "\u017fyscall",
    "\u212aernel",
]


def test_the_quick_test_equals_the_whole_pattern() -> None:
    """`technical` tries each alternative only where its hint occurs: the same answer as
    `_CODE` over the text with its links taken out, on pieces joined at random."""
    rng = random.Random(11)
    texts = [[piece] for piece in CODE_PIECES]
    texts += [rng.sample(CODE_PIECES, rng.randint(2, 4)) for _ in range(400)]
    answers = set()
    for parts in texts:
        expected = tone._CODE.search(tone._LINKS.sub(" ", "\n".join(parts))) is not None
        assert tone.technical(parts) == expected, parts
        answers.add(expected)
    assert answers == {True, False}


def test_the_code_words_initials_are_their_first_letters() -> None:
    """The class tried before the software words takes, case-blind, exactly the
    characters their first letters take (the long s and the Kelvin sign among them)."""
    inner = tone._CODE_WORDS.removeprefix(r"\b(?:").removesuffix(r")\b")
    firsts = {branch[0] for alt in alternatives(inner) for branch in _expand(alt)}
    assert firsts == set(tone._CODE_WORD_INITIALS)
    assert class_takes_what_letters_take(tone._CODE_WORD_INITIALS)
