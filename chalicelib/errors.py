"""One exception family for the whole product.

API-facing errors carry the HTTP status they map to, so `app.py` can turn any of
them into the stable JSON error shape without a lookup table.
"""

from __future__ import annotations


class LocalBubbleError(Exception):
    """Base of every error the product raises on purpose."""

    status_code = 500
    code = "internal_error"


class ConfigurationError(LocalBubbleError):
    """Settings are missing or inconsistent; raised once at start-up."""

    code = "configuration_error"


class SourceError(LocalBubbleError):
    """A source file cannot be used; the build stops before anything is written."""

    code = "source_error"


class SourceMissingError(SourceError):
    """A source file the build settings name is not there."""

    code = "source_missing"


class SourceFormatError(SourceError):
    """A source file is truncated, garbled or not in the documented format."""

    code = "source_format"

    def __init__(self, path: str, problem: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


class QualityLimitsCrossed(SourceError):
    """A build's quality report crossed its configured limits; it is not published."""

    code = "quality_limits_crossed"

    def __init__(self, build_id: str, failures: list[str]) -> None:
        self.build_id = build_id
        self.failures = list(failures)
        super().__init__(
            f"build {build_id} failed its quality limits (the report: GET"
            f" /builds/{build_id}/quality, or quality_report.html under"
            f" builds/{build_id}/ in the builds bucket): {'; '.join(self.failures)}"
        )


class BadRequest(LocalBubbleError):
    """Client input is invalid; `parameter` names what was wrong."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        parameter: str | None = None,
        details: list[dict] | None = None,
    ) -> None:
        self.parameter = parameter
        self.details = details
        super().__init__(message)


class NotFound(LocalBubbleError):
    """The named resource does not exist."""

    status_code = 404
    code = "not_found"


class Conflict(LocalBubbleError):
    """A conditional write lost: someone else changed the item first."""

    status_code = 409
    code = "conflict"


class BuildNotPublished(Conflict):
    """Only published builds may be activated."""

    code = "build_not_published"


class ArtifactExists(Conflict):
    """Build artifacts are immutable; a different object already has this key."""

    code = "artifact_exists"


class ServiceUnavailable(LocalBubbleError):
    """A backing service did not answer; the caller may retry later."""

    status_code = 503
    code = "service_unavailable"

    def __init__(self, message: str, retry_after: int = 1) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class MethodNotAllowed(LocalBubbleError):
    """The path exists but does not answer this HTTP method."""

    status_code = 405
    code = "method_not_allowed"

    def __init__(self, message: str, allowed: list[str]) -> None:
        self.allowed = allowed
        super().__init__(message)


class PayloadTooLarge(LocalBubbleError):
    """A request body is over the size the route accepts."""

    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(LocalBubbleError):
    """A request body is not in a media type the route reads."""

    status_code = 415
    code = "unsupported_media_type"


class TooManyRequests(LocalBubbleError):
    """A client spent its allowance for an expensive query; retry after a pause."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)


def condition_failed(err: Exception) -> bool:
    """Whether a PynamoDB write failed on its condition (another writer came first).

    Every atomic switch here is a single conditional write, so this is how a
    caller tells losing a race from a real failure.
    """
    cause = getattr(err, "cause_response_code", None)
    return cause == "ConditionalCheckFailedException"
