"""What the HTTP layer shares: input parsing, the JSON error shape, caching, CORS.

Routes in `app.py` (and any blueprint) parse their input with `parse_query`,
`parse_path` and `parse_body`, wrap themselves in `handles_errors`, and answer
with `json_response`; `http_middleware` then gives every response, errors and
Chalice's own included, the one error shape, CORS headers, an ETag (the body's
hash, unless the route named one) and 304s.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError
from chalice import CORSConfig, Response
from pydantic import BaseModel, ValidationError
from pynamodb.exceptions import PynamoDBException

from chalicelib import logs
from chalicelib.errors import (
    BadRequest,
    LocalBubbleError,
    MethodNotAllowed,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
)

logger = logging.getLogger(__name__)
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=30"
NO_STORE = "no-store"
MAX_BODY_BYTES = 64 * 1024
RETRY_AFTER_THROTTLED_S = 2
CORS = CORSConfig(
    allow_origin="*",
    allow_headers=["If-None-Match"],
    expose_headers=["ETag", "Retry-After", "Cache-Control"],
    max_age=86400,
)
CORS_HEADERS = CORS.get_access_control_headers()
# DynamoDB's answers when it throttles, after botocore's own retries.
THROTTLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "LimitExceededException",
    }
)
# Chalice's own error codes, mapped onto the product's.
_CHALICE_CODES = {
    "MethodNotAllowedError": "method_not_allowed",
    "UnsupportedMediaType": "unsupported_media_type",
    "BadRequest": "bad_request",
    "BadRequestError": "bad_request",
    "NotFoundError": "not_found",
    "InternalServerError": "internal_error",
}
# Methods a path may not answer; each gets the product's 405 (GET on a POST-only
# path, HEAD, which API Gateway would otherwise refuse in its own words).
OTHER_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
Model = TypeVar("Model", bound=BaseModel)


def json_response(
    body: Any,
    status: int = 200,
    cache: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A JSON reply that never carries NaN or infinity."""
    all_headers = {"Content-Type": "application/json", **CORS_HEADERS}
    if cache:
        all_headers["Cache-Control"] = cache
    all_headers.update(headers or {})
    text = json.dumps(body, allow_nan=False, separators=(",", ":"))
    return Response(body=text, status_code=status, headers=all_headers)


