"""Short ids for suggestion keys, as git abbreviates commit hashes.

A key such as ``reply:CAF9x…@mail.gmail.com`` is 40 to 60 characters and wraps in any
table. Each key already has a fixed hash: its task's UID (uuid5 of the key), which
calendar apps show too. A short id is the start of that hash, seven hex digits or more:
as many as it takes to tell it from every other key nurture knows. `resolve` reads
back what a user typed: a full key, a short id (four digits or more), or the start
of a key; a prefix that fits several is an error that lists them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from itertools import pairwise

from ..connector import task_uid
from ..errors import Problem, UserError

SHORT = 7  # digits shown at least: unique among thousands of keys, as in git
TYPED = 4  # digits a typed id needs before it is read as one


class Unknown(UserError):
    """What the user typed names no suggestion nurture knows."""


def digits(key: str) -> str:
    """The key's hash as hex digits: its task UID without dashes and domain."""
    return task_uid(key).partition("@")[0].replace("-", "")


def short_ids(keys: Iterable[str], minimum: int = SHORT) -> dict[str, str]:
    """Each key's shortest id of at least `minimum` digits that no other key shares."""
    full = {key: digits(key) for key in dict.fromkeys(keys)}
    ordered = sorted(full.values())
    needed: dict[str, int] = {}
    for before, after in pairwise(ordered):  # sorted: the longest shared starts are neighbours
        common = next(i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b)
        for value in (before, after):
            needed[value] = max(needed.get(value, 0), common + 1)
    return {key: value[: max(minimum, needed.get(value, 0))] for key, value in full.items()}


def resolve(typed: str, keys: Collection[str], titles: Mapping[str, str] | None = None) -> str:
    """The one key `typed` names among `keys`: the key itself, a short id, or a key's start.

    Raises a `UserError` when nothing matches, or when several do (listing them).
    """
    text = typed.strip()
    if text in keys:
        return text
    lowered = text.lower()
    by_id = (
        [k for k in keys if digits(k).startswith(lowered)]
        if len(text) >= TYPED and all(c in "0123456789abcdef" for c in lowered)
        else []
    )
    found = sorted(set(by_id) | {k for k in keys if k.startswith(text)})
    if len(found) == 1:
        return found[0]
    if not found:
        raise Unknown(
            f"no suggestion {typed!r}",
            [Problem(typed, "matches no id or key", "`nurture list --all` shows them all")],
        )
    ids = short_ids(keys)
    raise UserError(
        f"{typed!r} fits {len(found)} suggestions; give more of it",
        [Problem(ids[k], k, (titles or {}).get(k, "")) for k in found[:10]],
    )
