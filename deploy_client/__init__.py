"""The deploy client, `python -m deploy_client`: what the Actions workflow (and people) run.

`deploy` asks the webhook service to deploy a commit and can wait for the verdict; `health`
checks the public URLs from outside; `rollback` asks the service to deploy the last good
commit again. Only httpx and tenacity are needed (deploy_client/requirements.lock).
"""