def error_response(err: LocalBubbleError) -> Response:
    """The stable error shape: {"error": {"code", "message", "parameter", ...}}."""
    # Every key is always there (null when it does not apply): one shape to parse.
    error: dict[str, Any] = {
        "code": err.code,
        "message": str(err),
        "parameter": getattr(err, "parameter", None),
        "details": getattr(err, "details", None) or None,
    }
    headers = {}
    retry_after = getattr(err, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if isinstance(err, MethodNotAllowed):
        headers["Allow"] = ", ".join(err.allowed)
    return json_response(
        {"error": error}, status=err.status_code, cache=NO_STORE, headers=headers
    )


def _database_error(err: Exception) -> LocalBubbleError:
    code = getattr(err, "cause_response_code", None)
    if code in THROTTLE_CODES:
        logger.warning("database still throttling after retries: %s", code)
        return ServiceUnavailable(
            "the database is busy; retry after the Retry-After delay",
            retry_after=RETRY_AFTER_THROTTLED_S,
        )
    logger.error("database request failed: %s", err, exc_info=True)
    return ServiceUnavailable(
        "the database did not answer; retry shortly", retry_after=5
    )


def handles_errors(view: Callable[..., Response]) -> Callable[..., Response]:
    """Turn product errors into their JSON replies; log and hide anything else."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except LocalBubbleError as err:
            if err.status_code >= 500:
                logger.error("request failed: %s", err, exc_info=True)
            return error_response(err)
        except (PynamoDBException, BotoCoreError) as err:
            return error_response(_database_error(err))
        except Exception:
            logger.exception("unexpected error")
            return error_response(LocalBubbleError("internal error; see the logs"))

    return wrapper


def _bad_request(
    err: ValidationError, where: str, model: type[BaseModel] | None = None
) -> BadRequest:
    """One 400 for a failed validation, naming every bad parameter."""
    details = []
    for problem in err.errors(include_url=False):
        cause = (problem.get("ctx") or {}).get("error")
        parameter = getattr(cause, "parameter", None)
        if parameter is None and problem["loc"]:
            parameter = str(problem["loc"][0])
        message = str(cause) if cause is not None else problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = f"unknown {where} parameter; see /openapi.json"
        elif problem["type"] == "missing":
            message = "is required"
        elif problem["type"] == "json_invalid":
            parameter, message = None, f"the body is not valid JSON: {problem['msg']}"
        elif problem["type"] == "string_pattern_mismatch":
            # Say what is expected in words (the field's description), not regex.
            field = model.model_fields.get(parameter) if model else None
            expected = getattr(field, "description", None) or "see /openapi.json"
            given = repr(problem["input"])
            given = given if len(given) <= 60 else given[:57] + "..."
            message = f"{given} is not valid; expected {expected}"
        details.append({"parameter": parameter, "message": message})
    first = details[0]
    summary = f"{first['parameter']}: {first['message']}"
    if first["parameter"] is None or first["message"].startswith(first["parameter"]):
        summary = first["message"]
    return BadRequest(summary, first["parameter"], details)


def parse_query(model: type[Model], query: dict | None) -> Model:
    """Validate a request's query string (Chalice's MultiDict) against `model`."""
    values: dict[str, str] = {}
    for name in query or {}:
        given = query.getlist(name) if hasattr(query, "getlist") else [query[name]]
        if len(given) > 1:
            raise BadRequest(f"{name} is given {len(given)} times; give it once", name)
        values[name] = given[0]
    try:
        return model.model_validate(values)
    except ValidationError as err:
        raise _bad_request(err, "query", model) from err


def parse_path(model: type[Model], **params: str) -> Model:
    """Validate path parameters against `model`."""
    try:
        return model.model_validate(params)
    except ValidationError as err:
        raise _bad_request(err, "path", model) from err


def parse_body(model: type[Model], request: Any) -> Model:
    """Validate a JSON request body: 415 if not JSON, 413 if too large, else 400."""
    content_type = (request.headers.get("content-type") or "").split(";")[0]
    if content_type.strip().lower() != "application/json":
        raise UnsupportedMediaType(
            f"send the body as application/json, not {content_type or 'nothing'}"
        )
    raw = request.raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(
            f"the body is {len(raw)} bytes; send at most {MAX_BODY_BYTES}"
        )
    try:
        return model.model_validate_json(raw)
    except ValidationError as err:
        raise _bad_request(err, "body", model) from err


def etag_of(body: str | bytes) -> str:
    """A strong ETag: the quoted start of the body's sha256."""
    data = body.encode() if isinstance(body, str) else body
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (or `*`)."""
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags or f"W/{etag}" in tags


def not_modified(etag: str, cache: str | None) -> Response:
    """A 304: the client's copy, named by `etag`, is current."""
    headers = {"ETag": etag, **CORS_HEADERS}
    if cache:
        headers["Cache-Control"] = cache
    return Response(body="", status_code=304, headers=headers)


def _normalise_error(response: Response) -> None:
    """Give Chalice's own error replies ({"Code", "Message"}) the product's shape."""
    body = response.body
    if isinstance(body, str | bytes):
        try:
            body = json.loads(body)
        except ValueError:
            body = None
    if not isinstance(body, dict) or "Code" not in body:
        return
    code = _CHALICE_CODES.get(str(body["Code"]), "error")
    if response.status_code >= 500:
        message = "internal error; see the logs"
    else:
        message = str(body.get("Message", ""))
    response.body = json.dumps(
        {"error": {"code": code, "message": message, "parameter": None}}
    )
    response.headers["Content-Type"] = "application/json"
    response.headers["Cache-Control"] = NO_STORE


def request_id(event: Any) -> str:
    """The request's id: API Gateway's, else the Lambda invocation's, else a new one."""
    context = getattr(event, "context", None) or {}
    found = context.get("requestId") if isinstance(context, dict) else None
    invocation = getattr(event, "lambda_context", None)
    found = found or getattr(invocation, "aws_request_id", None)
    return str(found or uuid.uuid4())


