"""nurture driven as its daemon drives it, on a replayed mailbox and a local calendar.

The only module of the end-to-end benchmark that touches nurture's API, so a change
there is fixed here once. It writes a config.toml (local connector: a Maildir whose
`.Sent` folder holds the person's mail, and a vdir calendar), opens `App` through
`App.load` as the CLI does, and each run calls `sync_mail` then `reconcile` with
`now` set, as `nurture run` does on its schedule.

`needs_reply_score` is the one place that says how much nurture believes a message
needs the person's reply: nurture's own judgement of every inbound message in its
window (`App.needs_reply`), the personal model's probability once it has one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from nurture import nlp
from nurture.app import App
from nurture.errors import UserError
from nurture.model import Signals, Suggestion
from nurture.plan import Op

log = logging.getLogger("bench.e2e")

ACCOUNT = "mail"
SHARED_KEY = "shared"  # the [user] key a shared-inbox nurture would read (issue 13, point 3)
# Kinds whose task quotes a sentence of the mail ("why"): the ask, the promise, the upset.
WHY_KINDS = ("reply", "follow-up", "promise", "recover")


def needs_reply_score(judged: Mapping[str, float], message_id: str) -> float:
    """How much nurture believes the message needs the person's reply, 0..1.

    nurture's "needs your reply" probability (`App.needs_reply`: the personal model's,
    or the ask score before it has one; 0 for a message it judged answered, automated
    or not the person's). A message it did not judge at all scores 0.
    """
    return judged.get(message_id, 0.0)


@dataclass(frozen=True, slots=True)
class Created:
    """One task nurture put on the calendar: when, its key, and whether it quotes why."""

    at: datetime
    key: str
    with_why: bool

    @property
    def kind(self) -> str:
        return self.key.split(":", 1)[0]


class Nurture:
    """One nurture installation in `work/`, fed message by message, run at set times."""

    def __init__(self, work: Path, name: str, addresses: Sequence[str], shared: Sequence[str]):
        self.work = work
        self.inbox = work / "Maildir"
        self.sent = self.inbox / ".Sent"
        for folder in (self.inbox, self.sent):
            for sub in ("cur", "new", "tmp"):
                (folder / sub).mkdir(parents=True, exist_ok=True)
        (work / "calendar").mkdir(exist_ok=True)
        (work / "rules").mkdir(exist_ok=True)
        self.shared_supported = False
        if shared:
            try:
                self.app = App.load(self._config(name, addresses, shared))
                self.shared_supported = True
            except UserError:
                log.warning(
                    "this nurture has no shared inboxes ([user] %s): --shared changes only "
                    "which messages are scored",
                    SHARED_KEY,
                )
        if not self.shared_supported:
            self.app = App.load(self._config(name, addresses, ()))
        self.count = 0
        self.placed: dict[str, Suggestion] = {}
        self.now: datetime | None = None

    def _config(self, name: str, addresses: Sequence[str], shared: Sequence[str]) -> Path:
        def toml_list(items: Iterable[str]) -> str:
            return "[" + ", ".join(f'"{a}"' for a in items) + "]"

        lines = [
            "[user]",
            f'name = "{name}"',
            f"addresses = {toml_list(addresses)}",
        ]
        if shared:
            lines.append(f"{SHARED_KEY} = {toml_list(shared)}")
        lines += [
            "[paths]",
            'rules = "rules"',
            'state = "state"',
            "[sync]",
            'backfill = "3650d"',  # the whole replayed history, as a first sync reads it
            f"[accounts.{ACCOUNT}]",
            'connector = "local"',
            'maildir = "Maildir"',
            'calendar = "calendar"',
        ]
        path = self.work / "config.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def deliver(self, raw: bytes, when: datetime, sent: bool) -> None:
        """Put one message in the Maildir (the person's own in .Sent), dated `when`."""
        folder = self.sent if sent else self.inbox
        self.count += 1
        path = folder / "cur" / f"{self.count:07d}.e2e:2,S"
        path.write_bytes(raw)
        stamp = when.timestamp()
        os.utime(path, (stamp, stamp))

    def run(self, now: datetime) -> list[Created]:
        """One daemon cycle at `now`: sync the mail, then reconcile the calendar."""
        self.app.sync_mail(ACCOUNT, now)
        report = self.app.reconcile(now)
        self.now = now
        self.placed = {p.suggestion.key: p.suggestion for p in report.placements}
        return [
            Created(now, a.key, _quotes(a.task.description))
            for a in report.actions
            if a.op is Op.CREATE and a.task is not None
        ]

    def task_keys(self) -> list[str]:
        """The keys of nurture's tasks on the calendar after the last run.

        The tasks that run placed: once its plan is applied the calendar holds
        exactly these (no one else edits it here), and reading them back from the
        .ics files at every daily cutoff would cost more than the scoring.
        """
        return list(self.placed)

    def waiting(self) -> set[str]:
        """The Message-IDs the reply tasks list as waiting with the one they name (a
        reply task covers one person's open messages)."""
        return {
            mid for key, s in self.placed.items() if key.startswith("reply:") for mid in s.waiting
        }

    def scores(self, message_ids: Iterable[str]) -> dict[str, float]:
        """`needs_reply_score` of each message, as nurture judges it at the last run's time."""
        judged = self.app.needs_reply(self.now) if self.now is not None else {}
        return {mid: needs_reply_score(judged, mid) for mid in message_ids}

    def signals(self) -> dict[str, Signals]:
        return self.app.state.signals()

    def ask_scores(self, message_ids: Iterable[str]) -> dict[str, float]:
        """nurture's ask score of each message; its NLP reads those nurture never read.

        nurture reads only the messages that could become a nudge; the feature study
        wants the score of every labelled message, read the same way.
        """
        have = self.app.state.signals()
        wanted = set(message_ids)
        scores = {mid: have[mid].ask_score for mid in wanted if mid in have}
        missing = {
            m.id: m for m in self.app.state.messages() if m.message_id in wanted - set(scores)
        }
        if not missing:
            return scores
        source = self.app.connector(ACCOUNT).mail()
        assert source is not None
        by_ident = {key.partition("\x1f")[2]: m for key, m in missing.items()}
        pairs = [(by_ident[i], body) for i, body in source.bodies(list(by_ident))]
        reader = nlp.Reader(
            addresses=self.app.config.addresses,
            names=self.app.identity.names,
            timezone=self.app.rules.work.timezone,
            model=self.app.config.nlp_model,
        )
        for (message, _), found in zip(pairs, nlp.analyse(pairs, reader), strict=True):
            scores[message.message_id] = found.ask_score
        return scores

    @property
    def horizon(self) -> timedelta:
        """How old a message may be and still be nudged (rules: [tasks] forget_after)."""
        return self.app.rules.tasks.forget_after

    @property
    def reply_window(self) -> timedelta:
        """The default tier's reply window (no contact rules in the replay)."""
        return self.app.rules.match_contact("someone@example.invalid")[0].reply_within

    def close(self) -> None:
        self.app.close()


def _quotes(description: str) -> bool:
    """Whether a task's description quotes a non-empty sentence (“...”)."""
    start = description.find("“")
    return start != -1 and description.find("”", start) > start + 1
