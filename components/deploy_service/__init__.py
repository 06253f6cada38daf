"""The webhook service on the deploy host (control stacks only): image, container, proxy.

The names below are imported on first use (PEP 562): an app stack's program imports
`components.deploy_service.config` and `.guard` and never loads the component, its
environment or the service's settings model (docs/full-up.md).
"""

from importlib import import_module
from typing import Any

_HOMES = {
    "CaddySite": "caddy",
    "ProxyConfigError": "caddy",
    "render_caddyfile": "caddy",
    "DeployService": "component",
    "DeployServiceArgs": "component",
    "ServiceEnvironmentError": "environment",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
