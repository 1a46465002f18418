"""The connector plugin contract, and the registry that finds plugins.

Terms, before any method:

- A **connector** is a plugin class registered in the ``nurture.connectors``
  entry-point group (built-in ones too: the core never imports a connector
  package). One instance serves one configured **account**.
- An account offers a **mail source**, a **calendar store**, or both.
- A **cursor** is an opaque string the mail source owns (an IMAP
  UIDVALIDITY/MODSEQ set, a Gmail historyId, a Maildir fingerprint). The core
  stores it and hands it back; it never looks inside. No cursor means
  "backfill from `since`"; a cursor the provider no longer accepts raises
  `CursorExpired` and the core backfills.
- A **batch** is a checkpoint: the core commits its messages, deletions and
  its cursor in ONE transaction, so a crash loses nothing and repeats little.
- A **task** is a calendar object nurture created, carrying the
  ``X-NURTURE-KEY`` marker (or the provider's extended property). A calendar
  store lists, writes and deletes tasks, and only tasks: everything else on the
  calendar is read as busy time and meetings and never touched.

Errors: a connector raises `TransientError` (retry later, honouring
`retry_after`) or `AuthError` (the user must run `auth_command`); anything else
is logged once by the core and retried on the next cycle.
"""

from __future__ import annotations

import enum
import hashlib
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

from .errors import Problem, UserError
from .model import Body, CalendarEvent, CalendarTask, Message, TaskRecord

ENTRY_POINT_GROUP = "nurture.connectors"

# The marker every task carries. In iCalendar it is a property; providers with
# their own object model store the same key in an extended property.
MARKER = "X-NURTURE-KEY"
# The content hash of what nurture wrote rides along under this name: the stored
# name says "digest" and is kept so that tasks already on users' calendars still match.
HASH_PROPERTY = "X-NURTURE-DIGEST"

# Fixed namespace so that the same key gives the same UID on every machine.
_UID_NAMESPACE = uuid.UUID("6f1c2b1e-5b7e-4a43-9a55-6e7572747572")


def task_uid(key: str) -> str:
    """The calendar UID of the task for suggestion `key` (uuid5, stable)."""
    return f"{uuid.uuid5(_UID_NAMESPACE, key)}@nurture"


def task_hash(task: CalendarTask) -> str:
    """A short content hash of what nurture writes, to tell our changes from the user's."""
    text = "\x1f".join((task.title, task.description, task.url, str(task.todo), str(task.free)))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# Deprecated: the name before `task_hash`, kept for third-party connectors that import it.
task_digest = task_hash


class Capability(enum.StrEnum):
    MAIL = "mail"
    CALENDAR = "calendar"
    TODO = "todo"


@dataclass(frozen=True, slots=True)
class Option:
    """One option an account of this connector takes in config.toml.

    `secret` options are never written to config.toml: the user gives a
    ``NAME_command`` instead, or stores the value with the secrets layer.
    `ask` marks the options `nurture init` asks for interactively.
    """

    name: str
    help: str
    type: type = str  # Path: a path, resolved against config.toml's folder
    default: Any = None
    required: bool = False
    secret: bool = False
    ask: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MailBatch:
    """One checkpoint of mail changes: upserts, deletions and the cursor after them.

    `total` is the size of the whole backfill when the source knows it, so
    the CLI can draw a progress bar on a first sync.
    """

    messages: tuple[Message, ...] = ()
    deleted: tuple[str, ...] = ()
    cursor: str = ""
    total: int | None = None


class MailSource(ABC):
    """Reads one account's mail, incrementally."""

    @abstractmethod
    def changes(self, cursor: str | None, since: datetime) -> Iterator[MailBatch]:
        """Yield the changes after `cursor` (or everything since `since`), in batches.

        The last batch carries the cursor to store; an empty mailbox still
        yields one (empty) batch with a cursor.
        """

    @abstractmethod
    def bodies(self, ids: Sequence[str]) -> Iterator[tuple[str, Body]]:
        """Yield (message id, body) for the messages the NLP needs.

        Ids that no longer exist are skipped silently.
        """


class CalendarStore(ABC):
    """Reads busy time and meetings; writes, lists and deletes nurture's tasks.

    A read-only store refuses writes here, in one place, whatever the backend.
    """

    read_only: bool = False
    supports_todo: ClassVar[bool] = False

    @abstractmethod
    def events(self, start: datetime, end: datetime) -> Iterator[CalendarEvent]:
        """Yield the events overlapping [start, end), recurrences expanded, tasks excluded."""

    @abstractmethod
    def tasks(self) -> list[TaskRecord]:
        """Every task of nurture's on this calendar, as it is now (user edits included)."""

    def create_task(self, task: CalendarTask) -> TaskRecord:
        """Create `task`; idempotent on its UID. Raises `TaskGone` if the user deleted it."""
        self._refuse_if_read_only()
        return self._create(task)

    def update_task(self, task: CalendarTask, record: TaskRecord) -> TaskRecord:
        """Rewrite `record` as `task`, only if it is unchanged since read (else `TaskConflict`)."""
        self._refuse_if_read_only()
        return self._update(task, record)

    def delete_task(self, record: TaskRecord) -> None:
        """Delete `record`; a task already gone is not an error."""
        self._refuse_if_read_only()
        self._delete(record)

    def _refuse_if_read_only(self) -> None:
        if self.read_only:
            raise UserError(
                "this calendar is read-only",
                [Problem("rules", "the target calendar cannot be written", "choose another")],
            )

    @abstractmethod
    def _create(self, task: CalendarTask) -> TaskRecord: ...

    @abstractmethod
    def _update(self, task: CalendarTask, record: TaskRecord) -> TaskRecord: ...

    @abstractmethod
    def _delete(self, record: TaskRecord) -> None: ...


