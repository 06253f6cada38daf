"""`destroy` that ends on a Swarm stack, past the docker provider's wait for task containers.

The provider's service delete (terraform-provider-docker, `deleteService`) removes the
service, then, when it has a `stop_grace_period`, waits on the manager's engine until each
of its task containers there is *removed*, for at most that period (one deadline for them
all). Swarm only starts stopping the tasks then, may use the whole period, and removes the
containers after it, so the wait runs out: `error on wait for container with ID '...':
context deadline exceeded`. The service is gone by then, the rest of the stack is not.
Such a destroy is run again with a refresh, which drops the removed services from the
state, then deletes what is left (networks, secrets, configs); other errors are raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi import automation as auto

PROVIDER_WAIT = "error on wait for container with ID"
PASSES = 3  # every service is removed in the first pass; a third is a margin


def destroy(stack: auto.Stack, common: dict[str, Any], say: Callable[[str], None]):
    """`stack.destroy(**common)`, again with a refresh after the provider's wait error."""
    for attempt in range(1, PASSES + 1):
        try:
            return stack.destroy(**common, **({"refresh": True} if attempt > 1 else {}))
        except auto.CommandError as error:
            if PROVIDER_WAIT not in str(error) or attempt == PASSES:
                raise
            say(
                "destroy: the docker provider stopped waiting for a Swarm task's container "
                "(it waits only the service's stop_grace_period; the service itself is "
                "removed); destroying again with a refresh\n"
            )
    raise AssertionError("unreachable")
