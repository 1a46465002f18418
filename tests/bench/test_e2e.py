"""The end-to-end benchmark on a tiny mailbox written here: replay, ground truth, scoring.

The mailbox belongs to Alex Morgan (the README's example user); every message is the
project's own. One test runs the whole runner (nurture included) once; the others
check its parts directly.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
T = datetime(2024, 3, 11, tzinfo=UTC)  # the one cutoff: a Monday
ALEX = "alex@brightpath.example"
LIST = "team@lists.brightpath.example"


@pytest.fixture(scope="module")
def bench() -> Iterator[dict[str, ModuleType]]:
    sys.path.insert(0, str(BENCH))
    try:
        import e2e
        import e2e_mailbox
        import e2e_score
        import scores

        yield {"e2e": e2e, "mailbox": e2e_mailbox, "score": e2e_score, "scores": scores}
    finally:
        sys.path.remove(str(BENCH))


def message(
    mid: str,
    when: datetime,
    sender: str,
    to: str,
    subject: str,
    body: str,
    *,
    cc: str = "",
    reply_to_id: str = "",
    extra: str = "",
) -> bytes:
    lines = [
        f"From: {sender}",
        f"To: {to}",
        *([f"Cc: {cc}"] if cc else []),
        f"Subject: {subject}",
        f"Date: {format_datetime(when)}",
        f"Message-ID: <{mid}>",
        *([f"In-Reply-To: <{reply_to_id}>", f"References: <{reply_to_id}>"] if reply_to_id else []),
        "Content-Type: text/plain; charset=utf-8",
        *([extra] if extra else []),
        "",
        body,
        "",
    ]
    return "\n".join(lines).encode()


LIST_HEADERS = (
    "Sender: team-owner@lists.brightpath.example\n"
    "Precedence: bulk\n"
    "List-Id: <team.lists.brightpath.example>\n"
    "List-Post: <mailto:team@lists.brightpath.example>\n"
    "X-Mailing-List: team@lists.brightpath.example"
)
FOOTER = (
    "\n_______________________________________________\n"
    "team mailing list\nteam@lists.brightpath.example\n"
    "https://lists.brightpath.example/mailman/listinfo/team"
)


def write_mailbox(folder: Path) -> Path:
    """A week and a half of Alex's mail around the cutoff T."""
    day = timedelta(days=1)
    mails = {
        # asks Alex directly, answered two days after T: positive
        "renewal@client.example": message(
            "renewal@client.example",
            T - 8 * day,
            "Dana Lee <dana@client.example>",
            ALEX,
            "Q3 renewal pricing",
            "Hi Alex,\n\nCould you send me the renewal pricing for Q3?\n\nThanks,\nDana",
        ),
        # through the team list, naming Alex, answered before T: not labelled
        "draft@partner.example": message(
            "draft@partner.example",
            T - 6 * day,
            "Sam Ortiz <sam@partner.example>",
            ALEX,
            "[team] Contract draft",
            "Can you review the contract draft by Friday?" + FOOTER,
            cc=LIST,
            extra=LIST_HEADERS,
        ),
        "alex-1@brightpath.example": message(
            "alex-1@brightpath.example",
            T - 5 * day,
            f"Alex Morgan <{ALEX}>",
            "sam@partner.example",
            "Re: Contract draft",
            "Done, comments inline.",
            cc=LIST,
            reply_to_id="draft@partner.example",
            extra=LIST_HEADERS,
        ),
        # only to the list: list mail, not Alex's (unless the list is a shared inbox)
        "offsite@brightpath.example": message(
            "offsite@brightpath.example",
            T - 4 * day,
            "Kim Park <kim@brightpath.example>",
            LIST,
            "[team] Offsite venue",
            "Which venue do we book for the offsite?" + FOOTER,
            extra=LIST_HEADERS,
        ),
        # a robot named in person.json
        "build-7@ci.example": message(
            "build-7@ci.example",
            T - 3 * day,
            "Build Robot <robot@ci.example>",
            ALEX,
            "Build 7 failed",
            "Please have a look at build 7.",
        ),
        # an old ask, beyond nurture's 45-day horizon at T
        "old@client.example": message(
            "old@client.example",
            T - 50 * day,
            "Dana Lee <dana@client.example>",
            ALEX,
            "Old question",
            "Can you call me about the old invoice?",
        ),
        # Enron style: no threading headers; Alex's bare "RE:" answers it after T
        "budget@ops.example": message(
            "budget@ops.example",
            T - 9 * day,
            "Pat Quinn <pat@ops.example>",
            ALEX,
            "Budget",
            "Alex, can you approve the travel budget?",
        ),
        # after the cutoff: never fed to nurture before T
        "later@client.example": message(
            "later@client.example",
            T + day,
            "Dana Lee <dana@client.example>",
            ALEX,
            "Another thing",
            "Could you also send the invoice?",
        ),
        "alex-2@brightpath.example": message(
            "alex-2@brightpath.example",
            T + 2 * day,
            f"Alex Morgan <{ALEX}>",
            "dana@client.example",
            "Re: Q3 renewal pricing",
            "Here it is.",
            reply_to_id="renewal@client.example",
        ),
        "alex-3@brightpath.example": message(
            "alex-3@brightpath.example",
            T + 3 * day,
            f"Alex Morgan <{ALEX}>",
            "Pat Quinn <pat@ops.example>",
            "RE: Budget",
            "Approved.",
        ),
    }
    (folder / "m").mkdir(parents=True)
    for number, raw in enumerate(mails.values()):
        (folder / "m" / f"{number:06d}.eml").write_bytes(raw)
    person = {
        "name": "Alex Morgan",
        "addresses": [ALEX],
        "bots": ["robot@ci.example"],
        "cutoff_range": [T.date().isoformat(), T.date().isoformat()],
    }
    (folder / "person.json").write_text(json.dumps(person))
    return folder