@dataclass(frozen=True, slots=True)
class Context:
    """What the core hands a connector when it builds one account.

    `secret(name)` resolves a secret option through the secrets layer
    (command, systemd credential, keyring, 0600 file); `store_secret` keeps
    one (an OAuth refresh token). `cache_dir` is the connector's own folder for
    checkpoints. `identities` are the user's addresses.
    """

    account: str
    options: Mapping[str, Any]
    cache_dir: Path
    secret: Callable[[str], str | None] = lambda _name: None
    store_secret: Callable[[str, str], None] = lambda _name, _value: None
    identities: tuple[str, ...] = ()
    progress: Callable[[int, int | None], None] = field(default=lambda _done, _total: None)


class Connector(ABC):
    """A plugin. Subclasses set `name`, `capabilities` and `options`."""

    name: ClassVar[str]
    summary: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    options: ClassVar[tuple[Option, ...]] = ()

    def __init__(self, context: Context) -> None:
        self.context = context

    def option(self, name: str) -> Any:
        """This account's value of option `name` from config.toml, else the option's default."""
        if name in self.context.options:
            return self.context.options[name]
        return next(o.default for o in self.options if o.name == name)

    def mail(self) -> MailSource | None:
        """This account's mail source, or None if it offers none."""
        return None

    def calendar(self) -> CalendarStore | None:
        """This account's calendar store, or None if it offers none."""
        return None

    def auth_command(self) -> str:
        """The command that fixes an `AuthError` for this account."""
        return f"nurture auth {self.name} {self.context.account}"

    def authorize(self, interactive: bool = True) -> None:
        """Run this provider's sign-in flow and keep the token with `context.store_secret`.

        Called by ``nurture auth NAME ACCOUNT``; connectors without a sign-in
        flow (a password command suffices) keep this default.
        """
        raise UserError(
            f"{self.name} accounts need no sign-in flow",
            [Problem(f"[accounts.{self.context.account}]", "set its *_command options instead")],
        )

    def close(self) -> None:
        """Release connections. Called once, after the last use."""

    def interrupt(self) -> None:
        """Cut this account's open connections now; called from another thread.

        A read blocked on a server that trickles (one byte every 20 s never trips a
        read timeout) then fails at once, and the core backs the account off
        (`nurture.deadline`). The connector reconnects on its next use. The default
        does nothing: such a connector's reads end at their own timeouts.
        """

    @classmethod
    def validate(cls, account: str, options: Mapping[str, Any], where: str) -> list[Problem]:
        """Check `options` against `cls.options`; report every problem at once."""
        known = {o.name: o for o in cls.options}
        problems: list[Problem] = []
        for key, value in options.items():
            base = key.removesuffix("_command")
            option = known.get(base)
            if option is None:
                problems.append(
                    Problem(
                        f"{where} [accounts.{account}] {key}",
                        "unknown option",
                        f"{cls.name} takes: {', '.join(sorted(known)) or 'no options'}",
                    )
                )
            elif option.secret and key == base:
                problems.append(
                    Problem(
                        f"{where} [accounts.{account}] {key}",
                        "secrets do not belong in config.toml",
                        f'use {key}_command = "..." or `nurture auth {cls.name} {account}`',
                    )
                )
            elif key == base and not isinstance(value, str if option.type is Path else option.type):
                problems.append(
                    Problem(
                        f"{where} [accounts.{account}] {key}",
                        f"expected {option.type.__name__}, got {value!r}",
                    )
                )
            elif option.choices and value not in option.choices:
                problems.append(
                    Problem(
                        f"{where} [accounts.{account}] {key}",
                        f"{value!r} is not one of {', '.join(option.choices)}",
                    )
                )
        for option in cls.options:
            if option.secret:
                continue  # secrets come from a command, a credential or the keyring
            if option.required and option.name not in options:
                problems.append(
                    Problem(
                        f"{where} [accounts.{account}]",
                        f"missing option {option.name!r}",
                        option.help,
                    )
                )
        return problems


def available() -> dict[str, Any]:
    """The installed connector plugins, by name (entry points, not imported yet)."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load(name: str) -> type[Connector]:
    """Import the connector plugin `name`; a clear error if it is not installed."""
    found = available()
    if name not in found:
        raise UserError(
            f"no connector named {name!r}",
            [
                Problem(
                    "config.toml",
                    f"installed connectors: {', '.join(sorted(found))}",
                    f"install its extra, e.g. pip install 'nurture[{name}]'",
                )
            ],
        )
    try:
        cls = found[name].load()
    except ImportError as exc:
        raise UserError(
            f"connector {name!r} is installed but cannot be imported: {exc}",
            [Problem("environment", str(exc), f"pip install 'nurture[{name}]'")],
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise UserError(f"entry point {name!r} is not a nurture Connector")
    return cls
