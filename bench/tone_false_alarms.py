"""How often ordinary developer mail reaches the upset and recover lines.

    .venv/bin/python bench/tone_false_alarms.py --corpus ../shared/corpora [--json] [--show N]

A recover nudge asks the user to call someone who is upset; on a maintainer's mailing
list mail that only disagrees ("this is not quite correct", "that doesn't work with
glibc 2.31", a bug report, a code review) it is a false task, the costliest kind. No
corpus here labels developer mail for tone, but nearly all of it is ordinary technical
discussion, so the share of it at or above the recover line (0.7) is close to a
false-alarm rate (a handful of truly heated posts are counted with it).

Sets measured apart, so that one can be used for development and the others reported:

- `linux-man`: the human messages of `mailboxes/linux-man` not from the person (the
  mail a maintainer receives: bug reports, patches, reviews, questions);
- `lists`: every message of `threads/` (lkml, the notmuch list, ...) and `mbox/`
  (mailing-list archives);
- `asf`: the messages of `zones/asf` (Apache mailing lists: users' questions and bug
  reports, developers' replies), and beside the developer mail
- `enron-mail`: the messages of `zones/enron` (Enron business mail, sent and received),
  of which a few percent are upset (6% of the Berkeley categories' messages).

Prints per set the number of messages the analyser read (not automated by their
headers), how many reach the upset line (0.5) and the recover line (0.7), and with
`--show N` the first N recover-line sentences (for looking, never for tuning to them).
Beside them, what must not be lost: on the project's own customer messages
(`tests/nlp/data/customer-messages.tsv`, complaints and other customer mail) the ROC AUC
and the precision and recall of complaints at the recover line. `bench/eval.py` reports
the same figures as its `tone_false_alarms` section.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import eval as corpus_eval  # bench/eval.py: the same message reading
from e2e_mailbox import direct_copy  # a list's copy as its recipient got it directly

from nurture.detect import UPSET_MIN
from nurture.model import Body, Message
from nurture.nlp import UPSET_THRESHOLD, analyse

Item = tuple[Message, Body]


def linux_man(corpus: Path) -> Iterator[Item]:
    """The mailbox's messages from other humans (not the person, not a bot)."""
    root = corpus / "mailboxes" / "linux-man"
    person = json.loads((root / "person.json").read_text())
    own = {a.lower() for a in person["addresses"]} | {b.lower() for b in person["bots"]}
    for path in sorted((root / "m").glob("*.eml")):
        raw = direct_copy(path.read_bytes())
        message = corpus_eval.message_from_raw(raw, path.name)
        if message.sender.email.lower() not in own:
            yield message, Body(raw=raw)


def lists(corpus: Path) -> Iterator[Item]:
    """Every message of the threads/ and mbox/ corpora."""
    for name in ("threads", "mbox"):
        for path in sorted(p for p in (corpus / name).rglob("*") if p.is_file()):
            if path.suffix in {".txt", ".md"} or path.name in {"README", "LICENSE.upstream"}:
                continue
            data = path.read_bytes()
            parts = corpus_eval._mbox_messages(data) if name == "mbox" else [data]
            for i, listed in enumerate(parts):
                raw = direct_copy(listed)
                yield corpus_eval.message_from_raw(raw, f"{path}#{i}"), Body(raw=raw)


def zones(name: str) -> Callable[[Path], Iterator[Item]]:
    """The messages of a `zones/<name>` set (the files the `.ann` annotations label)."""

    def read(corpus: Path) -> Iterator[Item]:
        for ann in sorted((corpus / "zones" / name).glob("*.ann")):
            path = ann.with_suffix("")
            if path.is_file():
                raw = direct_copy(path.read_bytes())
                yield corpus_eval.message_from_raw(raw, path.name), Body(raw=raw)

    return read


SETS = {
    "linux-man": linux_man,
    "lists": lists,
    "asf": zones("asf"),
    "enron-mail": zones("enron"),
}
CUSTOMERS = (
    Path(__file__).resolve().parent.parent / "tests" / "nlp" / "data" / "customer-messages.tsv"
)


def measure(items: Sequence[Item], show: int = 0) -> dict[str, Any]:
    """The messages read, and how many reach each line."""
    found = analyse(items, corpus_eval.READER)
    read = [s for s in found if s.automated is None]
    upset = [s for s in read if s.upset >= UPSET_THRESHOLD]
    recover = [s for s in read if s.upset >= UPSET_MIN]
    for s in recover[:show]:
        print(f"  {s.upset:.2f}  {s.upset_sentence[:150]!r}", file=sys.stderr)
    n = len(read)
    return {
        "n": n,
        "upset": len(upset),
        "recover": len(recover),
        "upset_rate": round(len(upset) / n, 4) if n else 0.0,
        "recover_rate": round(len(recover) / n, 4) if n else 0.0,
    }


def customers(path: Path = CUSTOMERS) -> dict[str, Any]:
    """ROC AUC, and complaints' precision and recall at the recover line, on the
    project's customer messages (each the body of a mail to a help desk)."""
    from datetime import UTC, datetime

    from nurture.model import Address

    texts, truth = corpus_eval._read_labelled(path)
    items = [
        (
            Message(
                id=str(i),
                message_id=f"{i}@example.org",
                date=datetime(2026, 3, 4, tzinfo=UTC),
                sender=Address(f"customer{i}@example.org", "A Customer"),
                to=(Address("reader@example.invalid"),),
            ),
            Body(text=text),
        )
        for i, text in enumerate(texts)
    ]
    scores = [s.upset for s in analyse(items, corpus_eval.READER)]
    at = corpus_eval.Counts.of(truth, [s >= UPSET_MIN for s in scores])
    return {
        "n": len(truth),
        "complaints": sum(truth),
        "auc": round(corpus_eval.roc_auc(truth, scores), 4),
        "recover": {"precision": round(at.precision, 4), "recall": round(at.recall, 4)},
    }


def measure_all(corpus: Path, show: int = 0) -> dict[str, Any]:
    """Each developer-mail set, and the customer messages beside them."""
    out: dict[str, Any] = {name: measure(list(read(corpus)), show) for name, read in SETS.items()}
    out["customers"] = customers()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpora"))
    parser.add_argument("--set", choices=sorted(SETS), action="append")
    parser.add_argument("--show", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    out: dict[str, Any] = {}
    for name in args.set or sorted(SETS):
        out[name] = measure(list(SETS[name](args.corpus)), args.show)
        if not args.json:
            f = out[name]
            print(
                f"{name}: {f['n']} messages read; upset line {f['upset']} "
                f"({f['upset_rate']:.1%}), recover line {f['recover']} ({f['recover_rate']:.1%})"
            )
    out["customers"] = customers()
    if not args.json:
        c = out["customers"]
        print(
            f"customers: {c['n']} messages, {c['complaints']} complaints; AUC {c['auc']:.3f}; "
            f"recover line precision {c['recover']['precision']:.2f}, "
            f"recall {c['recover']['recall']:.2f}"
        )
    if args.json:
        print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
