"""Reading mail for the NLP: which messages, their bodies in batches, signals stored.

Two callers, one loop. The nudges (`App.analyse`) need the few candidate messages
that could become a nudge, with the sentence behind each (`detect.candidates`).
The relationship report needs the signals of the period's other mail to and from
the user, because reply times and kept promises count answered mail too
(`Analysis.period`). Both fetch bodies per account, `BODY_BATCH` at a time, through
the account's mail source, run the NLP once per batch and store the signals.

Privacy: bodies are read into memory and dropped. The report's signals keep
scores and due dates only, never a sentence, and carry their own version
(`REPORT_VERSION`): when such a message later becomes a nudge candidate, it is
analysed again and the sentence behind the nudge is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from . import nlp
from .connector import MailSource
from .contacts import Identity
from .detect import THREAD_CONTEXT, candidates, ignore_reason
from .identity import own_mail, text_digest
from .model import Ask, Commitment, Message, Signals
from .rules import Rulebook
from .state import State

log = logging.getLogger(__name__)

BODY_BATCH = 200
REPORT_MARK = "+report"  # the end of the version of every signal the report stored
REPORT_VERSION = f"{nlp.ANALYSER_VERSION}{REPORT_MARK}"


def without_text(signals: Signals) -> Signals:
    """The same signals with every sentence blanked: scores and dates only."""
    return replace(
        signals,
        asks=tuple(Ask("", a.score) for a in signals.asks),
        commitments=tuple(Commitment("", c.due, c.score) for c in signals.commitments),
        upset_sentence="",
        version=REPORT_VERSION,
    )


def _current(signals: Signals) -> Signals:
    return replace(signals, version=nlp.ANALYSER_VERSION)


@dataclass(frozen=True, slots=True)
class Analysis:
    """What reading mail needs: the state, the rules, who the user is, and where each
    account's bodies come from (`mail(account)`, None for an account without mail).
    `alive()` is told of each body read, for the sync's time limits (`nurture.deadline`)."""

    state: State
    rules: Rulebook
    identity: Identity
    model: str
    mail: Callable[[str], MailSource | None]
    alive: Callable[[], None] = lambda: None

    def candidates(self, now: datetime) -> int:
        """Analyse the nudge candidates that have no current signals yet; how many.

        Mail that only claims to be the user's is left out (`identity.own_mail`), as the
        detectors leave it out. Signals made before text digests were kept are made again
        once, with their digest (`identity.fold_copies` compares them).
        """
        messages = own_mail(
            self.state.messages(since=now - self.rules.tasks.forget_after - THREAD_CONTEXT),
            self.identity,
            self.state.accounts_with_sent(),
        )
        have = self.state.signals(version=nlp.ANALYSER_VERSION)
        todo = [
            m
            for m in candidates(messages, self.identity, self.rules, now)
            if m.message_id not in have or not have[m.message_id].digest
        ]
        return self._read(todo, _current, digests=True)

    def period(
        self, since: datetime, now: datetime, announce: Callable[[int], None] | None = None
    ) -> int:
        """Analyse the report period's unanalysed mail to and from the user; how many.

        `announce(n)` is told how many will be read before the (possibly slow) reading.
        """
        # Signals the nudges made are kept; the report's are redone when the analyser
        # changed. SQLite picks the messages lacking signals: reading every signal to
        # find them took longer than the report itself over a 100k-message history.
        todo = [
            m
            for m in self.state.messages_needing_signals(since, now, REPORT_VERSION, REPORT_MARK)
            if self._to_or_from_user(m) and not ignore_reason(m, None, self.rules)
        ]
        if not todo:
            return 0
        if announce is not None:
            announce(len(todo))
        count = self._read(todo, without_text)
        log.info("analysed %d message(s) of the report period", count)
        return count

    def _to_or_from_user(self, message: Message) -> bool:
        """Mail the report judges: the user's own, or mail addressed to the user."""
        who = self.identity
        return who.outbound(message) or any(who.is_user(a) for a in message.recipients)

    def _read(
        self, todo: Sequence[Message], keep: Callable[[Signals], Signals], digests: bool = False
    ) -> int:
        """Fetch `todo`'s bodies per account in batches, analyse, store `keep(signals)`,
        with the digest of each message's text when `digests`."""
        if not todo:
            return 0
        reader = nlp.Reader(
            addresses=self.identity.addresses,
            names=self.identity.names,
            timezone=self.rules.work.timezone,
            model=self.model,
        )
        by_account: dict[str, list[Message]] = {}
        for m in todo:
            by_account.setdefault(m.account, []).append(m)
        count = 0
        for account, items in by_account.items():
            source = self.mail(account)
            if source is None:
                continue
            for start in range(0, len(items), BODY_BATCH):
                chunk = {m.id: m for m in items[start : start + BODY_BATCH]}
                pairs = []
                for ident, body in source.bodies(list(chunk)):
                    pairs.append((chunk[ident], body))
                    self.alive()
                results = nlp.analyse(pairs, reader)
                if digests:
                    results = [
                        replace(s, digest=text_digest(nlp.newest_text(body)))
                        for (_, body), s in zip(pairs, results, strict=True)
                    ]
                self.alive()
                self.state.store_signals(
                    (m.message_id, keep(s)) for (m, _), s in zip(pairs, results, strict=True)
                )
                count += len(pairs)
        return count
