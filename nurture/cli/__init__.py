"""The `nurture` command. Each subcommand lives in its own module under nurture.cli.

The core never imports this package; it only imports the core.
"""

from __future__ import annotations

import click

from .. import __version__


class _InOrder(click.Group):
    """Lists subcommands in the order they were added: the order a new user needs them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(
    cls=_InOrder, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="nurture")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="NURTURE_CONFIG",
    help="config.toml to use (default: $XDG_CONFIG_HOME/nurture/config.toml).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """nurture keeps your relationships from going cold.

    It reads your mail and calendar, finds who is waiting on you, what you
    promised, who went quiet and who is upset, and puts reply and follow-up
    tasks on your own calendar. Move a task to snooze it; delete it to dismiss.
    """
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    ctx.obj["verbose"] = verbose
    if ctx.invoked_subcommand != "run":  # the daemon sets up its own logging
        from ..logsetup import setup

        setup(verbose)


# Subcommands, in the order `nurture --help` lists them.
from .admin import demo, rules, status  # noqa: E402
from .auth import auth  # noqa: E402
from .init import init  # noqa: E402
from .report import report  # noqa: E402
from .run import run  # noqa: E402
from .service import service  # noqa: E402
from .sync import dismiss, explain, list_, sync  # noqa: E402

for _command in (
    init,
    sync,
    list_,
    explain,
    dismiss,
    rules,
    status,
    run,
    service,
    auth,
    report,
    demo,
):
    main.add_command(_command)