@pytest.fixture(scope="module")
def mailbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mailbox(tmp_path_factory.mktemp("box") / "alex")


def test_direct_copy_drops_list_headers_subject_tag_and_footer(bench: dict) -> None:
    strip = bench["mailbox"].direct_copy
    raw = message(
        "a@x.example",
        T,
        "Sam Ortiz <sam@partner.example>",
        ALEX,
        "[team] Contract draft",
        "Can you review the draft?\n\n-- \nSam Ortiz\nPartner Ltd" + FOOTER,
        extra=LIST_HEADERS + "\nReturn-Path: <team-owner@lists.brightpath.example>",
    )
    copy = strip(raw).decode()
    head, _, body = copy.partition("\n\n")
    for gone in ("List-Id", "List-Post", "X-Mailing-List", "Precedence", "Sender:", "team-owner"):
        assert gone not in head
    assert "Subject: Contract draft\n" in head
    assert "Return-Path: <sam@partner.example>" in head
    assert "Message-ID: <a@x.example>" in head
    assert "listinfo" not in body and "mailing list" not in body
    assert body.rstrip().endswith("-- \nSam Ortiz\nPartner Ltd")  # a signature is not a footer


def test_direct_copy_leaves_mail_without_list_headers_alone(bench: dict) -> None:
    raw = message("b@x.example", T, "dana@client.example", ALEX, "[team] Hi", "Hi\n-- \nDana")
    assert bench["mailbox"].direct_copy(raw) == raw


def test_footer_in_a_mime_part_of_its_own_goes_with_its_part(bench: dict) -> None:
    body = (
        b"--b1\nContent-Type: text/plain\n\nCan you review it?\n"
        b"--b1\nContent-Type: text/plain; charset=us-ascii\nContent-Disposition: inline\n\n"
        + FOOTER.encode()
        + b"\n--b1--\n"
    )
    stripped = bench["mailbox"].strip_footer(body)
    assert b"listinfo" not in stripped
    assert stripped.count(b"--b1\n") == 1 and stripped.rstrip().endswith(b"--b1--")
    assert b"Can you review it?" in stripped


def test_ground_truth_follows_branches_and_the_subject_fallback(bench: dict, mailbox: Path) -> None:
    box = bench["mailbox"].Mailbox.load(mailbox)
    answered = box.answered_at
    assert answered["draft@partner.example"] == T - timedelta(days=5)
    assert answered["renewal@client.example"] == T + timedelta(days=2)
    assert answered["budget@ops.example"] == T + timedelta(days=3)  # by subject and people
    assert "offsite@brightpath.example" not in answered
    assert "later@client.example" not in answered


