"""Reading mail for the NLP: which messages, their bodies in batches, signals stored.

Two callers, one loop. The nudges (`App.analyse`) need the few candidate messages
that could become a nudge, with the sentence behind each (`detect.candidates`).
The relationship report needs the signals of the period's other mail to and from
the user, because reply times and kept promises count answered mail too
(`Analysis.period`). Both fetch bodies per account, `BODY_BATCH` at a time, through
the account's mail source, run the NLP once per batch and store the signals.

Beside the NLP's signals, reading a message gives what repeats and addressing need
(`addressed`): the fingerprints of `nurture.repeats` and the other recipient the
message opens by greeting. Mail that came through one of the user's shared inboxes
(a team's list) is read without the list's headers and footer, as the team's mail
it is, not as a newsletter.

Privacy: bodies are read into memory and dropped. The report's signals keep
scores and due dates only, never a sentence, and carry their own version
(`REPORT_VERSION`): when such a message later becomes a nudge candidate, it is
analysed again and the sentence behind the nudge is kept. Fingerprints are hashes
that do not give the words back.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from . import nlp, repeats
from .connector import MailSource
from .contacts import Identity, first_names
from .detect import THREAD_CONTEXT, as_team_mail, candidates, ignore_reason
from .identity import own_mail, text_hash
from .model import Ask, Body, Commitment, Message, Signals
from .nlp.signals import greets
from .nlp.tone import technical
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
        detectors leave it out. Signals made before text hashes were kept are made again
        once, with their text hash (`identity.fold_copies` compares them).
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
            if m.message_id not in have or not have[m.message_id].text_hash
        ]
        return self._read(todo, _current, text_hashes=True)

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
            if self._to_or_from_user(m) and not ignore_reason(m, None, self.rules, self.identity)
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
        self, todo: Sequence[Message], keep: Callable[[Signals], Signals], text_hashes: bool = False
    ) -> int:
        """Fetch `todo`'s bodies per account in batches, analyse, store `keep(signals)`,
        with the hash of each message's text when `text_hashes`."""
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
                    pairs.append(self._as_read(chunk[ident], body))
                    self.alive()
                results = nlp.analyse(pairs, reader)
                if text_hashes:
                    results = [
                        replace(s, text_hash=text_hash(nlp.newest_text(body)))
                        for (_, body), s in zip(pairs, results, strict=True)
                    ]
                self.alive()
                self.state.store_signals(
                    (m.message_id, keep(addressed(m, body, s, self.identity)))
                    for (m, body), s in zip(pairs, results, strict=True)
                )
                count += len(pairs)
        return count

    def _as_read(self, message: Message, body: Body) -> tuple[Message, Body]:
        """What the NLP reads: a shared inbox's mail without its list's headers and footer."""
        if not self.identity.shared_inbox(message):
            return message, body
        text = nlp.body_text(body)
        return as_team_mail(message), Body(text=without_list_footer(text))


def addressed(message: Message, body: Body, signals: Signals, identity: Identity) -> Signals:
    """`signals` with what repeats and addressing need: the text's fingerprint, the
    keys of its asking sentences, and the other recipient its opening greets."""
    if signals.automated is not None:
        return signals
    text = nlp.newest_text(body)
    lines = [line for line in text.splitlines() if line.strip()][:2]
    addressee = ""
    if not signals.greets_user:
        for person in identity.others(message.recipients):
            if person.email != message.sender.email and greets(lines, first_names(person)):
                addressee = person.email
                break
    return replace(
        signals,
        fingerprint=repeats.fingerprint(text),
        sentence_keys=tuple(repeats.sentence_key(a.sentence) for a in signals.asks),
        addressee=addressee,
        technical=technical([message.subject, text]),
    )


# A list's footer: a separator line, then a few lines naming the list's machinery.
_FOOTER_START = re.compile(r"^(?:-- ?|_{8,}|-=(?:-=)+-?|={8,}|-{8,})\s*$")
_FOOTER_WORDS = re.compile(
    r"unsubscribe|listinfo|mailing list|you received this message because|you are subscribed",
    re.IGNORECASE,
)
FOOTER_LINES = 12


def without_list_footer(text: str) -> str:
    """`text` without a mailing list's footer in its last `FOOTER_LINES` lines."""
    lines = text.rstrip().split("\n")
    for i in range(len(lines) - 1, max(len(lines) - FOOTER_LINES, 0) - 1, -1):
        if _FOOTER_START.match(lines[i].rstrip()):
            if _FOOTER_WORDS.search("\n".join(lines[i:])):
                return "\n".join(lines[:i])
            break
    return text
