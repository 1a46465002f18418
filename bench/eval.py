"""Measure nurture's NLP signals on real, labelled public mail.

    python bench/eval.py --corpus ../shared/corpora [--json]

Reads whichever of these it finds under --corpus (see ../shared/corpora/README.md):

- intent/*.tsv            asks, sentence level (Yes = the sentence asks something of the reader),
                          all files together and each file on its own
- zones/<set>/*.ann       newest text, line level, per set, beside a quote-marker baseline
- enron-categories/N/     upset tone, message level, beside VADER in the same run
- tone/*.tsv              upset tone, one text per line (`Yes|No`, a tab, the text with
                          `\n` for a line break and `\\` for a backslash), each file on its
                          own: P/R/F1 at the upset line (0.5) and at the recover line (0.7),
                          ROC AUC, and VADER's AUC and best-threshold F1 on the same texts.
                          Any file dropped into the folder is scored the same way.
- mime/, mbox/, threads/  robustness: every file through extraction and signals, errors counted
- mailboxes/linux-man/    tone_false_alarms (`bench/tone_false_alarms.py`): the share of
                          developer mail (that mailbox; threads/ and mbox/) at the upset and
                          recover lines, beside the project's customer messages' AUC and
                          recover-line precision and recall

The corpora are read in place and never copied; nothing about a message is stored.
Where a shipped model was trained on a file, or a line or threshold chosen on it, the
report says so (`trained_on`, and a note under the table): those figures are not a
measure of mail the model has not seen.
"""

from __future__ import annotations

import argparse
import email
import email.utils
import hashlib
import json
import logging
import quopri
import re
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scores import Counts
from scores import roc_auc as scores_roc_auc

from nurture.model import UTC, Address, Body, Message
from nurture.nlp import UPSET_THRESHOLD, Reader, analyse, ask_scores, newest_text
from nurture.nlp.classifier import load as load_model
from nurture.nlp.text import body_text, newest_lines

log = logging.getLogger("bench.eval")

UPSET_CATEGORIES = frozenset({"4.11", "4.12", "4.13", "4.16", "4.17", "4.18", "4.19"})
READER = Reader(addresses=("reader@example.invalid",), timezone="America/Chicago")


# ----------------------------------------------------------------------------- messages


def message_from_raw(raw: bytes, ident: str) -> Message:
    """A Message built from raw RFC 822 bytes, tolerant of broken headers."""
    from nurture.model import RULE_HEADERS

    try:
        parsed = email.message_from_bytes(raw[:2_000_000])
    except Exception:
        parsed = email.message_from_string("")

    def header(name: str) -> str:
        try:
            value = parsed.get(name)
            return " ".join(str(value).split()) if value is not None else ""
        except Exception:
            return ""

    date_header = header("date")
    when = datetime(2000, 1, 1, tzinfo=UTC)
    try:
        found = email.utils.parsedate_to_datetime(date_header) if date_header else None
        if found is not None:
            when = found if found.tzinfo else found.replace(tzinfo=UTC)
    except Exception:
        pass

    def addresses(name: str) -> tuple[Address, ...]:
        try:
            pairs = email.utils.getaddresses([header(name)])
        except Exception:
            return ()
        return tuple(Address(addr, disp) for disp, addr in pairs if addr)

    sender = (addresses("from") or (Address("unknown@example.invalid"),))[0]
    return Message(
        id=ident,
        message_id=header("message-id").strip("<>") or ident,
        date=when,
        sender=sender,
        to=addresses("to"),
        cc=addresses("cc"),
        subject=header("subject"),
        headers={name: header(name) for name in RULE_HEADERS if header(name)},
    )


# ----------------------------------------------------------------------------- asks


def _read_labelled(path: Path) -> tuple[list[str], list[bool]]:
    """Texts and labels of a `Yes|No<TAB>text` file (`\n` a line break, `\\` a backslash)."""
    texts: list[str] = []
    truth: list[bool] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        label, sep, text = line.partition("\t")
        if not sep or label.strip() not in {"Yes", "No"}:
            continue
        truth.append(label.strip() == "Yes")
        texts.append(_UNESCAPE.sub(_unescape_one, text).strip())
    return texts, truth


_UNESCAPE = re.compile(r"\\(.)")


