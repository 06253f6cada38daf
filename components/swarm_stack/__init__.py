"""Compose services as Swarm services: read (Docker Compose), translate (pure), declare.

The single-engine target is components/compose_stack; this package shares its Compose
model loading and declares `docker.Service`s, overlay networks, secrets and configs.
docs/swarm.md says how it deploys and rolls back.
"""

from components.swarm_stack.plan import SwarmPlan
from components.swarm_stack.translate import SwarmFacts, translate_swarm

__all__ = ["SwarmFacts", "SwarmPlan", "translate_swarm"]
