"""What the HTTP layer shares: the JSON error shape and cache headers."""

from __future__ import annotations

import functools
import json
import logging

from chalice import Response

from chalicelib.errors import LocalBubbleError

logger = logging.getLogger(__name__)
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=30"
CORS_HEADERS = {"Access-Control-Allow-Origin": "*"}


def json_response(body, status: int = 200, cache: str | None = None) -> Response:
    """A JSON reply that never carries NaN or infinity."""
    headers = {"Content-Type": "application/json", **CORS_HEADERS}
    if cache:
        headers["Cache-Control"] = cache
    text = json.dumps(body, allow_nan=False, separators=(",", ":"))
    return Response(body=text, status_code=status, headers=headers)


def error_response(err: LocalBubbleError) -> Response:
    """The stable error shape: {"error": {"code", "message", "parameter"}}."""
    body = {
        "error": {
            "code": err.code,
            "message": str(err),
            "parameter": getattr(err, "parameter", None),
        }
    }
    return json_response(body, status=err.status_code, cache="no-store")


def handles_errors(view):
    """Turn product errors into their JSON replies; log and hide anything else."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except LocalBubbleError as err:
            if err.status_code >= 500:
                logger.error("request failed: %s", err, exc_info=True)
            return error_response(err)
        except Exception:
            logger.exception("unexpected error")
            return error_response(LocalBubbleError("internal error; see the logs"))

    return wrapper
