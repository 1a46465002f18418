"""`nurture auth CONNECTOR ACCOUNT`: run a provider's sign-in flow for one account.

OAuth providers (Google, Microsoft 365) need a browser or device-code sign-in
once; the connector does the flow and keeps the refresh token through the
secrets layer (a real keyring, or a file only the user can read). This is the
command an `AuthError` names when a token expires or is revoked.
"""

from __future__ import annotations

from pathlib import Path

import click

from .. import connector as registry
from ..config import Account, Config, load_config
from ..connector import Connector, Context
from ..errors import AuthError, Problem, UserError
from ..lock import poke
from ..secrets import Secrets

# Names people type for a provider, mapped to the connector's name.
ALIASES = {
    "graph": "microsoft",
    "m365": "microsoft",
    "office365": "microsoft",
    "outlook": "microsoft",
    "gmail": "google",
    "ews": "exchange",
}


def connector_name(typed: str) -> str:
    """The connector a user means by `typed` (case-insensitive, aliases resolved)."""
    lowered = typed.strip().lower()
    return ALIASES.get(lowered, lowered)


def account_context(config: Config, account: Account) -> Context:
    """The Context of `account`, with its secrets bound to the secrets layer."""
    secrets = Secrets(account.name, account.options, config.state_dir)

    def store_secret(name: str, value: str) -> None:
        secrets.set(name, value)

    return Context(
        account=account.name,
        options=account.options,
        cache_dir=config.state_dir / "cache" / account.name,  # as nurture.app builds it
        secret=secrets.get,
        store_secret=store_secret,
        identities=config.addresses,
    )


@click.command("auth")
@click.argument("connector", metavar="CONNECTOR")
@click.argument("account_name", metavar="ACCOUNT")
@click.pass_context
def auth(ctx: click.Context, connector: str, account_name: str) -> None:
    """Sign in to an account, or store its password.

    CONNECTOR is the account's connector (google, microsoft, imap, ...) and
    ACCOUNT its name in config.toml. Providers with a sign-in flow (google,
    microsoft) open it and keep the token; password accounts (imap, caldav)
    ask for the password. Either is kept in your system keyring, or in a file
    only you can read, never in config.toml. Run it again whenever nurture
    says a sign-in expired or a password was refused.
    """
    given = (ctx.obj or {}).get("config_path")
    try:
        config = load_config(Path(given).expanduser() if given else None)
        account = config.account(account_name)
        wanted = connector_name(connector)
        if account.connector != wanted:
            raise UserError(
                f"account {account.name!r} uses the {account.connector} connector, not {connector}",
                [
                    Problem(
                        f"{config.path} [accounts.{account.name}]",
                        f'connector = "{account.connector}"',
                        f"run `nurture auth {account.connector} {account.name}`",
                    )
                ],
            )
        plugin = registry.load(account.connector)
        if plugin.authorize is Connector.authorize and any(o.secret for o in plugin.options):
            store_passwords(plugin, config, account)
        else:
            instance = plugin(account_context(config, account))
            try:
                instance.authorize(interactive=True)
            finally:
                instance.close()
            click.echo(f"Signed in: account {account.name!r} is ready.")
    except (UserError, AuthError) as exc:
        raise click.ClickException(str(exc)) from None
    if poke(config.state_dir) is not None:  # a paused account resumes now, not within the hour
        click.echo("The running nurture daemon was asked to retry this account.")


def store_passwords(plugin: type[Connector], config: Config, account: Account) -> None:
    """For connectors without a sign-in flow (IMAP, CalDAV): ask for each secret and keep it.

    Their `AuthError` names ``nurture auth NAME ACCOUNT`` too, so this is where
    a changed password is typed in. A secret that comes from a command is
    left alone: the command is what needs fixing.
    """
    secrets = Secrets(account.name, account.options, config.state_dir)
    for option in (o for o in plugin.options if o.secret):
        command = account.options.get(f"{option.name}_command")
        if command is not None:
            click.echo(
                f"{option.name} of {account.name} comes from {option.name}_command in "
                f"{config.path}; if it is wrong, fix that command."
            )
            continue
        value: str = click.prompt(
            f"{option.name} for {account.name} ({option.help})",
            default="",
            show_default=False,
            hide_input=True,
        )
        if not value:
            click.echo(f"  {option.name} left as it was.")
            continue
        where = secrets.set(option.name, value)
        shown = "your system keyring" if where == "keyring" else f"{where} (mode 0600)"
        click.echo(f"  Stored {option.name} for {account.name} in {shown}.")
