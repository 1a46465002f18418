"""`nurture init`: write config.toml and the default rule files, asking as little as needed.

Interactive by default (one question per option the connector marks `ask`);
every answer can also be given as a flag, and ``--yes`` takes the defaults,
so scripts and tests run it without a terminal. Secrets never go into
config.toml: the user gives a command that prints them, or types the secret
once and it is stored by the secrets layer (real keyring, or a 0600 file).
"""

from __future__ import annotations

import os
import pwd
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import click
import tomlkit

from .. import connector as registry
from ..config import default_config_path, default_state_dir
from ..connector import Capability, Connector, Context, Option
from ..errors import Problem, UserError
from ..files import write_private
from ..rules import default_rules_dir
from ..secrets import Secrets, register_secret

_ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off"}

EXAMPLES = "examples"  # rule sets for common roles, copied beside the rules (and not read)

HEADER = """\
# nurture configuration, written by `nurture init`.
#
# [user]            who you are: your name and every address you send from
# [accounts.NAME]   one table per account: `connector` names the plugin, the
#                   other keys are that connector's options
#
# Secrets never go in this file: give NAME_command = "pass show ..." (a command
# that prints the secret), or store it with `nurture init` / `nurture auth`
# (kept in your system keyring, or in a file only you can read).
# Rules (tiers, contacts, working hours, where tasks go) are in rules/*.toml.
"""


@dataclass(slots=True)
class AccountDraft:
    """An account being set up: its name, its connector class and the options chosen.

    `typed` holds secrets typed at the prompt, in memory only, until the sign-in with
    them worked (or the user keeps them anyway); then they are stored (`keep_secrets`).
    """

    name: str
    connector: type[Connector]
    options: dict[str, Any] = field(default_factory=dict)
    typed: dict[str, str] = field(default_factory=dict)

    @property
    def has_calendar(self) -> bool:
        return Capability.CALENDAR in self.connector.capabilities


# -- TOML output --------------------------------------------------------------


def render_config(name: str, addresses: Sequence[str], accounts: Sequence[AccountDraft]) -> str:
    """The text of config.toml for this user and these accounts, below `HEADER`."""
    doc = tomlkit.parse(HEADER)
    user = tomlkit.table()
    user["name"] = name
    user["addresses"] = list(addresses)
    doc["user"] = user
    tables = tomlkit.table(is_super_table=True)
    for account in accounts:
        table = tomlkit.table()
        table["connector"] = account.connector.name
        for key, value in account.options.items():
            table[key] = value
        tables[account.name] = table
    doc["accounts"] = tables
    return tomlkit.dumps(doc)


# -- rule files ---------------------------------------------------------------


def default_rule_files() -> list[Path]:
    """The default rule files, by name: what `nurture init` puts in the rules folder."""
    return sorted(default_rules_dir().glob("*.toml"), key=lambda f: f.name)


def example_rule_files() -> list[Path]:
    """The example rule sets (`rules/examples/ROLE/*.toml`), as paths under examples/."""
    return sorted((default_rules_dir() / EXAMPLES).glob("*/*.toml"))


def _set_key(text: str, table: str, key: str, value: Any) -> str:
    """Set `key` in `[table]` of a rule file's text where the file has it, keeping its
    comments and layout."""
    doc = tomlkit.parse(text)
    section = doc.get(table)
    if isinstance(section, dict) and key in section:
        section[key] = value
    return tomlkit.dumps(doc)


# -- guesses for defaults -----------------------------------------------------


def guess_name(addresses: Sequence[str] = ()) -> str:
    """The user's full name: from the system's user database (GECOS), else from an
    address that spells it ("alex.morgan@…" → "Alex Morgan"), else nothing to offer.

    A login name is no full name: "root" or "amorgan" is never offered.
    """
    try:
        entry = pwd.getpwuid(os.getuid())
    except KeyError:
        entry = None
    if entry is not None:
        full = entry.pw_gecos.split(",")[0].strip()
        if full and full.lower() not in {entry.pw_name.lower(), "root"}:
            return full
    for address in addresses:
        parts = re.split(r"[._-]", address.partition("@")[0])
        if len(parts) >= 2 and all(len(p) >= 2 and p.isalpha() for p in parts):
            return " ".join(p.capitalize() for p in parts)
    return ""


