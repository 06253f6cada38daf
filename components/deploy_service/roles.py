"""The label that marks the deploy service's containers, and its values.

Apart from the component so that an app stack's guard (guard.py) can read them without
importing the component, its environment and the service's settings model.
"""

ROLE_LABEL = "io.slipway.role"  # on both containers; app stacks refuse services carrying it
SERVICE_ROLE = "deploy-service"
PROXY_ROLE = "deploy-proxy"
