"""The SQLite store: deliveries, deployments, their state history and log lines.

One database file under the state directory, in WAL mode, with one write connection. Writes
are grouped: many callers' writes share one transaction (group commit) and each caller is
answered only after that commit is durable (`synchronous=FULL`). Writes from threads go to
a writer thread; writes from the event loop (`*_async`) run on the loop thread and only
their COMMIT waits on a helper thread; a lock keeps the two to one transaction at a time.
Reads use one connection per thread, so HTTP handlers and worker threads read in parallel.

Every public method is thread-safe. The `*_async` variants are for the event loop: they wait
for the commit without blocking the loop.

Modules: `models` (the rows and errors), `schema` (migrations, connections), `sql` (the
operations on a connection), `writer` (group commit) and `store` (the Store).
"""

from webhook.store.models import (
    Delivery,
    DeliveryOutcome,
    DeliveryStatus,
    Deployment,
    LogLine,
    NewDeployment,
    NotFound,
    SchemaTooNew,
    StackApply,
    StateChange,
    StoreClosed,
    Transition,
    now_iso,
)
from webhook.store.schema import MIGRATIONS
from webhook.store.store import Store
from webhook.store.writer import MAX_BATCH, WriteOp

__all__ = [
    "MAX_BATCH",
    "MIGRATIONS",
    "Delivery",
    "DeliveryOutcome",
    "DeliveryStatus",
    "Deployment",
    "LogLine",
    "NewDeployment",
    "NotFound",
    "SchemaTooNew",
    "StackApply",
    "StateChange",
    "Store",
    "StoreClosed",
    "Transition",
    "WriteOp",
    "now_iso",
]