def _guess_timezone() -> str:
    """The system's IANA zone name, or "UTC" when it cannot be told."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and _is_zone(tz):
        return tz
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        return "UTC"
    parts = target.split("zoneinfo/", 1)
    return parts[1] if len(parts) == 2 and _is_zone(parts[1]) else "UTC"


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return name in available_timezones() or name == "UTC"


def _addresses_in(accounts: Sequence[AccountDraft]) -> list[str]:
    """Mail addresses among the options (an IMAP username usually is one)."""
    found: list[str] = []
    for account in accounts:
        for value in account.options.values():
            if isinstance(value, str) and _ADDRESS.match(value) and value.lower() not in found:
                found.append(value.lower())
    return found


# -- option values ------------------------------------------------------------


def convert(option: Option, raw: str, where: str) -> Any:
    """`raw` text as the option's type; a UserError naming `where` if it is not one."""
    if option.type is bool:
        lowered = raw.strip().lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise UserError(f"{where}: expected true or false, got {raw!r}")
    if option.type is int:
        try:
            return int(raw)
        except ValueError:
            raise UserError(f"{where}: expected a whole number, got {raw!r}") from None
    if option.type is float:
        try:
            return float(raw)
        except ValueError:
            raise UserError(f"{where}: expected a number, got {raw!r}") from None
    if option.type is list:
        return [part.strip() for part in raw.split(",") if part.strip()]
    if option.choices and raw not in option.choices:
        raise UserError(f"{where}: {raw!r} is not one of {', '.join(option.choices)}")
    return raw


def parse_option_flags(cls: type[Connector], pairs: Sequence[str]) -> dict[str, Any]:
    """``--option key=value`` flags as typed options of connector `cls`."""
    known = {o.name: o for o in cls.options}
    options: dict[str, Any] = {}
    problems: list[Problem] = []
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(Problem(f"--option {pair}", "expected KEY=VALUE"))
            continue
        base = key.removesuffix("_command")
        option = known.get(base)
        if option is None:
            problems.append(
                Problem(
                    f"--option {key}",
                    f"{cls.name} has no option {key!r}",
                    f"it takes: {', '.join(sorted(known)) or 'no options'}",
                )
            )
        elif key != base:
            options[key] = raw
        elif option.secret:
            problems.append(
                Problem(
                    f"--option {key}",
                    "a secret on the command line is visible to every user of this machine",
                    f'give --option {key}_command="pass show ..." instead',
                )
            )
        else:
            try:
                options[key] = convert(option, raw, f"--option {key}")
            except UserError as exc:
                problems.append(Problem(f"--option {key}", str(exc).split(": ", 1)[-1]))
    if problems:
        raise UserError(f"cannot use the --option flags for {cls.name}", problems)
    return options


# -- questions ----------------------------------------------------------------


