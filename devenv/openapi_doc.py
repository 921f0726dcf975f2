"""Write `site/openapi.json`: the API's OpenAPI document, for the static site.

The site build runs in the batch image, which does not import the API; it reads
this committed copy instead. `tests/unit/test_openapi.py` fails when it is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SITE_COPY = Path(__file__).resolve().parents[1] / "site" / "openapi.json"


def render() -> str:
    """The document as the site stores it."""
    from app import app  # noqa: F401  (importing registers every route)
    from chalicelib import openapi

    return json.dumps(openapi.document(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    """Write the copy; with --check, exit 1 if the committed one differs."""
    text = render()
    if "--check" in sys.argv:
        return 0 if SITE_COPY.read_text() == text else 1
    SITE_COPY.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
