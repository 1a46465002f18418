"""Who a contact is, as the report shows them: their tier and rule, and their name."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from ..contacts import normalise
from ..model import Message
from ..rules import ContactRule, Rulebook, Tier
from .source import Earlier


class TierOf:
    """`Rulebook.match_contact` memoised per address (fnmatch is not free at 100k)."""

    def __init__(self, rules: Rulebook) -> None:
        self.rules = rules
        self.cache: dict[str, tuple[Tier, ContactRule | None]] = {}

    def match(self, address: str) -> tuple[Tier, ContactRule | None]:
        found = self.cache.get(address)
        if found is None:
            found = self.cache[address] = self.rules.match_contact(address)
        return found

    def __call__(self, address: str) -> Tier:
        return self.match(address)[0]

    def rule_cadence(self, address: str) -> timedelta | str:
        """The cadence the rules set for `address`: its contact rule's, else its tier's."""
        tier, rule = self.match(address)
        if rule is not None and rule.cadence is not None:
            return rule.cadence
        return tier.cadence


class Names:
    """Display names seen in headers (latest non-empty wins), overridden by rule names."""

    def __init__(self, messages: Iterable[Message], earlier: Earlier, rules: Rulebook) -> None:
        self.rules = rules
        self.found: dict[str, str] = {}  # address → the name shown (asked many times)
        self.seen: dict[str, str] = dict(earlier.names)
        for m in messages:
            for a in (m.sender, *m.to, *m.cc):
                if a.name:
                    self.seen[normalise(a.email)] = a.name

    def __call__(self, address: str) -> str:
        found = self.found.get(address)
        if found is None:
            _, rule = self.rules.match_contact(address)
            if rule is not None and rule.name:
                found = rule.name
            else:
                found = self.seen.get(normalise(address), "")
            self.found[address] = found
        return found
