"""`nurture service install | uninstall | status`: run nurture as a systemd user service."""

from __future__ import annotations

from pathlib import Path

import click

from ..service import Outcome


def _show(outcome: Outcome) -> None:
    for line in outcome.lines:
        click.echo(line)
    if not outcome.ok:
        raise SystemExit(1)


@click.group("service")
def service() -> None:
    """Run nurture in the background as a systemd user service."""


@service.command("install")
@click.option(
    "--hardening/--no-hardening",
    default=None,
    help="Add the namespace sandbox drop-in (default: where this host allows user namespaces).",
)
@click.option("--no-start", is_flag=True, help="Write and enable the unit, but do not start it.")
@click.pass_context
def install(ctx: click.Context, hardening: bool | None, no_start: bool) -> None:
    """Write the unit for this installation, enable it and start it.

    The unit runs `nurture run` with this very interpreter (your venv or pipx
    install), restarts it if it fails, and tells systemd when it is ready.
    Run it again after moving the installation; it is safe to repeat.
    """
    from ..config import load_config
    from ..errors import UserError
    from ..service import install as do_install

    path = (ctx.obj or {}).get("config_path")
    config_path = Path(path) if path else None
    try:
        config = load_config(config_path)
    except UserError as error:
        click.echo(str(error), err=True)
        click.echo("Fix the configuration first: the service would not start.", err=True)
        raise SystemExit(2) from None
    # What the sandbox must leave writable: the state folder and local calendars.
    writable = [Path(config.state_dir)]
    for account in config.accounts:
        calendar = account.options.get("calendar") if account.connector == "local" else None
        if calendar:
            path = Path(str(calendar))
            writable.append(path.parent if path.suffix == ".ics" else path)
    _show(do_install(config_path, hardening=hardening, writable=writable, start=not no_start))


@service.command("uninstall")
def uninstall() -> None:
    """Stop and disable the service and remove the unit; your data stays."""
    from ..service import uninstall as do_uninstall

    _show(do_uninstall())


@service.command("status")
def status() -> None:
    """Whether the service is installed, enabled and running, and how to read its log."""
    from ..service import status as do_status

    _show(do_status())