def _unescape_one(match: re.Match[str]) -> str:
    char = match.group(1)
    return "\n" if char == "n" else "\\" if char == "\\" else match.group(0)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def eval_asks(corpus: Path) -> dict[str, Any] | None:
    """The sentence classifier (`ask_scores`: does a sentence request or propose something
    of the reader?) on each labelled file, as the files define an ask. The daemon's
    second layer, which drops asks that wait on no reply, is not measured here."""
    files = sorted((corpus / "intent").glob("*.tsv"))
    if not files:
        return None
    from nurture.nlp import ASK_THRESHOLD

    model = load_model("asks")
    trained = str(model.meta.get("data_sha256", "")) if model is not None else ""
    truth: list[bool] = []
    scores: list[float] = []
    by_file: dict[str, dict[str, Any]] = {}
    for path in files:
        sentences, labels = _read_labelled(path)
        found = ask_scores(sentences)
        counts = Counts.of(labels, [s >= ASK_THRESHOLD for s in found])
        trained_on = _sha256(path) == trained
        by_file[path.name] = {
            "precision": counts.precision,
            "recall": counts.recall,
            "f1": counts.f1,
            "auc": roc_auc(labels, found),
            "positives": sum(labels),
            "n": counts.n,
            "trained_on": trained_on,
        }
        if trained_on and model is not None:
            cv = model.meta.get("cross_validation", {})
            prior = model.meta.get("precision_floor_at_prior")
            TRAINED_ON.append(
                f"asks: the shipped classifier was trained on {path.name}, so its figures are "
                f"training figures; its nested 5-fold cross-validation gave precision "
                f"{cv.get('precision')}, recall {cv.get('recall')}, F1 {cv.get('f1')}, "
                f"ROC AUC {cv.get('auc')}; as if {prior} of sentences asked: precision "
                f"{cv.get(f'precision_at_prior_{prior}')}, F1 {cv.get(f'f1_at_prior_{prior}')}"
            )
        truth += labels
        scores += found
    counts = Counts.of(truth, [s >= ASK_THRESHOLD for s in scores])
    return {
        "precision": counts.precision,
        "recall": counts.recall,
        "f1": counts.f1,
        "n": counts.n,
        "files": by_file,
    }


def roc_auc(truth: Sequence[bool], scores: Sequence[float]) -> float:
    """`scores.roc_auc` in this runner's argument order; NaN where a class is empty."""
    auc = scores_roc_auc(scores, truth)
    return float("nan") if auc is None else auc


# Notes printed under the table: figures measured on a model's own training data.
TRAINED_ON: list[str] = []


# ----------------------------------------------------------------------------- zones

_BASELINE_MARKER = re.compile(
    r"^\s*(?:-{2,}\s*Original Message|From:|>|On\s.{0,300}wrote:|"
    r".{0,80}\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2})",
    re.IGNORECASE,
)


