"""`Settings`: every `SLIPWAY_*` setting in one model of groups, read once at start.

Variables come from the environment, then from `.env` in the working directory (the
environment wins); names are matched without regard to case. A `SLIPWAY_` name that is not a
setting (nor a variable another Slipway program reads) is refused with `UnknownSettingError`
naming the closest valid one. Keywords may be given flat (`Settings(port=0)`) as well as by
group (`Settings(http={...})`); a flat keyword is the variable's name without the prefix.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_origin

from dotenv import dotenv_values
from pydantic import model_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from webhook.settings.groups import (
    DeploySettings,
    GitHubSettings,
    HttpSettings,
    OrchestratorSettings,
)
from webhook.settings.names import GROUPS, PREFIX, SETTINGS, unknown_names, unknown_setting_problem

_FLAT = {field: group for group, field in SETTINGS.values()}
_REPO_IN_URL = re.compile(r"github\.com[:/](?P<repo>[\w.-]+/[\w.-]+?)(?:\.git)?/?$")


def repository_from_url(url: str) -> str | None:
    """`owner/name` from a GitHub clone URL (https, ssh or scp-like), else None."""
    found = _REPO_IN_URL.search(url.strip())
    return found["repo"] if found else None


class UnknownSettingError(ValueError):
    """`SLIPWAY_` names in the environment or `.env` that are not settings."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        super().__init__("\n".join(unknown_setting_problem(name) for name in names))


class Settings(BaseSettings):
    """Everything the webhook service reads from its environment, by group.

    Only the webhook secret is required; the service refuses to start without it.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="forbid", frozen=True)

    http: HttpSettings
    deploy: DeploySettings
    github: GitHubSettings
    orchestrator: OrchestratorSettings

    @model_validator(mode="before")
    @classmethod
    def _nest_flat_names(cls, data: Any) -> Any:
        """Put each flat keyword (`port`) into its group (`http`); a group given whole wins."""
        if not isinstance(data, Mapping):
            return data
        nested: dict[str, Any] = {}
        for key, value in data.items():
            if key in GROUPS and not isinstance(value, Mapping):
                nested[key] = value  # a group model given whole
            elif key in GROUPS:
                nested.setdefault(key, {}).update(value)
            elif key not in _FLAT:
                nested[key] = value  # extra="forbid" names it
        for key, value in data.items():
            group = _FLAT.get(key)
            if group is not None and isinstance(nested.setdefault(group, {}), dict):
                nested[group].setdefault(key, value)
        for group in GROUPS:
            nested.setdefault(group, {})
        return nested

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env_file = getattr(dotenv_settings, "env_file", None)
        if not isinstance(dotenv_settings, DotEnvSettingsSource):
            env_file = None
        return (init_settings, SlipwayVariables(settings_cls, os.environ, env_file))

    @property
    def repository(self) -> str | None:
        """The repository this service deploys (owner/name), when it can be known:
        SLIPWAY_GITHUB_REPOSITORY, else taken from a github.com SLIPWAY_REPO_URL."""
        return self.github.github_repository or repository_from_url(self.deploy.repo_url)

    @property
    def database_path(self) -> Path:
        """The one SQLite file under the state directory."""
        return self.deploy.state_dir / "slipway.db"


class SlipwayVariables(PydanticBaseSettingsSource):
    """The `SLIPWAY_*` variables of the environment and `.env`, as flat keywords."""

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        environ: Mapping[str, str],
        env_file: Any,
    ) -> None:
        super().__init__(settings_cls)
        self.environ = environ
        self.env_file = env_file

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ reads everything at once

    def __call__(self) -> dict[str, Any]:
        given = raw_variables(self.environ, self.env_file)
        return {SETTINGS[name][1]: decode(name, value) for name, value in given.items()}


def raw_variables(environ: Mapping[str, str], env_file: Any = ".env") -> dict[str, str]:
    """Each setting's variable → its text, from `.env` then the environment (which wins);
    UnknownSettingError for a `SLIPWAY_` name that is not a setting."""
    found: dict[str, str] = {}
    unknown: list[str] = []
    for source in (_dotenv(env_file), environ):
        unknown += unknown_names(source)
        for name, value in source.items():
            if name.upper() in SETTINGS and value is not None:
                found[name.upper()] = value
    if unknown:
        raise UnknownSettingError(list(dict.fromkeys(unknown)))
    return found


def decode(name: str, value: str) -> Any:
    """A variable's text as the field takes it: lists are JSON, the rest pydantic parses."""
    group, field = SETTINGS[name]
    annotation = GROUPS[group].model_fields[field].annotation
    if get_origin(annotation) is list:
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(
                f"{name}: {value!r} is not a JSON list, e.g. '[\"127.0.0.1\"]'"
            ) from None
    return value


def _dotenv(env_file: Any) -> dict[str, str | None]:
    paths = env_file if isinstance(env_file, list | tuple) else [env_file]
    values: dict[str, str | None] = {}
    for path in paths:
        if path is not None and Path(path).expanduser().is_file():
            values.update(dotenv_values(Path(path).expanduser()))
    return values


__all__ = [
    "PREFIX",
    "DeploySettings",
    "GitHubSettings",
    "HttpSettings",
    "OrchestratorSettings",
    "Settings",
    "UnknownSettingError",
]
