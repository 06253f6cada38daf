"""GitHub feedback: Deployments and statuses for deployments, a PR comment for previews.

`client` talks to the REST API, `feedback` decides what to post, `comment` renders
the preview comment, `preview_events` turns Pulumi engine events into changes.
"""
