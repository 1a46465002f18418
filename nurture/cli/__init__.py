"""The `nurture` command. Each subcommand lives in its own module under nurture.cli.

The core never imports this package; it only imports the core.
"""

from __future__ import annotations

import click

from .. import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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


from .admin import register as _register  # noqa: E402

_register(main)


from .init import init as _init  # noqa: E402

main.add_command(_init)

from .auth import auth as _auth  # noqa: E402

main.add_command(_auth)

from .run import run as _run  # noqa: E402
from .service import service as _service  # noqa: E402

main.add_command(_run)
main.add_command(_service)

from .report import report as _report  # noqa: E402

main.add_command(_report)
