"""`python -m tests.support.payloads`: write index.json from tools/node_modules."""

from tests.support.payloads import SHIPPED, write_shipped

write_shipped()
print(f"wrote {SHIPPED}")