def test_a_reply_to_a_later_message_answers_the_branch_above_it(bench: dict) -> None:
    mb = bench["mailbox"]
    day = timedelta(days=1)

    def mail(mid: str, when: datetime, sender: str, parent: str = "", subject: str = "x") -> object:
        return mb.Mail(
            Path(mid),
            mid,
            when,
            sender,
            (ALEX,),
            (),
            subject,
            in_reply_to=(parent,) if parent else (),
        )

    root = mail("root", T, "dana@client.example")
    child = mail("child", T + day, "sam@partner.example", "root")
    other = mail("other", T + day, "kim@brightpath.example", "root")
    reply = mail("reply", T + 2 * day, ALEX, "child")
    bare = mail("bare", T + 3 * day, ALEX, subject="Re: x")  # to Alex only: answers nobody
    found = mb.ground_truth([root, child, other, reply, bare], lambda m: m.sender == ALEX)
    assert found == {"child": T + 2 * day, "root": T + 2 * day}


def test_subject_fallback_needs_the_sender_among_the_recipients_and_the_window(
    bench: dict,
) -> None:
    mb = bench["mailbox"]
    ask = mb.Mail(Path("a"), "a", T, "pat@ops.example", (ALEX,), (), "Budget")
    to_other = mb.Mail(
        Path("b"), "b", T + timedelta(days=1), ALEX, ("kim@x.example",), (), "RE: Budget"
    )
    too_late = mb.Mail(
        Path("c"), "c", T + timedelta(days=90), ALEX, ("pat@ops.example",), (), "RE: Budget"
    )
    assert mb.ground_truth([ask, to_other, too_late], lambda m: m.sender == ALEX) == {}


def test_labels_at_a_cutoff(bench: dict, mailbox: Path) -> None:
    mb = bench["mailbox"]
    box = mb.Mailbox.load(mailbox)
    labels = {
        lab.mail.message_id: lab.positive
        for lab in box.labelled(T, timedelta(days=45), timedelta(days=14))
    }
    # answered before T, list-only, a bot, too old and after T are not labelled
    assert labels == {"renewal@client.example": True, "budget@ops.example": True}
    shared = mb.Mailbox.load(mailbox, shared=[LIST])
    wider = shared.labelled(T, timedelta(days=45), timedelta(days=14))
    assert {lab.mail.message_id for lab in wider} == {*labels, "offsite@brightpath.example"}
    # a positive needs the answer within the given time after the cutoff
    week_before = T - timedelta(days=7)  # renewal is answered 9 days after, budget 10
    late = box.labelled(week_before, timedelta(days=45), timedelta(days=9, seconds=1))
    assert {lab.mail.message_id: lab.positive for lab in late} == {
        "renewal@client.example": True,
        "budget@ops.example": False,
        "old@client.example": False,
    }


def test_replayed_copies(bench: dict, mailbox: Path) -> None:
    box = bench["mailbox"].Mailbox.load(mailbox)
    by_id = {m.message_id: m for m in box.mails}
    naming = box.replay(by_id["draft@partner.example"])
    assert b"List-Id" not in naming and b"listinfo" not in naming
    own = box.replay(by_id["alex-1@brightpath.example"])
    assert b"List-Id" not in own
    list_only = box.replay(by_id["offsite@brightpath.example"])
    assert list_only == by_id["offsite@brightpath.example"].path.read_bytes()


def test_decisions_count_tasks_outside_the_labels_as_wrong(bench: dict) -> None:
    score = bench["score"]
    d = score.decide({"a", "b"}, {"a", "z"})
    assert (d.tp, d.fp, d.fn) == (1, 1, 1)
    assert d.precision == 0.5 and d.recall == 0.5 and d.f1 == 0.5
    assert score.Decisions().precision == 0.0


def test_roc_auc_counts_ties_as_half(bench: dict) -> None:
    auc = bench["scores"].roc_auc
    assert auc([0.9, 0.8, 0.1], [True, False, False]) == 1.0
    assert auc([0.5, 0.5, 0.5, 0.1], [True, False, True, False]) == 0.75
    assert auc([0.1, 0.9], [True, False]) == 0.0
    assert auc([0.3], [True]) is None