def _norm(text: str) -> str:
    """The letters and digits of a text, lower case: identity across charsets and wraps."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _labelled_lines(ann: dict[str, Any]) -> list[tuple[str, bool]]:
    """(line, is newest text) for every non-blank line of an annotated message.

    Zones nest (a Body span contains its Body/Signature span), so a character counts as
    newest text when a Body zone covers it and no Body/Signature or Body/Attachments zone
    does; a line is positive when it has such a character and starts before the first
    Header zone (the start of quoted mail).
    """
    text: str = ann.get("text", "")
    denotations = ann.get("denotations", [])
    header_starts = [d["start"] for d in denotations if str(d.get("type", "")).startswith("Header")]
    first_header = min(header_starts, default=len(text) + 1)
    mask = bytearray(len(text) + 1)
    for d in denotations:
        kind = str(d.get("type", ""))
        if kind.startswith("Body") and not kind.startswith(_EXCLUDED_ZONES):
            for i in range(max(0, d["start"]), min(len(text), d["end"])):
                mask[i] = mask[i] or 1
    for d in denotations:
        if str(d.get("type", "")).startswith(_EXCLUDED_ZONES):
            for i in range(max(0, d["start"]), min(len(text), d["end"])):
                mask[i] = 0
    result: list[tuple[str, bool]] = []
    offset = 0
    for line in text.split("\n"):
        start, end = offset, offset + len(line)
        offset = end + 1
        if not line.strip():
            continue
        positive = start < first_header and any(
            mask[i] and not text[i].isspace() for i in range(start, end)
        )
        result.append((line, positive))
    return result


_EXCLUDED_ZONES = ("Body/Signature", "Body/Attachments")


def _decode_qp_line(line: str) -> str:
    """One line of a quoted-printable body as the reader sees it (soft break removed)."""
    if line.endswith("="):
        line = line[:-1]
    try:
        return quopri.decodestring(line.encode("latin-1")).decode("utf-8", errors="replace")
    except (UnicodeEncodeError, ValueError):
        return line


def _kept(lines: Sequence[str], output: str, *, quoted_printable: bool) -> list[bool]:
    """Which annotated `lines` the extractor's `output` kept.

    The annotation holds the body as transmitted (quoted-printable undecoded, soft line
    breaks kept) while the extractor returns decoded text, so lines are compared on
    their letters and digits only, in order: a line counts as kept when its letters
    occur in the output after those of the previous kept line.
    """
    flat = _norm(output)
    kept: list[bool | None] = []
    pointer = 0
    for line in lines:
        key = _norm(_decode_qp_line(line) if quoted_printable else line)
        if not key:
            kept.append(None)  # only spaces or rules: decided by its neighbours below
            continue
        limit = len(flat) if len(key) >= 8 else pointer + 400
        found = flat.find(key, pointer, limit + len(key))
        if found >= 0:
            pointer = found + len(key)
            kept.append(True)
        else:
            kept.append(False)
    # A line without letters or digits ("=20", "-----") was kept when the lines with
    # text on both sides of it were.
    decided = [k for k in kept if k is not None]
    result: list[bool] = []
    seen = 0
    for k in kept:
        if k is None:
            before = decided[seen - 1] if seen > 0 else False
            after = decided[seen] if seen < len(decided) else False
            result.append(before and after)
        else:
            result.append(k)
            seen += 1
    return result


def _baseline(lines: Sequence[str]) -> list[bool]:
    kept = []
    cut = False
    for line in lines:
        cut = cut or bool(_BASELINE_MARKER.match(line))
        kept.append(not cut)
    return kept


def eval_zones(corpus: Path) -> dict[str, dict[str, Any]] | None:
    root = corpus / "zones"
    if not root.is_dir():
        return None
    results: dict[str, dict[str, Any]] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        truth: list[bool] = []
        ours: list[bool] = []
        base: list[bool] = []
        for ann_path in sorted(folder.glob("*.ann")):
            raw_path = ann_path.with_suffix("")
            if not raw_path.is_file():
                continue
            ann = json.loads(ann_path.read_text(encoding="utf-8", errors="replace"))
            labelled = _labelled_lines(ann)
            lines = [line for line, _ in labelled]
            raw = raw_path.read_bytes()
            # The zones put text typed below or between quotes inside the quoted
            # message's zone, so the first block is what they label newest; the signals
            # also read the lines below quotes (tests/nlp/test_own_text.py).
            output = newest_text(Body(raw=raw), below_quotes=False)
            qp = bool(re.search(rb"(?im)^content-transfer-encoding:\s*quoted-printable", raw))
            truth += [positive for _, positive in labelled]
            ours += _kept(lines, output, quoted_printable=qp)
            base += _baseline(lines)
        if not truth:
            continue
        counts = Counts.of(truth, ours)
        results[folder.name] = {
            "accuracy": counts.accuracy,
            "f1": counts.f1,
            "baseline_accuracy": Counts.of(truth, base).accuracy,
            "n": counts.n,
        }
    return results


# ----------------------------------------------------------------------------- upset


def labels_of(cats: Path) -> set[str]:
    """The `category.subcategory` labels of a `.cats` file (`4,12,1` is `4.12`)."""
    labels = set()
    for row in cats.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = row.split(",")
        if len(parts) >= 2:
            labels.add(f"{parts[0].strip()}.{parts[1].strip()}")
    return labels


def labels_digest(cats: Sequence[Path]) -> str:
    """A sha256 over the names and contents of a set of `.cats` label files."""
    digest = hashlib.sha256()
    for path in sorted(cats, key=lambda p: (p.parent.name, p.name)):
        digest.update(f"{path.parent.name}/{path.name}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _upset_meta() -> dict[str, Any]:
    model = load_model("upset")
    return dict(model.meta) if model is not None else {}


def eval_upset(corpus: Path) -> dict[str, Any] | None:
    root = corpus / "enron-categories"
    cats = sorted(root.glob("*/*.cats")) if root.is_dir() else []
    if not cats:
        return None
    truth: list[bool] = []
    items: list[tuple[Message, Body]] = []
    for cat_path in cats:
        raw_path = cat_path.with_suffix(".txt")
        if not raw_path.is_file():
            continue
        raw = raw_path.read_bytes()
        truth.append(bool(labels_of(cat_path) & UPSET_CATEGORIES))
        items.append((message_from_raw(raw, str(raw_path)), Body(raw=raw)))
    meta = _upset_meta()
    trained_on = labels_digest(cats) == meta.get("data", {}).get("berkeley_labels_sha256")
    if trained_on:
        cv = meta.get("berkeley_cross_validation", {})
        TRAINED_ON.append(
            "upset (Berkeley): the concern number was chosen on these labels, so the figures "
            f"are partly training figures; its 5-fold cross-validation gave precision "
            f"{cv.get('precision')}, recall {cv.get('recall')}, F1 {cv.get('f1')} "
            "(scripts/train_upset.py)"
        )
    scores = [s.upset for s in analyse(items, READER)]
    vader = _vader([newest_text(body)[:20_000] for _, body in items])
    result = _tone_figures(truth, scores, vader)
    result["baseline_f1"] = result["vader_best_f1"]
    result["trained_on"] = trained_on
    return result


def _tone_figures(
    truth: Sequence[bool], scores: Sequence[float], vader: Sequence[float] | None
) -> dict[str, Any]:
    """P/R/F1 at the upset and recover lines, AUC, and VADER's figures on the same texts."""
    from nurture.detect import UPSET_MIN

    at_line = Counts.of(truth, [s >= UPSET_THRESHOLD for s in scores])
    recover = Counts.of(truth, [s >= UPSET_MIN for s in scores])
    return {
        "precision": at_line.precision,
        "recall": at_line.recall,
        "f1": at_line.f1,
        "auc": roc_auc(truth, scores),
        "recover": {"precision": recover.precision, "recall": recover.recall, "f1": recover.f1},
        "vader_auc": roc_auc(truth, [-c for c in vader]) if vader else float("nan"),
        "vader_best_f1": _best_f1(truth, vader) if vader else float("nan"),
        "n": at_line.n,
    }


