"""The evaluation runner on a tiny corpus written here: labelling, matching, JSON schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="module")
def runner() -> ModuleType:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    try:
        import eval as module  # bench/eval.py
    finally:
        sys.path.pop(0)
    return module


def test_nested_signature_zone_is_negative(runner: ModuleType) -> None:
    text = "Please call me.\n-- \nSam Lee\n555-0100\nOn Mon, Jo wrote:\n> hi\n"
    sig_start = text.index("-- ")
    header_start = text.index("On Mon")
    ann = {
        "text": text,
        "denotations": [
            {"start": 0, "end": header_start, "type": "Body"},
            {"start": sig_start, "end": header_start, "type": "Body/Signature"},
            {"start": header_start, "end": text.index("> hi"), "type": "Header"},
            {"start": text.index("> hi"), "end": len(text), "type": "Body"},
        ],
    }
    assert runner._labelled_lines(ann) == [
        ("Please call me.", True),
        ("-- ", False),
        ("Sam Lee", False),
        ("555-0100", False),
        ("On Mon, Jo wrote:", False),
        ("> hi", False),
    ]


def test_kept_matches_decoded_quoted_printable_lines(runner: ModuleType) -> None:
    lines = ["Caf=C3=A9 opens at nine and the long line is wr=", "apped here.=20", "=20", "Bye"]
    output = "Café opens at nine and the long line is wrapped here.\n\nBye"
    assert runner._kept(lines, output, quoted_printable=True) == [True, True, True, True]
    assert runner._kept(lines, "Bye", quoted_printable=True) == [False, False, False, True]


def test_counts(runner: ModuleType) -> None:
    counts = runner.Counts.of([True, True, False, False], [True, False, True, False])
    assert (counts.precision, counts.recall, counts.f1, counts.accuracy) == (0.5, 0.5, 0.5, 0.5)


def _write_corpus(root: Path) -> None:
    (root / "intent").mkdir(parents=True)
    (root / "intent" / "mini.tsv").write_text(
        "Yes\tCould you send me the report by Friday?\nNo\tThe weather was lovely today.\n"
        "Yes\tPlease review the attached plan.\nNo\tWe had lunch at noon.\n"
    )
    zones = root / "zones" / "mini"
    zones.mkdir(parents=True)
    body = "Works for me.\n\nOn Mon, Mar 2, 2026 at 9:00 AM Jo <jo@example.org> wrote:\n> ok?\n"
    (zones / "m1.txt").write_text("From: a@example.org\nSubject: x\n\n" + body)
    header = body.index("On Mon")
    (zones / "m1.txt.ann").write_text(
        json.dumps(
            {
                "text": body,
                "denotations": [
                    {"start": 0, "end": header, "type": "Body"},
                    {"start": header, "end": body.index("> ok"), "type": "Header"},
                ],
            }
        )
    )
    cats = root / "enron-categories" / "1"
    cats.mkdir(parents=True)
    (cats / "1.txt").write_text("From: a@example.org\nSubject: y\n\nI am upset and worried.\n")
    (cats / "1.cats").write_text("1,1,1\n4,16,1\n")
    (cats / "2.txt").write_text("From: b@example.org\nSubject: z\n\nLunch is at noon.\n")
    (cats / "2.cats").write_text("1,4,1\n")
    tone = root / "tone"
    tone.mkdir()
    (tone / "mine.tsv").write_text(
        "Yes\tThis is the third time I write and my refund still hasn't arrived!\n"
        "No\tThanks, the parcel came today.\\nAll good.\n"
        "Yes\tI am furious, you ruined the whole weekend.\n"
        "No\tCan you tell me when the shop opens?\n"
        "bad line without a label\n"
    )
    (root / "mime").mkdir()
    (root / "mime" / "broken.eml").write_bytes(b"\xff\xfe Content-Type: multipart/x\r\n\r\n--")


def test_json_report_has_the_documented_schema(
    runner: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_corpus(tmp_path)
    assert runner.main(["--corpus", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"asks", "newest_text", "upset", "tone", "robustness"}
    assert set(report["asks"]) == {"precision", "recall", "f1", "n", "files"}
    assert report["asks"]["n"] == 4
    assert set(report["asks"]["files"]["mini.tsv"]) == {
        "precision",
        "recall",
        "f1",
        "auc",
        "positives",
        "n",
        "trained_on",
    }
    assert report["asks"]["files"]["mini.tsv"]["trained_on"] is False
    assert set(report["newest_text"]["mini"]) == {"accuracy", "f1", "baseline_accuracy", "n"}
    assert report["newest_text"]["mini"]["accuracy"] == 1.0
    tone_keys = {
        "precision",
        "recall",
        "f1",
        "auc",
        "recover",
        "vader_auc",
        "vader_best_f1",
        "n",
        "trained_on",
    }
    assert set(report["upset"]) == tone_keys | {"baseline_f1"}
    assert report["upset"]["n"] == 2
    mine = report["tone"]["mine.tsv"]
    assert set(mine) == tone_keys
    assert set(mine["recover"]) == {"precision", "recall", "f1"}
    assert mine["n"] == 4 and mine["trained_on"] is False
    assert mine["auc"] == 1.0  # both complaints outscore both calm notes
    assert report["robustness"] == {"files": 1, "errors": 0}


def test_table_names_every_section(
    runner: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_corpus(tmp_path)
    assert runner.main(["--corpus", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for label in ("asks (sentences)", "newest text: mini", "upset tone", "mine.tsv", "robustness"):
        assert label in out


def test_tone_files_read_escapes(runner: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "x.tsv"
    path.write_text("Yes\tone\\ntwo \\\\n three\nNo\tplain\n")
    texts, truth = runner._read_labelled(path)
    assert texts == ["one\ntwo \\n three", "plain"]
    assert truth == [True, False]


def test_roc_auc_counts_ties_half(runner: ModuleType) -> None:
    assert runner.roc_auc([True, False], [0.9, 0.1]) == 1.0
    assert runner.roc_auc([True, False], [0.5, 0.5]) == 0.5
    assert runner.roc_auc([True, False, True, False], [0.8, 0.6, 0.4, 0.2]) == 0.75


def test_false_alarms_count_developer_mail_at_each_line(runner: ModuleType, tmp_path: Path) -> None:
    box = tmp_path / "mailboxes" / "linux-man"
    (box / "m").mkdir(parents=True)
    (box / "person.json").write_text(
        json.dumps({"addresses": ["me@example.org"], "bots": ["bot@example.org"]})
    )
    head = "From: {0}\nTo: me@example.org\nSubject: {1}\nMessage-ID: <{2}@x>\n\n"
    mails = [
        ("dev@example.org", "Re: [PATCH] fcntl.2: fix the example", "It looks good to me."),
        ("me@example.org", "Re: [PATCH] fcntl.2", "I still haven't received my order!"),
        ("bot@example.org", "applied", "Applied, thanks."),
        ("ann@example.org", "my order 2231", "I am furious: you ruined my whole weekend."),
    ]
    for i, (sender, subject, text) in enumerate(mails):
        (box / "m" / f"{i:06d}.eml").write_text(head.format(sender, subject, i) + text + "\n")
    found = runner.eval_false_alarms(tmp_path)
    assert set(found) == {"linux-man", "lists", "asf", "enron-mail", "customers"}
    assert found["linux-man"]["n"] == 2  # neither the person's own mail nor the bot's
    assert found["linux-man"]["recover"] == 1  # the furious one
    assert found["linux-man"]["recover_rate"] == 0.5
    assert found["lists"]["n"] == 0
    assert set(found["customers"]) == {"n", "complaints", "auc", "recover"}
    assert found["customers"]["recover"]["precision"] >= 0.8
