"""`python -m webhook <command>`: the service's command line (Typer; add commands to `cli`)."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from pydantic import ValidationError

from webhook.settings import Settings, UnknownSettingError

# Plain click output (no rich panels, no colour codes): the same in a terminal, a CI log, a pipe.
cli = typer.Typer(
    help="Slipway webhook service.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def explain_settings_error(error: ValidationError) -> str:
    """One line per bad setting, named as the environment variable that sets it."""
    lines = ["the service cannot start, its settings are incomplete or wrong:"]
    for problem in error.errors():
        field = str(problem["loc"][-1]) if problem["loc"] else "settings"
        variable = f"SLIPWAY_{field.upper()}"
        message = problem["msg"]
        if problem["type"] == "missing":
            message = "is required but not set"
            if field == "webhook_secret":
                message += (
                    " (the HMAC secret of the GitHub webhook, at least 16 characters; "
                    "generate one with `python -c 'import secrets; print(secrets.token_hex(32))'`)"
                )
        lines.append(f"  {variable}: {message}")
    return "\n".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment (and `.env`), read once; exits with an explanation
    when a value is invalid or a `SLIPWAY_` name is not a setting."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        typer.echo(explain_settings_error(error), err=True)
        raise typer.Exit(2) from None
    except (UnknownSettingError, ValueError) as error:
        typer.echo(f"the service cannot start: {error}", err=True)
        raise typer.Exit(2) from None


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="listen address [SLIPWAY_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="listen port [SLIPWAY_PORT]")] = None,
    dev: Annotated[
        bool,
        typer.Option(
            "--dev",
            help="local use (make serve): generate a webhook secret and an API token when "
            "neither the environment nor .env sets them, kept in the state directory",
        ),
    ] = False,
) -> None:
    """Run the webhook service with uvicorn."""
    import uvicorn

    from webhook.http.app import create_app
    from webhook.http.server import server_config
    from webhook.logs import configure_logging
    from webhook.startup import EXIT_NOT_LISTENING, StartupError, prepare

    if dev:
        _provide_dev_values()
    settings = load_settings(host=host, port=port)
    configure_logging(settings.http.log_level)
    try:  # state dir lock, then the port, then the database: before the app's startup
        prepared = prepare(settings)
    except StartupError as error:
        typer.echo(f"the service cannot start: {error}", err=True)
        raise typer.Exit(error.exit_code) from None
    # Request and idle timeouts, head size: webhook/http/server.py (docs/webhook.md, "Limits").
    config = server_config(create_app(settings), settings.http.host, settings.http.port)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[prepared.listener])
    finally:
        prepared.close()
    if not server.started:
        raise typer.Exit(EXIT_NOT_LISTENING)


def _provide_dev_values() -> None:
    """Put the development secret and token into the environment; say where each comes from."""
    from webhook.devvalues import provide
    from webhook.startup import EXIT_STATE_DIR_UNUSABLE, unusable

    try:
        values, lines = provide()
    except UnknownSettingError as error:  # read before `load_settings`: refused the same way
        typer.echo(f"the service cannot start: {error}", err=True)
        raise typer.Exit(2) from None
    except OSError as error:
        message = unusable("for the development values", error)
        typer.echo(f"the service cannot start: {message}", err=True)
        raise typer.Exit(EXIT_STATE_DIR_UNUSABLE) from None
    os.environ.update(values)
    for line in lines:
        typer.echo(line, err=True)


@cli.callback()
def main() -> None:
    """Slipway webhook service."""


if __name__ == "__main__":
    cli()
