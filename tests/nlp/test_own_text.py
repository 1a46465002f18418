"""The writer's own words below and between quotes: inline replies, bottom posts, patches.

List and developer mail answers under the quote or between its parts. Everything the
writer typed there must reach the signals; quoted mail, attributions, forwarded
messages, diffs and signatures must not. Examples written for these tests.
"""

from __future__ import annotations

from nurture.model import Body
from nurture.nlp import Reader, analyse, carries_patch, model_text, newest_text
from nurture.nlp.text import html_to_text, newest_lines, not_prose, quote_marks

from .conftest import make_message, raw_mail


def own(text: str) -> str:
    return newest_text(Body(text=text))


def read(text: str) -> str:
    """What the sentence model reads of a message."""
    return model_text(newest_lines(text))


INLINE = (
    "On Mon, 2 Mar 2026 at 10:02, Dana Lee <dana@example.net> wrote:\n"
    "> Could you check the wording of the open(2) page? The second paragraph reads\n"
    "> oddly to me.\n"
    "\n"
    "Yes, I looked at it last night and agree that it needs a rewrite from the start.\n"
    "\n"
    "> And is the example at the end still right?\n"
    "\n"
    "No, it uses a flag that was removed years ago.\n"
    "Would you like me to change all the syscall pages?\n"
)


def test_inline_reply_keeps_each_answer_and_drops_the_quote() -> None:
    assert own(INLINE) == (
        "Yes, I looked at it last night and agree that it needs a rewrite from the start.\n"
        "\n"
        "No, it uses a flag that was removed years ago.\n"
        "Would you like me to change all the syscall pages?"
    )


def test_inline_answers_stay_separate_paragraphs_for_the_model() -> None:
    # The first answer is long enough that the model would join the next line to it as
    # a wrap; the quote between them keeps them apart.
    assert read(INLINE).split("\n\n") == [
        "Yes, I looked at it last night and agree that it needs a rewrite from the start.",
        "No, it uses a flag that was removed years ago. "
        "Would you like me to change all the syscall pages?",
    ]


def test_question_below_the_quote_is_an_ask(reader: Reader) -> None:
    [signals] = analyse([(make_message(), Body(raw=raw_mail(INLINE)))], reader)
    assert [a.sentence for a in signals.asks] == [
        "Would you like me to change all the syscall pages?"
    ]


def test_bottom_post_under_an_address_attribution() -> None:
    body = (
        "Dana Lee <dana@example.net> writes:\n\n"
        "> The build fails on arm64 since yesterday.\n> Any idea?\n\n"
        "It is the new linker flag; I have reverted it. Please try again.\n"
    )
    assert own(body) == "It is the new linker flag; I have reverted it. Please try again."


def test_quote_with_several_levels() -> None:
    body = (
        "On Tue, 3 Mar 2026, Jo Park wrote:\n"
        "> Dana Lee <dana@example.net> wrote:\n"
        "> >> Is the release still on Friday?\n"
        "> > I think so.\n"
        "> It might slip to Monday.\n"
        "\n"
        "Monday is fine for us as well.\n"
        "\n"
        ">> And are the release notes ready?\n"
        "\n"
        "The notes are done; they are in the wiki.\n"
    )
    assert (
        own(body) == "Monday is fine for us as well.\n\nThe notes are done; they are in the wiki."
    )


def test_text_above_and_below_the_quote_both_count() -> None:
    body = (
        "Hi Dana,\n\n"
        "On Wed, 4 Mar 2026 at 08:00, Dana Lee <dana@example.net> wrote:\n"
        "> Can we meet on Thursday?\n\n"
        "Thursday at ten works for me.\n"
    )
    assert own(body) == "Hi Dana,\n\nThursday at ten works for me."