class Asker:
    """Asks the questions, or takes the defaults when `assume_yes`."""

    def __init__(self, *, assume_yes: bool, state_dir: Path) -> None:
        self.assume_yes = assume_yes
        self.state_dir = state_dir

    def connector(self, plugins: Mapping[str, type[Connector]], default: str) -> str:
        if not plugins:
            raise UserError(
                "no connector is installed",
                [Problem("environment", "nothing in the nurture.connectors group", "reinstall")],
            )
        if self.assume_yes:
            return default
        click.echo("Connectors installed:")
        for name in sorted(plugins):
            click.echo(f"  {name:<10} {plugins[name].summary}")
        chosen: str = click.prompt(
            "Connector", type=click.Choice(sorted(plugins)), default=default, show_choices=False
        )
        return chosen

    def account_name(self, default: str, taken: set[str]) -> str:
        while True:
            name = default if self.assume_yes else click.prompt("Account name", default=default)
            name = name.strip()
            if not _ACCOUNT_NAME.match(name):
                problem = "letters, digits, - and _ only"
            elif name in taken:
                problem = "already used by another account"
            else:
                return name
            if self.assume_yes:
                raise UserError(
                    f"account name {name!r}: {problem}", [Problem("--account", problem)]
                )
            click.echo(f"  {name!r}: {problem}.")

    def options(self, account: AccountDraft, *, again: bool = False, confirm: bool = False) -> None:
        """Ask for each option marked `ask` (or required) not already given.

        `again`: ask every one once more, with what was given as the default (after
        a failed sign-in). `confirm`: a typed secret is asked twice (it is not tested).
        """
        for option in account.connector.options:
            if not (option.ask or option.required):
                continue
            if option.secret:
                command = f"{option.name}_command"
                if again:
                    account.typed.pop(option.name, None)
                if again or command not in account.options:
                    self._secret(account, option, confirm=confirm)
                continue
            if option.name in account.options and not again:
                continue
            value = self._value(account, option, account.options.get(option.name))
            if value is not None and value != "" and value != []:
                account.options[option.name] = value

    def _value(self, account: AccountDraft, option: Option, given: Any = None) -> Any:
        where = f"[accounts.{account.name}] {option.name}"
        if self.assume_yes:
            if option.required and option.default is None:
                raise UserError(
                    f"{where} is required",
                    [Problem(where, option.help, f"give --option {option.name}=...")],
                )
            return option.default
        text = f"{option.name} ({option.help})"
        default = option.default if given is None else given
        if option.type is bool:
            return click.confirm(text, default=bool(default))
        if option.choices:
            return click.prompt(text, type=click.Choice(option.choices), default=default)
        if isinstance(default, list):
            default = ", ".join(str(v) for v in default)
        while True:
            raw: str = click.prompt(
                text,
                default="" if default is None else str(default),
                show_default=default not in (None, ""),
            )
            if not raw.strip():
                if option.required:
                    click.echo(f"  {option.name} is required.")
                    continue
                return None
            try:
                return convert(option, raw.strip(), option.name)
            except UserError as exc:
                click.echo(f"  {exc}")

    def _secret(self, account: AccountDraft, option: Option, *, confirm: bool = False) -> None:
        name = option.name
        if self.assume_yes:
            if option.required:
                raise UserError(
                    f"[accounts.{account.name}] {name} is required",
                    [
                        Problem(
                            f"[accounts.{account.name}]",
                            option.help,
                            f'give --option {name}_command="pass show ..."',
                        )
                    ],
                )
            return
        click.echo(
            f"{name} ({option.help}) is a secret and is not written to config.toml.\n"
            f"  Give a command that prints it (e.g. pass show mail/{account.name}),\n"
            "  or press Enter to type it now and store it (system keyring, or a file only you"
            " can read)."
        )
        account.options.pop(f"{name}_command", None)  # asked again: the old one failed
        command: str = click.prompt(f"{name}_command", default="", show_default=False)
        if command.strip():
            account.options[f"{name}_command"] = command.strip()
            return
        value: str = click.prompt(
            name,
            default="",
            show_default=False,
            hide_input=True,
            # Asked twice only when no sign-in will test it: a test catches a typo better.
            confirmation_prompt=confirm,
        )
        if not value:
            click.echo(f"  No {name} stored; set {name}_command in config.toml later.")
            return
        register_secret(value)
        account.typed[name] = value

    def keep_secrets(self, account: AccountDraft) -> None:
        """Store the secrets typed for `account` (keyring, or a file only you can read)."""
        for name, value in account.typed.items():
            where = Secrets(account.name, account.options, self.state_dir).set(name, value)
            shown = "your system keyring" if where == "keyring" else f"{where} (mode 0600)"
            click.echo(f"  Stored {name} for {account.name} in {shown}.")
        account.typed.clear()

    def after_failed_sign_in(self, account: AccountDraft, problem: str) -> str:
        """What to do when signing in failed: "retry", "keep" or "quit"."""
        if self.assume_yes:
            raise UserError(
                f"cannot sign in to account {account.name}",
                [
                    Problem(
                        f"[accounts.{account.name}]",
                        problem,
                        "check the options, or give --no-check to write the config untested",
                    )
                ],
            )
        click.echo(f"  Could not sign in to {account.name}: {problem}")
        chosen: str = click.prompt(
            "  Try again with other settings (r), keep these anyway (k), or quit (q)",
            type=click.Choice(["r", "k", "q"]),
            default="r",
            show_choices=False,
        )
        return {"r": "retry", "k": "keep", "q": "quit"}[chosen]

    def another(self) -> bool:
        return False if self.assume_yes else click.confirm("Add another account?", default=False)

    def target(self, calendars: Sequence[AccountDraft]) -> str:
        names = [a.name for a in calendars]
        if self.assume_yes or len(names) == 1:
            return names[-1]
        chosen: str = click.prompt(
            "Which account's calendar receives the tasks",
            type=click.Choice(names),
            default=names[-1],
        )
        return chosen

    def user(
        self, name: str | None, addresses: Sequence[str], guesses: Sequence[str]
    ) -> tuple[str, list[str]]:
        if name is None:
            guess = guess_name(guesses)
            name = guess if self.assume_yes else click.prompt("Your name", default=guess or None)
        found = [a.strip().lower() for a in addresses if a.strip()]
        if not found and self.assume_yes:
            found = list(guesses)
        while not self.assume_yes:
            bad = [a for a in found if not _ADDRESS.match(a)]
            if found and not bad:
                break
            if bad:
                click.echo(f"  Not a mail address: {', '.join(bad)}")
            raw: str = click.prompt(
                "Your mail addresses (comma-separated; every address you send from)",
                default=", ".join(guesses) or None,
            )
            found = [a.strip().lower() for a in raw.split(",") if a.strip()]
        bad = [a for a in found if not _ADDRESS.match(a)]
        if bad or not found:
            raise UserError(
                "nurture needs your mail addresses to tell your mail from others'",
                [Problem("--address", f"not a mail address: {a}") for a in bad]
                or [Problem("--address", "none given", "e.g. --address me@example.org")],
            )
        return str(name), found

    def timezone(self, default: str) -> str:
        if self.assume_yes:
            return default
        while True:
            zone: str = click.prompt("Your time zone (for working hours)", default=default)
            if _is_zone(zone.strip()):
                return zone.strip()
            click.echo(f"  {zone!r} is not an IANA time zone name (e.g. Europe/Berlin).")


