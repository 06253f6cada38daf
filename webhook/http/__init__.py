"""The HTTP surface: the hook, the API, the page, auth, rate limit, readiness."""