def test_top_posted_outlook_reply_runs_to_the_end() -> None:
    # The original below the header block is not marked; its own quotes and the
    # unquoted answer inside it are older mail too.
    body = (
        "Fine by me, send it to legal.\n\n"
        "-----Original Message-----\n"
        "From: Park, Jordan\nSent: Tuesday, March 03, 2026 9:14 AM\nTo: Morgan, Alex\n"
        "Subject: RE: contract\n\n"
        "Can you approve the draft?\n\n"
        "> Is the draft ready?\n"
        "Yes, it is attached.\n"
    )
    assert own(body) == "Fine by me, send it to legal."


def test_outlook_header_block_without_separator_runs_to_the_end() -> None:
    body = (
        "Approved.\n\n"
        "From: Jordan Park\nSent: Tuesday, March 3, 2026\nTo: Alex Morgan\nSubject: leave\n\n"
        "> Can I take Friday off?\n"
        "Please approve in the tool.\n"
    )
    assert own(body) == "Approved."


def test_lotus_notes_reply_runs_to_the_end() -> None:
    body = (
        "I will call him this afternoon.\n\n\n"
        "\tJordan Park@FINANCE\n\t03/03/2026 09:14 AM\n\t\t\n"
        "\t\t To: Alex Morgan/HQ/CORP@CORP\n\t\t cc: \n\t\t Subject: supplier\n\n"
        "Could you call the supplier?\n\n"
        ">> Do we have a supplier yet?\n"
        "Not yet, still looking.\n"
    )
    assert own(body) == "I will call him this afternoon."


def test_forward_with_a_covering_note_keeps_only_the_note() -> None:
    body = (
        "Sam, could you take this one? I am out until Monday.\n\n"
        "---------- Forwarded message ---------\n"
        "From: Dana Lee <dana@example.net>\nDate: Tue, Mar 3, 2026\nSubject: access\n"
        "To: <help@example.org>\n\n"
        "Can someone reset my password?\n\n"
        "> Which account?\n"
        "The staging one, please reset it today.\n"
    )
    assert own(body) == "Sam, could you take this one? I am out until Monday."


PATCH = (
    "The example passed O_RDONLY where the text asks for O_CLOEXEC; use the\n"
    "flag the text describes.\n"
    "\n"
    "Signed-off-by: Jo Park <jo@example.net>\n"
    "---\n"
    "v2: reworded the commit message.\n"
    "\n"
    " man2/open.2 | 2 +-\n"
    " 1 file changed, 1 insertion(+), 1 deletion(-)\n"
    "\n"
    "diff --git a/man2/open.2 b/man2/open.2\n"
    "index 1111111..2222222 100644\n"
    "--- a/man2/open.2\n"
    "+++ b/man2/open.2\n"
    "@@ -10,4 +10,3 @@ The flags\n"
    " .PP\n"
    "-Please use O_RDONLY here.\n"
    "+Please use O_CLOEXEC here.\n"
    "-- \n"
    " .SH\n"
    "-- \n"
    "2.43.0\n"
)


def test_patch_commit_message_is_read_and_the_diff_is_not() -> None:
    assert read(PATCH).split("\n\n") == [
        "The example passed O_RDONLY where the text asks for O_CLOEXEC; use the "
        "flag the text describes.",
        "Signed-off-by: Jo Park <jo@example.net>",
        "v2: reworded the commit message.",
    ]


def test_patch_keeps_its_diff_for_patch_detection_and_drops_the_signature() -> None:
    # The hunk's "-- " line (it removes a line "- ") is counted by the hunk header and
    # cuts nothing; the "-- " after the hunk is the signature and goes.
    lines = newest_lines(PATCH)
    assert carries_patch(lines)
    assert lines[-1] == " .SH"
    prose = [x for x, skip in zip(lines, not_prose(lines), strict=True) if x and not skip]
    assert prose == [
        "The example passed O_RDONLY where the text asks for O_CLOEXEC; use the",
        "flag the text describes.",
        "Signed-off-by: Jo Park <jo@example.net>",
        "v2: reworded the commit message.",
    ]


