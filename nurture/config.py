"""config.toml: who the user is, which accounts to read, where state lives.

Rules (tiers, windows, working hours) live in the rule files, not here.
Every problem is collected and reported at once with file, line and key;
secrets are never accepted here (connectors take ``*_command`` options).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir, user_state_dir

from . import connector as registry
from .durations import parse_duration
from .errors import Problem, UserError
from .tomlfile import TomlFile, load

APP = "nurture"


def default_config_path() -> Path:
    return Path(user_config_dir(APP)) / "config.toml"


def default_state_dir() -> Path:
    return Path(user_state_dir(APP))


@dataclass(frozen=True, slots=True)
class Account:
    """One configured account: a connector plugin and its options (paths resolved)."""

    name: str
    connector: str
    options: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    user_name: str
    addresses: tuple[str, ...]
    accounts: tuple[Account, ...]
    rules_dir: Path
    state_dir: Path
    mail_every: timedelta = timedelta(minutes=5)
    reconcile_every: timedelta = timedelta(minutes=15)
    backfill: timedelta = timedelta(days=365)
    nlp_model: str = ""
    # Addresses the user reads for a team (a support@ alias, a users' mailing list):
    # mail to them counts as addressed to the user, and anyone's reply resolves it.
    shared: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def account(self, name: str) -> Account:
        for account in self.accounts:
            if account.name == name:
                return account
        raise UserError(
            f"no account named {name!r}",
            [Problem(str(self.path), f"accounts: {', '.join(a.name for a in self.accounts)}")],
        )


_SECTIONS = {
    "user": {"name", "addresses", "shared"},
    "paths": {"rules", "state"},
    "daemon": {"mail_every", "reconcile_every"},
    "sync": {"backfill"},
    "nlp": {"model"},
    "accounts": None,  # checked per account
}


def _path(value: str, base: Path) -> Path:
    path = Path(os.path.expandvars(value)).expanduser()
    return path if path.is_absolute() else (base / path)


def load_config(path: Path | None = None) -> Config:
    """Read and validate config.toml; raise one UserError listing every problem.

    A relative `path` is made absolute first: the paths in the file are relative to
    its folder, and the links nurture writes (``file://``) must work from anywhere.
    """
    path = (Path(path) if path else default_config_path()).expanduser().absolute()
    if not path.exists():
        raise UserError(
            f"no configuration at {path}",
            [
                Problem(
                    str(path), "file not found", "run `nurture init` (or `nurture demo` to try it)"
                )
            ],
        )
    toml, problems = load(path)
    if toml is None:
        raise UserError(f"cannot read {path}", problems)
    config = _build(toml, problems)
    if problems:
        raise UserError(f"{path} has {len(problems)} problem(s)", problems)
    return config


def _build(toml: TomlFile, problems: list[Problem]) -> Config:
    data, base = toml.data, toml.path.parent
    for section, value in data.items():
        if section not in _SECTIONS:
            problems.append(
                Problem(
                    toml.where(section), "unknown section", f"known: {', '.join(sorted(_SECTIONS))}"
                )
            )
            continue
        keys = _SECTIONS[section]
        if keys is not None:
            if not isinstance(value, dict):
                problems.append(Problem(toml.where(section), "must be a table"))
                continue
            for key in value:
                if key not in keys:
                    problems.append(
                        Problem(
                            toml.where(section, key),
                            "unknown key",
                            f"[{section}] takes: {', '.join(sorted(keys))}",
                        )
                    )
    user = data.get("user", {}) if isinstance(data.get("user"), dict) else {}
    name = user.get("name", "")
    addresses = user.get("addresses", [])
    if not isinstance(name, str):
        problems.append(Problem(toml.where("user", "name"), "must be a string"))
        name = ""
    if not isinstance(addresses, list) or not all(
        isinstance(a, str) and "@" in a for a in addresses
    ):
        problems.append(
            Problem(
                toml.where("user", "addresses"),
                "must be a list of mail addresses",
                'e.g. ["me@example.org"]',
            )
        )
        addresses = []
    if not addresses:
        problems.append(
            Problem(
                toml.where("user"),
                "no addresses: nurture cannot tell your mail " "from others'",
                'add addresses = ["me@example.org"] under [user]',
            )
        )

    shared = user.get("shared", [])
    if not isinstance(shared, list) or not all(isinstance(a, str) and "@" in a for a in shared):
        problems.append(
            Problem(
                toml.where("user", "shared"),
                "must be a list of mail addresses",
                'the team addresses you read, e.g. ["support@example.org"]',
            )
        )
        shared = []

    def duration(section: str, key: str, default: timedelta) -> timedelta:
        raw = data.get(section, {}).get(key) if isinstance(data.get(section), dict) else None
        if raw is None:
            return default
        try:
            return parse_duration(raw)
        except ValueError as exc:
            problems.append(Problem(toml.where(section, key), str(exc), 'e.g. "5m", "2h", "30d"'))
            return default

    paths = data.get("paths", {}) if isinstance(data.get("paths"), dict) else {}
    rules_dir = _path(str(paths.get("rules", "rules")), base)
    state_dir = _path(str(paths["state"]), base) if paths.get("state") else default_state_dir()
    accounts = _accounts(toml, base, problems)
    nlp = data.get("nlp", {}) if isinstance(data.get("nlp"), dict) else {}
    return Config(
        path=toml.path,
        user_name=name,
        addresses=tuple(a.strip().lower() for a in addresses),
        shared=tuple(a.strip().lower() for a in shared),
        accounts=tuple(accounts),
        rules_dir=rules_dir,
        state_dir=state_dir,
        mail_every=duration("daemon", "mail_every", timedelta(minutes=5)),
        reconcile_every=duration("daemon", "reconcile_every", timedelta(minutes=15)),
        backfill=duration("sync", "backfill", timedelta(days=365)),
        nlp_model=str(nlp.get("model", "")),
    )


def _accounts(toml: TomlFile, base: Path, problems: list[Problem]) -> list[Account]:
    raw = toml.data.get("accounts", {})
    if not isinstance(raw, dict) or not raw:
        problems.append(
            Problem(
                toml.where("accounts"),
                "no accounts configured",
                "add an [accounts.NAME] table, or run `nurture init`",
            )
        )
        return []
    accounts = []
    for name, table in raw.items():
        if not isinstance(table, dict):
            problems.append(Problem(toml.where("accounts", name), "must be a table"))
            continue
        plugin = table.get("connector")
        if not isinstance(plugin, str):
            problems.append(
                Problem(
                    toml.where("accounts", name),
                    'missing connector = "..."',
                    f"installed: {', '.join(sorted(registry.available()))}",
                )
            )
            continue
        try:
            cls = registry.load(plugin)
        except UserError as exc:
            problems.append(
                Problem(
                    toml.where("accounts", name, "connector"),
                    str(exc.args[0]),
                    exc.problems[0].fix if exc.problems else "",
                )
            )
            continue
        options = {k: v for k, v in table.items() if k != "connector"}
        for problem in cls.validate(name, options, str(toml.path)):
            key = problem.where.rsplit(" ", 1)[-1]
            where = (
                toml.where("accounts", name, key)
                if key in options
                else toml.where("accounts", name)
            )
            problems.append(Problem(where, problem.what, problem.fix))
        resolved = dict(options)
        for option in cls.options:
            if option.type is Path and isinstance(options.get(option.name), str):
                resolved[option.name] = str(_path(options[option.name], base))
        accounts.append(Account(name, plugin, resolved))
    return accounts
