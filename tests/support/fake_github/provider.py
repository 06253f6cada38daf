"""The part of the fake GitHub that the github Pulumi provider calls: routes to the repository
that repo_state.py keeps (the repository and its branches, file contents and commits, Actions
secrets sealed with a key pair the fake holds, environments and their secrets, webhooks).

Only the configured `owner/repo` (and its numeric id) exists; another one is 404. Served by
server.py.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from tests.support.fake_github.answers import Answer, not_found
from tests.support.fake_github.repo_state import RepoState

# (method, pattern) -> RepoState method name; `{o}`/`{r}` are the owner and repository.
_R = r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)"
_ENV = r"/repositories/(?P<rid>\d+)/environments/(?P<env>[^/]+)/secrets"
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(pattern), handler)
    for method, pattern, handler in [
        ("GET", r"/orgs/(?P<o>[^/]+)", "get_org"),
        ("GET", _R, "get_repo"),
        ("GET", _R + r"/branches/(?P<branch>.+)", "get_branch"),
        ("GET", _R + r"/contents/(?P<path>.+)", "get_contents"),
        ("PUT", _R + r"/contents/(?P<path>.+)", "put_contents"),
        ("DELETE", _R + r"/contents/(?P<path>.+)", "delete_contents"),
        ("GET", _R + r"/commits/(?P<sha>[0-9a-f]{40})", "get_commit"),
        ("GET", _R + r"/actions/secrets/public-key", "get_public_key"),
        ("GET", _R + r"/actions/secrets/(?P<name>[^/]+)", "get_secret"),
        ("PUT", _R + r"/actions/secrets/(?P<name>[^/]+)", "put_secret"),
        ("DELETE", _R + r"/actions/secrets/(?P<name>[^/]+)", "delete_secret"),
        ("GET", _R + r"/environments/(?P<env>[^/]+)", "get_environment"),
        ("PUT", _R + r"/environments/(?P<env>[^/]+)", "put_environment"),
        ("DELETE", _R + r"/environments/(?P<env>[^/]+)", "delete_environment"),
        ("GET", _ENV + r"/public-key", "get_env_public_key"),
        ("GET", _ENV + r"/(?P<name>[^/]+)", "get_env_secret"),
        ("PUT", _ENV + r"/(?P<name>[^/]+)", "put_env_secret"),
        ("DELETE", _ENV + r"/(?P<name>[^/]+)", "delete_env_secret"),
        ("POST", _R + r"/hooks", "create_hook"),
        ("GET", _R + r"/hooks/(?P<id>\d+)", "get_hook"),
        ("PATCH", _R + r"/hooks/(?P<id>\d+)", "edit_hook"),
        ("DELETE", _R + r"/hooks/(?P<id>\d+)", "delete_hook"),
    ]
]


def route(
    state: RepoState, method: str, path: str, query: dict[str, list[str]], body: Any
) -> Answer | None:
    """The answer of the route matching `method path` on `state`, or None when none does."""
    for route_method, pattern, name in ROUTES:
        match = pattern.fullmatch(path)
        if route_method == method and match:
            params = {k: unquote(v) for k, v in match.groupdict().items()}
            if params.pop("o", state.owner) != state.owner:
                return not_found()
            if params.pop("r", state.repo) != state.repo:
                return not_found()
            if params.pop("rid", str(state.repo_id)) != str(state.repo_id):
                return not_found()
            return getattr(state, name)(query=query, body=body, **params)
    return None