# -- the command --------------------------------------------------------------


def _installed_connectors() -> dict[str, type[Connector]]:
    """Installed connectors that can be loaded, by name.

    A plugin that fails to import (a missing extra, a broken third-party
    package) is named on the terminal and left out of the choice.
    """
    plugins: dict[str, type[Connector]] = {}
    for name in sorted(registry.available()):
        try:
            plugins[name] = registry.load(name)
        except Exception as exc:  # one broken plugin must not block setting up another
            click.echo(
                f"  ({name}: not usable here, {type(exc).__name__}; "
                f"try pip install 'nurture[{name}]')",
                err=True,
            )
    return plugins


def _suggest(plugins: Mapping[str, type[Connector]], accounts: Sequence[AccountDraft]) -> str:
    """The connector to offer first: local for one account, then what is still missing.

    After an IMAP (mail only) account, the first connector that brings a
    calendar is offered, so IMAP + CalDAV takes two Enter presses.
    """
    names = sorted(plugins)
    if not names:
        return ""
    if not accounts:
        return "local" if "local" in plugins else names[0]
    have: set[Capability] = set()
    for account in accounts:
        have |= account.connector.capabilities
    missing = {Capability.MAIL, Capability.CALENDAR} - have
    used = {a.connector.name for a in accounts}

    def rank(name: str) -> tuple[bool, bool, bool, str]:
        caps = plugins[name].capabilities & {Capability.MAIL, Capability.CALENDAR}
        return (not (caps & missing), not caps <= missing, name in used, name)

    return min(names, key=rank)


