"""Structured JSON logs for the edges: Lambda handlers, job runners and the CLI.

Library modules log through `logging.getLogger(__name__)` and never configure
anything; an edge calls `configure` once, and `bound` adds a job or request id
to every line written meanwhile. The formatter is Powertools for AWS Lambda's.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

# The handlers `configure` installed, so that a second call replaces them.
_installed: list[logging.Handler] = []


class _LoggerName(logging.Filter):
    """Adds the logger's name to each record as the `logger` key."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.logger = record.name
        return True


def configure(
    service: str, level: int = logging.INFO, stream: TextIO | None = None, **keys
) -> LambdaPowertoolsFormatter:
    """Send every log record as one JSON line to `stream` (default stderr)."""
    # Imported here: Powertools' package loads its metrics and tracer too, a
    # cost only the processes that log JSON should pay.
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    root = logging.getLogger()
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        # The runtime's own plain-text handler would print every line twice.
        for handler in list(root.handlers):
            root.removeHandler(handler)
    formatter = LambdaPowertoolsFormatter(service=service, utc=True)
    formatter.append_keys(**keys)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(_LoggerName())
    for old in _installed:
        root.removeHandler(old)
    _installed[:] = [handler]
    root.addHandler(handler)
    root.setLevel(level)
    return formatter


@contextmanager
def bound(**keys: str | None) -> Iterator[None]:
    """Add `keys` (a job id, a request id) to every line logged inside the block."""
    present = {name: value for name, value in keys.items() if value is not None}
    formatters = [h.formatter for h in _installed]
    for formatter in formatters:
        formatter.append_keys(**present)
    try:
        yield
    finally:
        for formatter in formatters:
            formatter.remove_keys(list(present))
