"""`python -m components.deploy_service caddyfile URL`: print the proxy's Caddyfile.

For hosts that run the service without a container (deploy/slipway.service) and Caddy from
the distribution: the same file the control stack uploads into its Caddy container.
"""

from __future__ import annotations

import typer

from components.deploy_service.caddy import (
    CaddySite,
    ProxyConfigError,
    public_host,
    render_caddyfile,
)

# Plain click output (no rich panels, no colour codes): the same in a terminal, a CI log, a pipe.
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


@app.callback()
def main() -> None:
    """Tools for running the Slipway deploy service."""


@app.command()
def caddyfile(
    url: str = typer.Argument(help="the service's public URL (slipway:webhook.url)"),
    upstream: str = typer.Option("127.0.0.1:8000", help="where the service listens"),
    email: str | None = typer.Option(None, help="ACME account e-mail (expiry notices)"),
) -> None:
    """Print a Caddyfile with automatic HTTPS for URL's host, proxied to UPSTREAM."""
    try:
        text = render_caddyfile(CaddySite(public_host(url), upstream, email))
    except ProxyConfigError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(text, nl=False)


if __name__ == "__main__":
    app()