def _problems(cls: type[Connector], draft: AccountDraft, config_path: Path) -> list[Problem]:
    """The connector's own checks, less "missing" secrets: those live outside config.toml.

    A required secret is satisfied by ``NAME_command``, a systemd credential,
    the keyring or the private file; only the connector can tell when it reads it.
    """
    secret = {f"missing option {o.name!r}" for o in cls.options if o.secret}
    return [
        p for p in cls.validate(draft.name, draft.options, str(config_path)) if p.what not in secret
    ]


def testable(cls: type[Connector]) -> bool:
    """Whether `nurture init` signs in to an account of `cls` before writing it: one that
    logs in with a secret. A sign-in flow of its own (OAuth) runs with `nurture auth`;
    an account without secrets (local files) has nothing to log in to."""
    return any(o.secret for o in cls.options) and cls.authorize is Connector.authorize


def sign_in(draft: AccountDraft, state_dir: Path, base: Path) -> str:
    """Sign in to `draft` once, as nurture will; what went wrong, or "" when it worked.

    Reads the least it can: one batch of mail from a moment in the future (folders are
    listed and opened, nothing is fetched) and the list of nurture's own tasks. Writes
    nothing: the connector's cache goes to a folder thrown away afterwards.
    """
    options = {
        o.name: str(base / Path(os.path.expandvars(draft.options[o.name])).expanduser())
        for o in draft.connector.options
        if o.type is Path and isinstance(draft.options.get(o.name), str)
    }
    secrets = Secrets(draft.name, draft.options, state_dir)
    with tempfile.TemporaryDirectory(prefix="nurture-init-") as cache:
        context = Context(
            account=draft.name,
            options={**draft.options, **options},
            cache_dir=Path(cache),
            secret=lambda name: draft.typed.get(name) or secrets.get(name),
            identities=tuple(_addresses_in([draft])),
        )
        try:
            connector = draft.connector(context)
            try:
                source = connector.mail()
                if source is not None:
                    tomorrow = datetime.now(UTC) + timedelta(days=1)
                    next(iter(source.changes(None, tomorrow)), None)
                store = connector.calendar()
                if store is not None:
                    store.tasks()
            finally:
                connector.close()
        except Exception as exc:  # whatever the provider says: shown, and the user decides
            return str(exc).strip() or type(exc).__name__
    return ""


def _check_free(paths: Sequence[Path], force: bool) -> None:
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        raise UserError(
            "nurture init does not overwrite your files",
            [Problem(str(p), "exists", "--force replaces it") for p in existing],
        )


@click.command("init")
@click.option("--connector", "connector_name", metavar="NAME", help="Connector of the account.")
@click.option("--account", "account_name", metavar="NAME", help="Name of the account.")
@click.option(
    "--option",
    "option_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="An option of the connector (repeatable); secrets as KEY_command=COMMAND.",
)
@click.option("--name", "user_name", help="Your name.")
@click.option("--address", "addresses", multiple=True, help="Your mail address (repeatable).")
@click.option("--timezone", "timezone", help="Your IANA time zone for working hours.")
@click.option("-y", "--yes", "assume_yes", is_flag=True, help="Take the defaults; ask nothing.")
@click.option("--force", is_flag=True, help="Replace config.toml and rule files that exist.")
@click.option(
    "--no-check", is_flag=True, help="Write the accounts without signing in to them first."
)
@click.pass_context
def init(
    ctx: click.Context,
    connector_name: str | None,
    account_name: str | None,
    option_pairs: tuple[str, ...],
    user_name: str | None,
    addresses: tuple[str, ...],
    timezone: str | None,
    assume_yes: bool,
    force: bool,
    no_check: bool,
) -> None:
    """Write config.toml and the default rule files.

    Asks which connector to use and the options it needs; secrets are given
    as a command that prints them, or stored in your keyring (or a file only
    you can read), never in config.toml. Each account is signed in to before
    anything is written (--no-check skips that). Existing files are kept unless
    --force is given. For scripts: --connector NAME --option KEY=VALUE ...
    --name ... --address ... --yes.
    """
    try:
        _init(
            ctx,
            connector_name=connector_name,
            account_name=account_name,
            option_pairs=option_pairs,
            user_name=user_name,
            addresses=addresses,
            timezone=timezone,
            assume_yes=assume_yes,
            force=force,
            no_check=no_check,
        )
    except UserError as exc:
        raise click.ClickException(str(exc)) from None


