"""Health-gated cutover of routed services: proxy, candidate gate, switch, watch, switch back.

`caddy.py` renders the proxy's config (pure) and loads it; `engine.py` runs the proxy
container and reads containers (docker CLI); `swarm_engine.py` does the same for release
services on a Swarm manager; `steps.py` carries one release through the cutover. The
design and the failure kinds: docs/cutover.md (on Swarm: docs/swarm.md).
"""

from webhook.cutover.steps import Cutover, CutoverPolicy, CutoverReport

__all__ = ["Cutover", "CutoverPolicy", "CutoverReport"]
