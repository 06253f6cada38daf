"""The orchestrator's settings group (defined with the others in webhook/settings/groups.py)."""

from __future__ import annotations

from webhook.settings.groups import OrchestratorSettings

HEALTHY_SHA_TAG = "slipway:healthy-sha"
"""Stack tag holding the last commit whose health checks passed (where tags exist)."""

__all__ = ["HEALTHY_SHA_TAG", "OrchestratorSettings"]
