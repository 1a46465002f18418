"""A big, realistic Maildir for benchmarks (10k, 100k messages), written fast.

Messages are assembled as bytes from pre-built pools (people, subjects,
sentences) instead of through the `email` package, which would spend most of
the time in its generator. What they contain is meant to cost a reader what
real mail costs: typical sizes of 2–20 KB with a long tail, about a fifth
multipart/alternative with HTML, a few with base64 attachments, newsletters
with list headers, and real threads (Message-ID, In-Reply-To, References).
"""

from __future__ import annotations

import base64
import os
import random
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime, formataddr
from pathlib import Path

USER = ("Alex Morgan", "alex@brightpath.example")
FIRST = (
    "Dana Kim Priya Oliver Jurgen Sam Maya Gareth Lena Nina Ravi Jordan Chloe Ben Helen Tom "
    "Rosa Ian Ana Luca Mei Omar Sara Jonas Elif Noah Ines Yuki Pavel Aisha Liam Zoe Marta "
    "Femi Hugo Lea Arjun Nora Felix Tara"
).split()
LAST = (
    "Lee Osei Shah Grant Weiss Ortiz Chen Owen Vogel Park Menon Reyes Martin Okafor Brooks "
    "Becker Alvarez Clarke Silva Rossi Wang Haddad Berg Novak Yilmaz Moreau Santos Tanaka "
    "Ivanov Khan Murphy Fischer Costa Adeyemi Dubois Schulz Rao Lindqvist Wolf Nair"
).split()
ORGS = (
    "northwind contoso-labs haldenbank kessler lumenstudios orchardfoods fernhill atlasfreight "
    "bluewater quarrylabs oldmill foxglove ledgerline meridian harbourline tallgrass redkite "
    "silverbirch copperfield ironbridge"
).split()
SUBJECTS = (
    "Project update",
    "Invoice question",
    "Workshop agenda",
    "Quarterly review",
    "Contract renewal",
    "Next steps",
    "Design feedback",
    "Budget for next year",
    "Access request",
    "Meeting notes",
    "Release plan",
    "Staffing for the new project",
    "Security questionnaire",
    "Data export",
    "User testing sessions",
    "Roadmap draft",
    "Hosting costs",
    "Proposal for phase two",
)
SENTENCES = (
    "Thanks for the quick turnaround on the last round of changes.",
    "Could you send me the latest version of the plan before Thursday?",
    "We reviewed the prototype with the operations team yesterday.",
    "The numbers for last month came in slightly above the forecast.",
    "I have attached the notes from our call for reference.",
    "Let me know if anything in the proposal needs clarifying.",
    "Our finance team asked whether the invoice includes the workshop days.",
    "The new release went out this morning without any issues.",
    "Would it be possible to move our check-in to next week?",
    "I'll send the revised estimate by Friday.",
    "The accessibility review found a handful of issues on the mobile screens.",
    "We are still waiting for access to the reporting database.",
    "Please find the updated timeline in the shared folder.",
    "Happy to jump on a call if that is easier.",
    "The board was impressed with the progress so far.",
    "This is the third time the export has failed this month, which is frustrating.",
    "I agree with your suggestion to keep the scope small for the first release.",
    "Can we add two more user interviews with the warehouse staff?",
    "The hosting costs should stay under the budget we agreed.",
    "Do you have a view on which analytics tool we should keep?",
)
PLAIN_HEAD = 'Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: 8bit\n\n'
NEWSLETTERS = (
    ("SaaS Weekly", "news@saasweekly.example", "saasweekly.example"),
    ("Growth HQ", "hello@growthhq.example", "growthhq.example"),
    ("Tracker", "noreply@tracker.example", "tracker.example"),
)


# Some names need RFC 2047 encoding in headers, as real mail does.
ACCENTED = {"Jurgen": "Jürgen", "Zoe": "Zoë", "Ines": "Inês", "Lea": "Léa", "Elif": "Elif Şahin"}
ZONES = (UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5)))


def _people(rng: random.Random, n: int) -> list[tuple[str, str, str, timezone]]:
    """(display name, address, From/To header value, the sender's UTC offset)."""
    out = []
    for _ in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        org = rng.choice(ORGS)
        name = f"{first} {last}"
        if first in ACCENTED and rng.random() < 0.5:
            name = f"{ACCENTED[first]} {last}" if " " not in ACCENTED[first] else ACCENTED[first]
        addr = f"{first.lower()}.{last.lower()}@{org}.example"
        line = formataddr((name, addr), charset="utf-8")
        out.append((name, addr, line, rng.choice(ZONES)))
    return out


def _paragraph(rng: random.Random) -> str:
    """2–5 sentences wrapped at 72 columns, as mail clients do."""
    words = " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(2, 5))).split()
    lines, line = [], ""
    for word in words:
        if len(line) + len(word) + 1 > 72:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(lines)


class _Pool:
    """Pre-built paragraphs (plain and quoted), so each message is only a few joins."""

    def __init__(self, rng: random.Random, n: int = 400) -> None:
        self.plain = [_paragraph(rng) for _ in range(n)]
        self.quoted = ["\n".join("> " + ln for ln in p.split("\n")) for p in self.plain]
        self.mean = sum(len(p) + 2 for p in self.plain) / n

    def text(self, rng: random.Random, size: int, quoted: bool = False) -> str:
        pool = self.quoted if quoted else self.plain
        return "\n\n".join(rng.choices(pool, k=max(1, round(size / self.mean))))


