"""GitHub as code: repository secrets, the deploy workflow file and the repository webhook.

`workflow` (pure renderer) and `pins` have no Pulumi dependency; the components live in
`resources`. `python -m components.github` prints or writes the rendered workflow.
"""