def test_patch_review_answers_between_quoted_hunks() -> None:
    body = (
        "On Wed, 4 Mar 2026, Jo Park wrote:\n"
        "> diff --git a/man2/open.2 b/man2/open.2\n"
        "> --- a/man2/open.2\n"
        "> +++ b/man2/open.2\n"
        "> @@ -10,3 +10,3 @@\n"
        "> -Please use O_RDONLY here.\n"
        "> +Please use O_CLOEXEC here.\n"
        "\n"
        "Could you also update the SEE ALSO section?\n"
        "\n"
        "> +.BR fcntl (2),\n"
        "> +.BR foo (2)\n"
        "\n"
        "Please keep this list sorted.\n"
        "\n"
        "Thanks,\n"
        "Dana\n"
    )
    assert own(body) == (
        "Could you also update the SEE ALSO section?\n\n"
        "Please keep this list sorted.\n\n"
        "Thanks,\nDana"
    )


def test_inline_diff_in_own_text_is_not_read() -> None:
    body = (
        "How about this?\n\n"
        "--- a/src/upload.c\n+++ b/src/upload.c\n@@ -1 +1 @@\n"
        "-Please remove this line.\n+Please add this line.\n\n"
        "Does it fix it for you?\n"
    )
    assert read(body) == "How about this?\n\nDoes it fix it for you?"


def test_pasted_format_patch_header_is_the_writers_not_older_mail() -> None:
    body = (
        "From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n"
        "From: Jo Park <jo@example.net>\nDate: Tue, 3 Mar 2026 10:00:00 +0100\n"
        "Subject: [RFC] A first draft of the types page\n\n"
        "Is the layout what you had in mind?\n"
    )
    assert read(body) == "Is the layout what you had in mind?"


def test_signature_after_bottom_posted_text_is_cut() -> None:
    body = (
        "On Thu, 5 Mar 2026 at 09:00, Dana Lee <dana@example.net> wrote:\n"
        "> Shall I send v3?\n\n"
        "Yes please, with the typo fixed.\n\n"
        "-- \nJo Park\nExample project maintainer; https://example.org/\n"
    )
    assert own(body) == "Yes please, with the typo fixed."


def test_contact_block_after_bottom_posted_text_is_cut() -> None:
    body = (
        "Dana Lee <dana@example.net> wrote:\n> Shall I send v3?\n\n"
        "Yes please, with the typo fixed.\n\n"
        "Cheers,\nJo\nExample Corp.\n100 Main Street, Suite 4\n+1 555 010 0000\n"
    )
    assert own(body) == "Yes please, with the typo fixed.\n\nCheers,"


def test_quoted_sign_off_and_disclaimer_cut_nothing() -> None:
    body = (
        "Hi Dana,\n\n"
        "> Please review the attached plan.\n>\n> Thanks,\n> Dana\n> Example Corp.\n"
        "> 100 Main Street\n> +1 555 010 0000\n>\n"
        "> This message is confidential and privileged. If you are not the intended "
        "recipient, please delete it and notify the sender; any unauthorised use is "
        "prohibited.\n\n"
        "The plan looks good; I have one question about the budget.\n"
    )
    assert read(body) == "Hi Dana,\n\nThe plan looks good; I have one question about the budget."


def test_service_footer_under_a_rule_is_cut() -> None:
    body = (
        "Dana wrote:\n> Lunch on Friday?\n\nSure, noon at the usual place.\n\n"
        "__________________________________________________\n"
        "Do you have free mail? Get it now at http://mail.example.com/\n"
    )
    assert own(body) == "Sure, noon at the usual place."


def test_attribution_over_an_unmarked_copy_runs_to_the_end() -> None:
    # No '>' tells where the older mail ends: read conservatively, nothing below is new.
    body = (
        "Sounds good.\n\n"
        "On Mon, 2 Mar 2026 at 10:02, Dana Lee <dana@example.net> wrote:\n\n"
        "Can you send me the figures?\n\nThanks\n"
    )
    assert own(body) == "Sounds good."