def _init(
    ctx: click.Context,
    *,
    connector_name: str | None,
    account_name: str | None,
    option_pairs: Sequence[str],
    user_name: str | None,
    addresses: Sequence[str],
    timezone: str | None,
    assume_yes: bool,
    force: bool,
    no_check: bool = False,
) -> None:
    given = (ctx.obj or {}).get("config_path")
    config_path = Path(given).expanduser() if given else default_config_path()
    rules_dir = config_path.parent / "rules"
    templates = default_rule_files()
    _check_free([config_path, *(rules_dir / t.name for t in templates)], force)
    if option_pairs and not connector_name:
        raise UserError("--option needs --connector", [Problem("--option", "which connector?")])
    if timezone is not None and not _is_zone(timezone):
        raise UserError(f"--timezone {timezone!r} is not an IANA time zone name")

    asker = Asker(assume_yes=assume_yes, state_dir=default_state_dir())
    accounts: list[AccountDraft] = []
    while True:
        first = not accounts
        if first and connector_name:
            plugin = connector_name
        else:
            plugins = _installed_connectors()
            plugin = asker.connector(plugins, _suggest(plugins, accounts))
        cls = registry.load(plugin)
        taken = {a.name for a in accounts}
        default_name = plugin if plugin not in taken else f"{plugin}{len(accounts) + 1}"
        if first and account_name:
            name = account_name.strip()
            if not _ACCOUNT_NAME.match(name):
                raise UserError(f"--account {name!r}: letters, digits, - and _ only")
        else:
            name = asker.account_name(default_name, taken)
        draft = AccountDraft(name, cls)
        if first and option_pairs:
            draft.options.update(parse_option_flags(cls, option_pairs))
        check = not no_check and testable(cls)
        asker.options(draft, confirm=not check)
        problems = _problems(cls, draft, config_path)
        if problems:
            raise UserError(f"account {name} is not complete", problems)
        while check:
            problem = sign_in(draft, asker.state_dir, config_path.parent)
            if not problem:
                click.echo(f"  Signed in to {name}: it works.")
                break
            decision = asker.after_failed_sign_in(draft, problem)
            if decision == "quit":
                raise UserError("nothing was written", [Problem(name, problem)])
            if decision == "keep":
                break
            asker.options(draft, again=True)
        asker.keep_secrets(draft)
        accounts.append(draft)
        if not asker.another():
            break

    name_, addresses_ = asker.user(user_name, addresses, _addresses_in(accounts))
    zone = timezone or asker.timezone(_guess_timezone())
    calendars = [a for a in accounts if a.has_calendar]
    target = asker.target(calendars) if calendars else ""

    written: list[Path] = []
    rules_dir.mkdir(parents=True, exist_ok=True)
    for template in templates:
        text = template.read_text(encoding="utf-8")
        if template.name == "work.toml":
            text = _set_key(text, "work", "timezone", zone)
            if target:
                text = _set_key(text, "tasks", "calendar", target)
        path = rules_dir / template.name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    examples = default_rules_dir() / EXAMPLES
    for example in example_rule_files():
        path = rules_dir / EXAMPLES / example.relative_to(examples)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    if example_rule_files():
        written.append(rules_dir / EXAMPLES)
    config_path.parent.mkdir(parents=True, exist_ok=True)
    write_private(config_path, render_config(name_, addresses_, accounts))
    written.insert(0, config_path)

    click.echo("Wrote:")
    for path in written:
        click.echo(f"  {path}")
    if target:
        click.echo(f"Tasks go to the calendar of account {target!r}.")
    else:
        click.echo("No account has a calendar: add one before nurture can place tasks.")
    config_flag = f" --config {config_path}" if given else ""
    for account in accounts:
        if account.connector.authorize is not Connector.authorize:
            click.echo(
                f"Sign in first: nurture{config_flag} auth {account.connector.name} {account.name}"
            )
    click.echo(f"Next: nurture{config_flag} sync --once --dry-run")
