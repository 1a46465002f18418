"""Signals for the report period: analyse the mail the detectors never needed to read.

The detectors read only the few messages that could become a nudge (mail
still waiting for an answer, the user's latest word in a thread). Reply times
and kept promises need the signals of answered mail too, so before the report
the messages of the period that have no signals yet are analysed once.

Privacy: bodies are read into memory and dropped; the stored signals keep
scores and due dates only, never a sentence. They carry their own version
(`VERSION`), so when such a message later becomes a nudge candidate the
application analyses it again and keeps the sentence behind the nudge.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from .. import nlp
from ..app import BODY_BATCH, App
from ..detect import ignore_reason
from ..model import Ask, Commitment, Message, Signals

log = logging.getLogger(__name__)

OURS = "+report"  # the end of the version of every signal the report stored
VERSION = f"{nlp.ANALYSER_VERSION}{OURS}"


def _needs(message: Message, app: App) -> bool:
    """Mail the report judges: the user's own, or mail addressed to the user."""
    who = app.identity
    if who.outbound(message):
        return True
    return any(who.is_user(a) for a in message.recipients)


def without_text(signals: Signals) -> Signals:
    """The same signals with every sentence blanked: scores and dates only."""
    return replace(
        signals,
        asks=tuple(Ask("", a.score) for a in signals.asks),
        commitments=tuple(Commitment("", c.due, c.score) for c in signals.commitments),
        upset_sentence="",
        version=VERSION,
    )


def fill_signals(
    app: App, since: datetime, now: datetime, announce: Callable[[int], None] | None = None
) -> int:
    """Analyse the period's unanalysed messages; return how many were analysed.

    `announce(n)` is told how many will be read before the (possibly slow) reading.
    """
    # Signals the application made are kept; ours are redone when the analyser changed.
    # SQLite picks the messages lacking signals: reading every signal to find them took
    # longer than the report itself over a 100k-message history.
    todo = [
        m
        for m in app.state.messages_needing_signals(since, now, VERSION, OURS)
        if _needs(m, app) and not ignore_reason(m, None, app.rules)
    ]
    if not todo:
        return 0
    if announce is not None:
        announce(len(todo))
    reader = nlp.Reader(
        addresses=app.config.addresses,
        names=app.identity.names,
        timezone=app.rules.work.timezone,
        model=app.config.nlp_model,
    )
    by_account: dict[str, list[tuple[str, Message]]] = {}
    for m in todo:
        account, _, ident = m.id.partition("\x1f")
        by_account.setdefault(account, []).append((ident, m))
    count = 0
    for account, items in by_account.items():
        source = app.connector(account).mail()
        if source is None:
            continue
        for start in range(0, len(items), BODY_BATCH):
            chunk = dict(items[start : start + BODY_BATCH])
            pairs = [(chunk[i], body) for i, body in source.bodies(list(chunk))]
            results = nlp.analyse(pairs, reader)
            app.state.store_signals(
                (m.message_id, without_text(s)) for (m, _), s in zip(pairs, results, strict=True)
            )
            count += len(pairs)
    log.info("analysed %d message(s) of the report period", count)
    return count
