"""The service's settings: `SLIPWAY_*` variables in one model of groups (docs/settings.md).

`Settings` (model.py) is read once at start and passed to everything that needs a setting;
the groups are in groups.py, the names and the refusal of unknown ones in names.py, the
reference page's text in reference.py (`python -m webhook.settings --markdown`).
"""

from webhook.settings.groups import (
    MIN_SECRET_LENGTH,
    DeploySettings,
    GitHubSettings,
    HttpSettings,
    OrchestratorSettings,
    ProxyNetwork,
)
from webhook.settings.model import Settings, UnknownSettingError, raw_variables, repository_from_url
from webhook.settings.names import (
    SETTINGS,
    setting,
    unknown_names,
    unknown_setting_problem,
    variable,
)

__all__ = [
    "MIN_SECRET_LENGTH",
    "SETTINGS",
    "DeploySettings",
    "GitHubSettings",
    "HttpSettings",
    "OrchestratorSettings",
    "ProxyNetwork",
    "Settings",
    "UnknownSettingError",
    "raw_variables",
    "repository_from_url",
    "setting",
    "unknown_names",
    "unknown_setting_problem",
    "variable",
]