def _vader(texts: Sequence[str]) -> list[float] | None:
    """VADER's compound score of each text (-1 most negative), or None when not installed."""
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        log.warning("vaderSentiment not installed: no baseline")
        return None
    analyser = SentimentIntensityAnalyzer()
    return [analyser.polarity_scores(text)["compound"] for text in texts]


def _best_f1(truth: Sequence[bool], compound: Sequence[float]) -> float:
    """F1 of VADER's compound score at its best threshold (upset = compound <= t)."""
    best = 0.0
    for step in range(-100, 101, 2):
        threshold = step / 100
        best = max(best, Counts.of(truth, [c <= threshold for c in compound]).f1)
    return best


def eval_tone(corpus: Path) -> dict[str, dict[str, Any]] | None:
    """Each `tone/*.tsv`: every text read as the body of one message from a person."""
    files = sorted((corpus / "tone").glob("*.tsv"))
    if not files:
        return None
    meta = _upset_meta()
    data = meta.get("data", {})
    used = {data.get("train_sha256"): "trained on it", data.get("dev_sha256"): "lines chosen on it"}
    results: dict[str, dict[str, Any]] = {}
    for path in files:
        texts, truth = _read_labelled(path)
        if not texts:
            continue
        sender = Address("writer@example.invalid", "A Writer")
        items = [
            (
                Message(
                    id=f"{path.name}#{i}",
                    message_id=f"{i}@example.invalid",
                    date=datetime(2020, 1, 1, tzinfo=UTC),
                    sender=sender,
                    to=(Address("reader@example.invalid"),),
                ),
                Body(text=text),
            )
            for i, text in enumerate(texts)
        ]
        scores = [s.upset for s in analyse(items, READER)]
        result = _tone_figures(truth, scores, _vader(texts))
        how = used.get(_sha256(path))
        result["trained_on"] = how is not None
        if how:
            TRAINED_ON.append(f"tone {path.name}: the upset model's {how}; not a measure")
        results[path.name] = result
    return results


# ----------------------------------------------------------------------------- robustness


def _mbox_messages(data: bytes) -> list[bytes]:
    """Split an mbox read as bytes at its 'From ' lines (8-bit lines allowed)."""
    parts = re.split(rb"(?m)^From [^\n]*\n", data)
    return [p for p in parts if p.strip()] or [data]


def eval_robustness(corpus: Path) -> dict[str, Any] | None:
    roots = [corpus / name for name in ("mime", "mbox", "threads") if (corpus / name).is_dir()]
    if not roots:
        return None
    files = 0
    errors = 0
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            files += 1
            data = path.read_bytes()
            messages = _mbox_messages(data) if root.name == "mbox" else [data]
            try:
                for index, raw in enumerate(messages):
                    body = Body(raw=raw)
                    newest_lines(body_text(body, strict=True))
                    analyse([(message_from_raw(raw, f"{path}#{index}"), body)], READER, strict=True)
            except Exception as exc:
                errors += 1
                log.error("%s: %s: %s", path, type(exc).__name__, exc)
    return {"files": files, "errors": errors}


