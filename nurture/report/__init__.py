"""The relationship report: how well the user keeps in touch, from data nurture already has.

`metrics` computes the figures from plain data; `render_text` and
`render_html` show them; `schema.json` documents the ``--json`` output.
`gather` reads what the figures need from the state store, mail that only claims to be
the user's left out (`nurture.identity.own_mail`). The package only
reads and renders: reading mail for the report's signals is the application's
(`nurture.analysis`), and nothing here imports it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from ..contacts import Identity
from ..identity import own_mail
from ..rules import Rulebook
from ..state import State
from .metrics import Inputs, compute
from .records import Report, to_json
from .source import Earlier, earlier

__all__ = ["Inputs", "Report", "compute", "gather", "make", "to_json"]


@contextmanager
def _no_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while building ~10⁵ short-lived, acyclic
    records; it would otherwise walk them again and again for nothing."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def make(
    state: State,
    rules: Rulebook,
    addresses: Sequence[str],
    now: datetime,
    period: timedelta,
    tier: str | None = None,
) -> Report:
    """The report for [now - period, now) straight from the state store."""
    with _no_collection():
        return compute(gather(state, rules, addresses, now - period), now, period, tier)


def gather(
    state: State,
    rules: Rulebook,
    addresses: Sequence[str],
    since: datetime | None = None,
) -> Inputs:
    """Read what the report needs: everything, or the period from `since` in full and
    only who-wrote-to-whom before it (much faster over a long history; see `source`)."""
    identity = Identity(tuple(a.lower() for a in addresses))
    if since is None:
        messages, signals, before = state.messages(), state.signals(), Earlier()
    else:
        signals = state.signals_since(since)
        messages = state.messages(since)
        before = earlier(state, since, identity, rules)
    return Inputs(
        # the user's mail only where it is theirs, as the detectors read it
        messages=own_mail(messages, identity, state.accounts_with_sent()),
        signals=signals,
        meetings=state.meetings(),
        ledger=state.ledger(),
        history=state.history(),
        rules=rules,
        identity=identity,
        earlier=before,
    )
