"""Shared test helpers: launchers, fakes and doubles used by more than one test folder."""
