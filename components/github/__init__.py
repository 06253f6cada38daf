"""GitHub as code: repository secrets, the deploy workflow file and the repository webhook.

`workflow` (pure renderer) and `pins` have no Pulumi dependency; the components are
`repo_secrets`, `deploy_workflow` and `deploy_hook`, declared from the config by `program`.
`python -m components.github` prints or writes the rendered workflow.
"""