def _size(rng: random.Random) -> int:
    """Body size in bytes: log-normal, typical 2–20 KB, a few much larger."""
    return int(min(max(rng.lognormvariate(8.6, 0.75), 600), 80_000))


def generate_bulk(dest: Path, count: int, seed: int = 1) -> Path:
    """Write `count` messages into a Maildir++ at `dest` (INBOX and .Sent); return `dest`.

    Deterministic for a given (count, seed). Dates span the two years before
    1 January 2026, oldest first, so a sync sees a plausible history. File
    names and Message-IDs carry the seed, so calling it again on the same
    Maildir with another seed adds messages (e.g. 50 new ones for a benchmark).
    """
    dest = Path(dest)
    rng = random.Random(seed)
    for folder in (dest, dest / ".Sent"):
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
    (dest / ".Sent" / "maildirfolder").write_bytes(b"")
    people = _people(rng, 1500)
    pool = _Pool(rng)
    blob = base64.encodebytes(rng.randbytes(150_000)).decode()
    end = datetime(2026, 1, 1, tzinfo=UTC)
    step = timedelta(days=730) / max(count, 1)
    when = end - timedelta(days=730)
    # subject, last Message-ID, References, peer
    threads: list[tuple[str, str, list[str], tuple[str, str, str, timezone]]] = []
    user_line = f"{USER[0]} <{USER[1]}>"
    inbox_cur, sent_cur = str(dest / "cur"), str(dest / ".Sent" / "cur")
    batch: list[tuple[str, str]] = []
    pending: list[Future[None]] = []
    writer = ThreadPoolExecutor(max_workers=2)
    for i in range(count):
        when += step * rng.uniform(0.5, 1.5)
        date = format_datetime(when)
        stamp = int(when.timestamp())
        mid = f"<{stamp}.{seed}.{i:07d}.{rng.getrandbits(32):08x}@bulk.example>"
        r = rng.random()
        headers: list[str] = []
        sent = False
        if r < 0.12:
            name, addr, domain = rng.choice(NEWSLETTERS)
            frm, to = f"{name} <{addr}>", user_line
            subject = Header(f"{rng.choice(SUBJECTS)} — issue {i % 97}", "utf-8").encode()
            headers += [
                f"List-Id: {name} <list.{domain}>",
                f"List-Unsubscribe: <https://{domain}/u/{i}>",
                "Precedence: bulk",
            ]
            refs: list[str] = []
        else:
            if threads and rng.random() < 0.55:
                k = len(threads) - 1 - min(int(rng.expovariate(0.05)), len(threads) - 1)
                subject, parent, refs, peer = threads[k]
                refs = [*refs[-9:], parent]
                subject = subject if subject.startswith("Re: ") else "Re: " + subject
            else:
                peer = rng.choice(people)
                subject, refs = rng.choice(SUBJECTS), []
            sent = rng.random() < 0.35
            frm, to = (user_line, peer[2]) if sent else (peer[2], user_line)
            if not sent:
                date = format_datetime(when.astimezone(peer[3]))
            if refs:
                headers += [f"In-Reply-To: {refs[-1]}", "References: " + "\n ".join(refs)]
            threads.append((subject, mid, refs, peer))
            if len(threads) > 400:
                del threads[:100]
        text = pool.text(rng, _size(rng))
        if refs:
            quoted = pool.text(rng, rng.randint(300, 3000), quoted=True)
            text += f"\n\nOn {date}, {peer[0]} <{peer[1]}> wrote:\n{quoted}"
        head = (
            f"Date: {date}\nFrom: {frm}\nTo: {to}\nSubject: {subject}\nMessage-ID: {mid}\n"
            + "".join(h + "\n" for h in headers)
            + "MIME-Version: 1.0\n"
        )
        plain = f"{PLAIN_HEAD}{text}\n"
        roll = rng.random()
        boundary = f"=_bulk_{i:07d}"
        if roll < 0.2:
            html = "<html><body><p>" + text.replace("\n\n", "</p>\n<p>") + "</p></body></html>"
            body = (
                f'Content-Type: multipart/alternative; boundary="{boundary}"\n\n'
                f"--{boundary}\n{plain}\n--{boundary}\n"
                f'Content-Type: text/html; charset="utf-8"\nContent-Transfer-Encoding: 8bit\n\n'
                f"{html}\n--{boundary}--\n"
            )
        elif roll < 0.23:
            size = rng.randint(20_000, 140_000)
            start = rng.randrange(0, len(blob) - size)
            body = (
                f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'
                f"--{boundary}\n{plain}\n--{boundary}\n"
                f'Content-Type: application/pdf; name="document-{i}.pdf"\n'
                f'Content-Disposition: attachment; filename="document-{i}.pdf"\n'
                "Content-Transfer-Encoding: base64\n\n"
                f"{blob[start - start % 77 : start - start % 77 + size - size % 77]}"
                f"\n--{boundary}--\n"
            )
        else:
            body = plain
        name = f"{stamp}.M{i:07d}P{seed}.bulk:2,S"
        batch.append((os.path.join(sent_cur if sent else inbox_cur, name), head + body))
        if len(batch) >= 256:
            pending.append(writer.submit(_write_all, batch))
            batch = []
            if len(pending) > 8:
                pending.pop(0).result()
    pending.append(writer.submit(_write_all, batch))
    for future in pending:
        future.result()
    writer.shutdown()
    return dest


def _write_all(batch: list[tuple[str, str]]) -> None:
    """Write a batch of files; runs in a worker thread so disk waits overlap the next batch."""
    for path, text in batch:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, text.encode("utf-8"))
        finally:
            os.close(fd)
