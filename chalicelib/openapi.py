"""The OpenAPI 3.1 document, generated from the route table and `chalicelib.schemas`.

Each public operation is registered once with its models (`register`); the
document is built from those registrations, so what validates a request is what
the document describes. A blueprint registers its own operations the same way.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

TITLE = "Local Bubble API"
VERSION = "1.0.0"
REF = "#/components/schemas/{model}"
_ERROR_TEXT = {
    400: "a parameter is invalid; `error.parameter` names it",
    401: "no API key, or one that is not valid (see the `apiKey` scheme)",
    403: "the API key's role may not do this",
    404: "no such build, system or path",
    405: "the path does not answer this method",
    409: "a conflict: the build is not published (being written, or failed),"
    " or the job is in a state that does not allow this",
    413: "the body is too large",
    415: "the body is not JSON",
    429: "too many expensive queries from this client; see Retry-After",
    503: "the database is busy or down; see Retry-After",
}
DESCRIPTION = """\
Read-only access to a versioned 3D world of the solar neighbourhood.

- Build-scoped resources (`/builds/{world_build_id}/...`) never change: they are
  cached for a year and carry a strong `ETag`; send `If-None-Match` for a 304.
  `active` in place of the id resolves to the active build (no redirect) and is
  cached for 30 seconds.
- Every list is paginated: pass the page's `next_cursor` back as `cursor`. A null
  `next_cursor` ends the list; a page may hold fewer items than `limit`, even
  none, and walking a list yields each item exactly once. Cursors are opaque,
  signed and bound to their query: change the query and start again.
- Errors share one shape, `{"error": {"code", "message", "parameter", "details"}}`.
- near, box and search queries are rate-limited per client (429 with
  `Retry-After`); cached answers and 304s are not counted.
- Planets are known (catalogued) or inferred (drawn by an occurrence model,
  which each inferred planet names); both carry the habitable-zone flag
  `in_hz`: true inside the host's conservative zone, null where it is undefined.
- Build quality reports and build comparison reports are served as the
  pipeline stored them, under `/builds/{world_build_id}/quality` and
  `/comparisons/{old_id}/{new_id}`.
"""


# The operations routes' API keys (chalicelib.apikeys); public reads need none.
SECURITY_SCHEMES = {
    "apiKey": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "lbk_<key id>_<secret>",
        "description": (
            "An API key made by `jobctl api-key create --role viewer|operator`. "
            "`viewer` reads whole job records; `operator` also starts, cancels "
            "and retries jobs."
        ),
    }
}
REQUIRES_KEY = {"security": [{"apiKey": []}]}
OPTIONAL_KEY = {"security": [{}, {"apiKey": []}]}


@dataclass(frozen=True)
class Operation:
    """One documented route: its method, path, models and the errors it gives."""

    method: str
    path: str
    operation_id: str
    summary: str
    # The name of the reply's model in `chalicelib.replies`, which is imported
    # only when the document is built.
    response: str
    query: type[BaseModel] | None = None
    path_model: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    errors: tuple[int, ...] = (400, 404, 405)
    tags: tuple[str, ...] = ()
    cache: str = "immutable when build-scoped; 30 s under `active`"
    extra: dict[str, Any] = field(default_factory=dict)


OPERATIONS: list[Operation] = []


def register(operation: Operation) -> Operation:
    """Add an operation to the document; one per method and path."""
    for known in OPERATIONS:
        if (known.method, known.path) == (operation.method, operation.path):
            raise ValueError(
                f"{operation.method} {operation.path} is registered twice; "
                "register each route once"
            )
    OPERATIONS.append(operation)
    document.cache_clear()
    return operation


def _strip_null(schema: dict) -> dict:
    """A query parameter is absent rather than null: drop the null branch."""
    options = schema.get("anyOf")
    if options:
        kept = [option for option in options if option.get("type") != "null"]
        if len(kept) == 1:
            merged = {k: v for k, v in schema.items() if k != "anyOf"}
            schema = {**kept[0], **merged}
    if "default" in schema and schema["default"] is None:
        del schema["default"]
    schema.pop("title", None)
    return schema


def _parameters(model: type[BaseModel], where: str) -> list[dict]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = _strip_null(copy.deepcopy(prop))
        parameter = {
            "name": name,
            "in": where,
            "required": where == "path" or name in required,
            "schema": prop,
        }
        description = prop.pop("description", None)
        if description:
            parameter["description"] = description
        out.append(parameter)
    return out


def _json_content(model: type[BaseModel]) -> dict:
    return {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}}


def _operation(op: Operation) -> dict:
    parameters = []
    if op.path_model is not None:
        parameters += _parameters(op.path_model, "path")
    if op.query is not None:
        parameters += _parameters(op.query, "query")
    responses: dict[str, Any] = {
        "200": {
            "description": f"OK; cache: {op.cache}",
            "headers": {"ETag": {"schema": {"type": "string"}}},
            "content": _json_content(_reply_model(op.response)),
        }
    }
    if op.method == "get":
        responses["304"] = {"description": "not modified (If-None-Match matched)"}
    retry = {"Retry-After": {"schema": {"type": "string", "pattern": r"^\d+$"}}}
    for status in sorted(set(op.errors) | {503}):
        responses[str(status)] = {
            "description": _ERROR_TEXT.get(status, "error"),
            "content": _json_content(_reply_model("Error")),
        }
        if status in (429, 503):
            responses[str(status)]["headers"] = retry
    out: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "parameters": parameters,
        "responses": responses,
        **op.extra,
    }
    if op.tags:
        out["tags"] = list(op.tags)
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": _json_content(op.body)}
    return out


def _reply_model(name: str) -> type[BaseModel]:
    """The reply model called `name`; a name that is not one is a coding error."""
    from chalicelib import replies

    model = getattr(replies, name, None)
    if not (isinstance(model, type) and issubclass(model, replies.Response)):
        raise LookupError(f"no reply model {name!r} in chalicelib.replies")
    return model


@functools.lru_cache(maxsize=1)
def document() -> dict:
    """The whole OpenAPI 3.1 document, built once per process."""
    # Imported here: only this route needs it, so cold starts skip it.
    from pydantic.json_schema import models_json_schema

    models = {_reply_model(op.response) for op in OPERATIONS}
    models.add(_reply_model("Error"))
    models |= {op.body for op in OPERATIONS if op.body is not None}
    ordered = sorted(models, key=lambda m: m.__name__)
    _, defs = models_json_schema(
        [(model, "serialization") for model in ordered], ref_template=REF
    )
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