def test_per_week_and_cutoffs(bench: dict) -> None:
    score = bench["score"]
    start = T
    times = [T + timedelta(days=d) for d in (0, 1, 2, 8, 20, 21, 30)]
    weekly = score.per_week(times, start, T + timedelta(days=21))
    assert (weekly.weeks, weekly.mean, weekly.max) == (3, 2.0, 3)  # day 21 is the end: counted
    short = score.per_week(times[:2], start, T + timedelta(days=2))
    assert (short.weeks, short.mean) == (0, 7.0)  # 2 in 2 days: 7 a week
    cuts = score.evenly(T, T + timedelta(days=10), 3)
    assert cuts == [T, T + timedelta(days=5), T + timedelta(days=10)]
    assert score.evenly(T, T + timedelta(days=10), 1) == [T + timedelta(days=10)]


def test_run_times_land_on_every_midnight(bench: dict) -> None:
    times = list(bench["e2e"].run_times(T, T + timedelta(days=2), 7))
    assert len(times) == 15 and times[0] == T and times[-1] == T + timedelta(days=2)
    assert T + timedelta(days=1) in times


def test_the_whole_runner_on_the_tiny_mailbox(
    bench: dict, mailbox: Path, tmp_path: Path, capsys
) -> None:
    work = tmp_path / "work"
    assert bench["e2e"].main(["--mailbox", str(mailbox), "--json", "--work", str(work)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"reply", "baseline", "nudges_per_week", "with_why"}
    assert set(out["reply"]) >= {"precision", "recall", "f1", "auc", "n", "positives"}
    assert (out["reply"]["n"], out["reply"]["positives"]) == (2, 2)
    # the baseline nudges every labelled message: here both are positive
    assert out["baseline"]["precision"] == 1.0 and out["baseline"]["recall"] == 1.0
    assert set(out["nudges_per_week"]) >= {"mean", "max"}
    # only mail dated before the last cutoff reached the Maildir; Alex's own in .Sent
    inbox = sorted(p.read_bytes() for p in (work / "Maildir" / "cur").iterdir())
    sent = sorted(p.read_bytes() for p in (work / "Maildir" / ".Sent" / "cur").iterdir())
    assert len(inbox) == 6 and len(sent) == 1
    assert not any(b"later@client.example" in raw for raw in inbox)
    assert b"alex-1@brightpath.example" in sent[0] and b"List-Id" not in sent[0]
    # nurture's reply tasks are scored against the labels
    tasks = [p for p in (work / "calendar").iterdir() if p.suffix == ".ics"]
    replies = [p for p in tasks if "X-NURTURE-KEY:reply:" in p.read_text()]
    assert out["reply"]["nudges"] == len(replies)


def test_copies_under_other_message_ids_and_undated_files_are_skipped(
    bench: dict, tmp_path: Path
) -> None:
    folder = tmp_path / "box"
    (folder / "m").mkdir(parents=True)
    ask = "Can you approve the travel budget?"
    first = message("1.JavaMail@ops", T, "pat@ops.example", ALEX, "Budget", ask)
    second = message("2.JavaMail@ops", T, "pat@ops.example", ALEX, "Budget", ask)
    undated = first.replace(b"Date: ", b"X-Date: ").replace(b"1.JavaMail", b"3.JavaMail")
    for number, raw in enumerate((first, second, undated)):
        (folder / "m" / f"{number}.eml").write_bytes(raw)
    (folder / "person.json").write_text(json.dumps({"name": "Alex", "addresses": [ALEX]}))
    box = bench["mailbox"].Mailbox.load(folder)
    assert [m.message_id for m in box.mails] == ["1.JavaMail@ops"]
    assert box.skipped == 2


def test_past_reply_rates_use_only_outcomes_known_at_the_cutoff(bench: dict, mailbox: Path) -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import e2e_features
    finally:
        sys.path.remove(str(BENCH))
    box = bench["mailbox"].Mailbox.load(mailbox)
    at_t = e2e_features._History(box, T)
    # at T only the 50-day-old ask is old enough for its 14-day outcome to be known
    assert at_t.by_sender["dana@client.example"] == [0, 1]
    later = e2e_features._History(box, T + timedelta(days=20))
    # by T+20d the renewal (answered at T+2d) and the ask of T+1d have known outcomes
    assert later.by_sender["dana@client.example"] == [1, 3]
    assert later.by_sender["pat@ops.example"] == [1, 1]  # answered by subject and people


def test_figures_score_nurture_and_the_baseline_on_the_same_labels(bench: dict) -> None:
    e2e, mb = bench["e2e"], bench["mailbox"]
    day = timedelta(days=1)

    def mail(mid: str, age_days: float) -> object:
        return mb.Mail(Path(mid), mid, T - age_days * day, "dana@client.example", (ALEX,), (), mid)

    result = e2e.Replay([T], T - 60 * day, reply_window=3 * day)
    result.scored = [
        e2e.Scored(T, mail("young", 1), True, False, 0.2),  # answered soon: missed
        e2e.Scored(T, mail("asked", 5), True, True, 0.9),  # nudged and answered
        e2e.Scored(T, mail("ignored", 9), False, True, 0.8),  # nudged, never answered
        e2e.Scored(T, mail("old", 30), False, False, 0.0),
        e2e.Scored(T, mail("listed", 12), False, False, 0.0, listed=True),  # waits with "asked"
    ]
    result.strays = [e2e.Stray(T, "answered-already", "answered before the cutoff")]
    result.created = [e2e.Created(T - 2 * day, "reply:asked", False)]
    out = e2e.figures(result)
    reply, baseline = out["reply"], out["baseline"]
    assert (reply["nudges"], reply["precision"], reply["recall"]) == (3, 0.3333, 0.5)
    assert reply["auc"] == 0.8333  # 0.9 and 0.2 against 0.8, 0.0 and 0.0: 5 of 6 pairs
    listed = out["detail"]["reply_with_listed"]  # the listed message counts as a wrong nudge
    assert (listed["nudges"], listed["precision"], listed["recall"]) == (4, 0.25, 0.5)
    assert (baseline["nudges"], baseline["precision"], baseline["recall"]) == (5, 0.4, 1.0)
    assert baseline["auc"] == 1.0  # both positives are the newest
    split = out["detail"]["baseline_split"]
    assert split["younger_than_reply_window"]["n"] == 1
    assert split["reply_window_passed"]["positives"] == 1
    assert out["with_why"] == 0.0 and out["nudges_per_week"]["reply"]["mean"] == 0.25


def test_threads_follow_references_reply_chains_and_bare_subjects(bench: dict) -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import e2e_features
    finally:
        sys.path.remove(str(BENCH))
    mb = bench["mailbox"]
    day = timedelta(days=1)
    dana, pat = "dana@client.example", "pat@ops.example"
    mails = [
        mb.Mail(Path("a"), "a", T, dana, (ALEX,), (), "Pricing"),
        mb.Mail(Path("b"), "b", T + day, ALEX, (dana,), (), "Re: Pricing", ("a",)),
        mb.Mail(Path("c"), "c", T + 2 * day, dana, (ALEX,), (), "Re: Pricing", ("b",)),
        mb.Mail(Path("d"), "d", T + 3 * day, pat, (ALEX,), (), "Re: Pricing", (), ("a", "c")),
        mb.Mail(Path("e"), "e", T + 4 * day, ALEX, (dana,), (), "RE: pricing"),  # bare reply
        mb.Mail(
            Path("f"), "f", T + 5 * day, "kim@x.example", ("lee@y.example",), (), "RE: pricing"
        ),
    ]
    threads = e2e_features.Threads(mails)
    assert [m.message_id for m in threads.of(mails[2])] == ["a", "b", "c", "d", "e"]
    assert [m.message_id for m in threads.of(mails[5])] == ["f"]  # nobody in common


def test_with_a_shared_inbox_nurture_reads_the_list_and_scores_every_labelled_message(
    bench: dict, mailbox: Path, tmp_path: Path, capsys
) -> None:
    work = tmp_path / "work"
    args = ["--mailbox", str(mailbox), "--json", "--work", str(work), "--shared", LIST]
    assert bench["e2e"].main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["detail"]["shared_inboxes_supported"] is True
    assert (out["reply"]["n"], out["reply"]["positives"]) == (3, 2)  # the offsite ask too
    assert "shared" in (work / "config.toml").read_text()
    sys.path.insert(0, str(BENCH))
    try:
        import e2e_nurture
    finally:
        sys.path.remove(str(BENCH))
    # the score is nurture's judgement of the message, whether or not it got a task
    assert e2e_nurture.needs_reply_score({"a@x": 0.3}, "a@x") == 0.3
    assert e2e_nurture.needs_reply_score({}, "b@x") == 0.0
