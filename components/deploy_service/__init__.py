"""The webhook service on the deploy host (control stacks only): image, container, proxy."""

from components.deploy_service.caddy import CaddySite, ProxyConfigError, render_caddyfile
from components.deploy_service.component import DeployService, DeployServiceArgs
from components.deploy_service.environment import ServiceEnvironmentError

__all__ = [
    "CaddySite",
    "DeployService",
    "DeployServiceArgs",
    "ProxyConfigError",
    "ServiceEnvironmentError",
    "render_caddyfile",
]