def http_middleware(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Every response: the error shape, CORS headers, an ETag, 304s, a request id.

    Every line logged while the request is answered carries its `request_id`,
    and a last line says what was answered; the `X-Request-Id` header gives the
    id to the client, so a report of a failure leads to its log lines.
    """
    rid = request_id(event)
    started = time.perf_counter()
    with logs.bound(request_id=rid):
        response = _respond(event, get_response)
        context = getattr(event, "context", None) or {}
        method = getattr(event, "method", None)
        path = context.get("path") or getattr(event, "path", None)
        logger.info(
            "%s %s answered %d",
            method,
            path,
            response.status_code,
            extra={
                "method": method,
                "path": path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
    response.headers["X-Request-Id"] = rid
    return response


def _respond(event: Any, get_response: Callable[[Any], Response]) -> Response:
    response = get_response(event)
    if response.status_code >= 400:
        _normalise_error(response)
    for name, value in CORS_HEADERS.items():
        response.headers.setdefault(name, value)
    method = getattr(event, "method", "GET")
    if method == "GET" and response.status_code == 200:
        # A route may name its answer's ETag itself (`chalicelib.reads`).
        etag = response.headers.get("ETag") or etag_of(response.body)
        response.headers["ETag"] = etag
        wanted = (getattr(event, "headers", None) or {}).get("if-none-match")
        if wanted and etag_matches(wanted, etag):
            kept = ("Cache-Control", "ETag", *CORS_HEADERS)
            headers = {k: v for k, v in response.headers.items() if k in kept}
            return Response(body="", status_code=304, headers=headers)
    return response


def answer_other_methods(app: Any) -> None:
    """Register a 405 for each method a path does not answer, in every stage.

    API Gateway answers an unrouted method itself (a 403), so each path needs a
    route per method for the product's 405 to reach the client.
    """
    for path, views in list(app.routes.items()):
        missing = [m for m in OTHER_METHODS if m not in views]
        if not missing:
            continue
        allowed = sorted(set(views) | {"OPTIONS"})
        route = app.route(
            path,
            methods=missing,
            cors=CORS,
            name=_view_name(path),
            content_types=["*/*"],
        )
        route(_method_not_allowed(allowed))


def _view_name(path: str) -> str:
    digest = hashlib.sha256(path.encode()).hexdigest()[:8]
    return f"method_not_allowed_{digest}"


def _method_not_allowed(allowed: list[str]) -> Callable[..., Response]:
    @handles_errors
    def view(**_params: str) -> Response:
        raise MethodNotAllowed(
            f"this path answers {', '.join(allowed)} only", allowed=allowed
        )

    return view


class ImmutableCache:
    """A small per-process LRU of answers that can never change (build-scoped)."""

    def __init__(self, max_entries: int = 128, max_chars: int = 512_000) -> None:
        self.max_entries = max_entries
        self.max_chars = max_chars
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any | None:
        """The cached value for `key`, or None."""
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Any, size: int) -> None:
        """Keep `value` unless it is too big; evict the least recently used."""
        if size > self.max_chars:
            return
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (tests)."""
        self._entries.clear()


def public_route(
    app: Any,
    path: str,
    *,
    operation_id: str,
    summary: str,
    response: str,
    query: type[BaseModel] | None = None,
    path_model: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (400, 404, 405),
    cache: str = "immutable when build-scoped; 30 s under `active`",
    doc_prefix: str = "",
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register a public GET route on an app or blueprint, and document it.

    `response` names the reply's model in `chalicelib.replies`; `doc_prefix` is a
    blueprint's url_prefix, so the document names the full path.
    """
    from chalicelib import openapi

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        openapi.register(
            openapi.Operation(
                method="get",
                path=doc_prefix + path,
                operation_id=operation_id,
                summary=summary,
                response=response,
                query=query,
                path_model=path_model,
                errors=errors,
                cache=cache,
            )
        )
        return app.route(path, methods=["GET"], cors=CORS)(handles_errors(view))

    return decorate
