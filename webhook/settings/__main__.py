"""`python -m webhook.settings --markdown`: print docs/settings.md from the settings model."""

from __future__ import annotations

import argparse

from webhook.settings.reference import markdown


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m webhook.settings", description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print docs/settings.md")
    args = parser.parse_args()
    if not args.markdown:
        parser.error("say what to print: --markdown")
    print(markdown(), end="")


if __name__ == "__main__":
    main()