def test_elision_mark_under_an_attribution_still_opens_the_quote() -> None:
    body = (
        "On Mon, 2 Mar 2026, Dana Lee wrote:\n\n[...]\n>\n> Is the fix in 6.8?\n\n"
        "Yes, it went in with the first release candidate.\n"
    )
    assert own(body) == "[...]\n\nYes, it went in with the first release candidate."


def test_wrapped_tail_of_a_quoted_line_is_quoted() -> None:
    body = (
        "On Mon, 2 Mar 2026, Dana Lee wrote:\n"
        "> When I run the import, the count comes out at three times the real\n"
        "number of rows.\n"
        ">\n"
        "> Any idea why that happens with the default settings\n"
        "enabled?\n"
        "> Thanks\n\n"
        "You have duplicates in your shards.\n"
    )
    assert own(body) == "You have duplicates in your shards."


def test_answer_glued_under_a_finished_quoted_sentence_is_kept() -> None:
    body = (
        "Jo Park <jo@example.net> wrote:\n"
        "> Is the spelling of my name right in the credits file?\n"
        "Yes it is. Should I change anything else?\n"
        "> And the year?\n"
        "Fixed.\n"
    )
    assert own(body) == "Yes it is. Should I change anything else?\n\nFixed."


def test_mbox_escaped_from_line_is_not_a_quote() -> None:
    body = "Welcome aboard.\n\n>From the first of April you will report to Sam.\n"
    assert quote_marks(body.split("\n")) == [False] * 4
    assert read(body) == "Welcome aboard.\n\n>From the first of April you will report to Sam."


def test_german_attribution_opens_quoted_mail() -> None:
    body = (
        "> Jo Park <jo@example.net> hat am 3. März 2026 um 10:00 geschrieben:\n"
        "> Ist das Update schon eingespielt?\n\n"
        "Ja, seit gestern Abend.\n"
    )
    assert own(body) == "Ja, seit gestern Abend."


def test_gmail_html_inline_reply_keeps_the_answers() -> None:
    html = (
        '<div dir="ltr">Hi Dana,</div><div class="gmail_quote"><div class="gmail_attr">'
        "On Mon, Mar 2, 2026 at 10:02 AM Dana Lee &lt;dana@example.net&gt; wrote:<br></div>"
        '<blockquote class="gmail_quote"><div>Could you check the wording?</div>'
        '<blockquote class="gmail_quote">Older words.</blockquote></blockquote>'
        "<div>Yes, I will do it tonight.</div>"
        '<blockquote class="gmail_quote">And is the example right?</blockquote>'
        "<div>It is fixed now.</div></div>"
    )
    assert model_text(newest_lines(html_to_text(html))).split("\n\n") == [
        "Hi Dana,",
        "Yes, I will do it tonight.",
        "It is fixed now.",
    ]


def test_apple_html_bottom_post_keeps_the_answer() -> None:
    html = (
        "<div>On 3 Mar 2026, at 09:14, Jordan Park &lt;jordan@example.net&gt; wrote:</div>"
        '<blockquote type="cite"><div>Can you look at the budget?</div></blockquote>'
        "<div>Done, it is fine.</div>"
    )
    assert newest_text(Body(html=html)) == "Done, it is fine."


def test_outlook_html_reply_header_still_cuts_to_the_end() -> None:
    html = (
        "<div>Fine by me.</div><div id='appendonsend'></div><hr>"
        "<div id='divRplyFwdMsg'><b>From:</b> Jordan Park<br><b>Sent:</b> Tuesday<br>"
        "<b>Subject:</b> budget</div><div>Can you approve it?</div>"
        "<blockquote type='cite'>Older words.</blockquote><div>Older answer.</div>"
    )
    assert newest_text(Body(html=html)) == "Fine by me."


def test_first_block_only_stops_at_the_first_attribution() -> None:
    # The zones corpora label only the writer's first block as newest: the runner
    # reads that way, the signals read below the quotes too.
    text = "Short note on top.\n\n" + INLINE
    assert newest_lines(text, below_quotes=False) == ["Short note on top."]
    assert "Would you like me to change all the syscall pages?" in newest_lines(text)