def eval_false_alarms(corpus: Path) -> dict[str, Any] | None:
    """How much developer mail reaches the recover line (`bench/tone_false_alarms.py`)."""
    if not (corpus / "mailboxes" / "linux-man").is_dir():
        return None
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import tone_false_alarms  # bench/tone_false_alarms.py, beside this file

    TRAINED_ON.append(
        "tone_false_alarms linux-man: the words that mark a message about code were written "
        "while looking at what reached the recover line there; a development figure"
    )
    return tone_false_alarms.measure_all(corpus)


# ----------------------------------------------------------------------------- report


def run(corpus: Path) -> dict[str, Any]:
    TRAINED_ON.clear()
    report: dict[str, Any] = {}
    for name, fn in (
        ("asks", eval_asks),
        ("newest_text", eval_zones),
        ("upset", eval_upset),
        ("tone", eval_tone),
        ("robustness", eval_robustness),
        ("tone_false_alarms", eval_false_alarms),
    ):
        started = time.monotonic()
        result = fn(corpus)
        log.info("%s took %.1f s", name, time.monotonic() - started)
        if result is not None:
            report[name] = result
    return report


def table(report: dict[str, Any]) -> str:
    """The report as an aligned plain-text table."""
    rows: list[tuple[str, str, str]] = []
    if "asks" in report:
        a = report["asks"]
        rows.append(("asks (sentences)", "precision", f"{a['precision']:.3f}"))
        rows.append(("", "recall", f"{a['recall']:.3f}"))
        rows.append(("", "F1", f"{a['f1']:.3f}"))
        rows.append(("", "sentences", str(a["n"])))
        for name, f in a.get("files", {}).items():
            mark = " (trained on this file)" if f["trained_on"] else ""
            rows.append((f"  {name}{mark}", "P / R / F1", _prf(f)))
            rows.append(("", "ROC AUC / asks / n", f"{f['auc']:.3f} / {f['positives']} / {f['n']}"))
    for name, z in report.get("newest_text", {}).items():
        rows.append((f"newest text: {name}", "line accuracy", f"{z['accuracy']:.3f}"))
        rows.append(("", "baseline line accuracy", f"{z['baseline_accuracy']:.3f}"))
        rows.append(("", "line F1", f"{z['f1']:.3f}"))
        rows.append(("", "lines", str(z["n"])))
    tones = dict(report.get("tone", {}))
    if "upset" in report:
        tones = {"enron-categories": report["upset"], **tones}
    for name, u in tones.items():
        mark = " (trained on this file)" if u.get("trained_on") else ""
        rows.append((f"upset tone: {name}{mark}", "P / R / F1 at 0.5", _prf(u)))
        rows.append(("", "P / R / F1 at 0.7 (recover)", _prf(u["recover"])))
        rows.append(("", "ROC AUC", f"{u['auc']:.3f}"))
        rows.append(("", "VADER AUC / best F1", f"{u['vader_auc']:.3f} / {u['vader_best_f1']:.3f}"))
        rows.append(("", "messages", str(u["n"])))
    for name, f in report.get("tone_false_alarms", {}).items():
        if name == "customers":
            rows.append(("complaints: customer messages (tests)", "ROC AUC", f"{f['auc']:.3f}"))
            at = f["recover"]
            rows.append(("", "P / R at 0.7", f"{at['precision']:.3f} / {at['recall']:.3f}"))
            continue
        rows.append(
            (f"developer mail: {name}", "share at 0.7 (recover)", f"{f['recover_rate']:.4f}")
        )
        rows.append(("", "share at 0.5 (upset)", f"{f['upset_rate']:.4f}"))
        rows.append(("", "messages", str(f["n"])))
    if "robustness" in report:
        r = report["robustness"]
        rows.append(("robustness", "files", str(r["files"])))
        rows.append(("", "errors", str(r["errors"])))
    lines = [f"{'signal':<44}{'metric':<30}{'value':>20}", "-" * 94]
    lines += [f"{a:<44}{b:<30}{c:>20}" for a, b, c in rows]
    lines += [f"note: {note}" for note in TRAINED_ON]
    return "\n".join(lines)


def _prf(f: dict[str, Any]) -> str:
    return f"{f['precision']:.3f} / {f['recall']:.3f} / {f['f1']:.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="folder like ../shared/corpora")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.corpus.is_dir():
        parser.error(f"{args.corpus} is not a folder; point --corpus at ../shared/corpora")
    report = run(args.corpus)
    if args.json:
        print(json.dumps(report, indent=2))
        for note in TRAINED_ON:
            print(f"note: {note}", file=sys.stderr)
    else:
        print(table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
