"""Pydantic models of every public input of the API.

They validate query strings, path parameters and bodies (a failure becomes a 400
naming the parameter), and they are the source of the OpenAPI document's
parameters (`chalicelib.openapi`), so the two cannot drift. The replies' models
are in `chalicelib.replies`.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
MAX_SEARCH_LIMIT = 100
MAX_NEAR_RADIUS_PC = 50.0
MAX_BOX_EDGE_PC = 100.0
MAX_QUERY_TEXT = 100
MAX_CURSOR_CHARS = 2048
# Sector indices: 20 pc cubes, so +-10,000 covers +-200 kpc, the whole Galaxy.
MAX_SECTOR_INDEX = 10_000
_NUMBER = r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?"
_INT = r"[-+]?\d{1,5}"
BUILD_REF_PATTERN = r"^(active|[A-Za-z0-9][A-Za-z0-9._-]{0,127})$"
BUILD_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
SYSTEM_ID_PATTERN = r"^[a-z0-9][a-z0-9._+-]{0,199}$"


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")


def _numbers(count: int, what: str):
    """A validator splitting `a,b,c` into `count` finite floats."""

    def parse(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        parts = value.split(",")
        if len(parts) != count:
            raise ValueError(f"must be {what}, got {value!r}")
        numbers = []
        for part in parts:
            # float() alone would take "1_000" and fullwidth digits.
            if not _DECIMAL.fullmatch(part.strip()):
                raise ValueError(f"must be {what}; {part[:40]!r} is not a number")
            number = float(part.strip())
            if not math.isfinite(number):
                raise ValueError(f"must be {what} of finite numbers, got {part!r}")
            numbers.append(number)
        return tuple(numbers)

    return parse


def _integers(count: int, what: str):
    """A validator splitting `i,j,k` into `count` integers."""

    def parse(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        parts = [part.strip() for part in value.split(",")]
        if len(parts) != count or not all(p.lstrip("+-").isdigit() for p in parts):
            raise ValueError(f"must be {what}, got {value!r}")
        return tuple(int(part) for part in parts)

    return parse


def _csv_pattern(item: str, count: int) -> str:
    return "^" + ",".join([item] * count) + "$"


Point = Annotated[
    tuple[float, float, float],
    BeforeValidator(_numbers(3, "x,y,z in parsecs")),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _csv_pattern(_NUMBER, 3),
            "description": "x,y,z in parsecs (heliocentric Galactic)",
            "examples": ["0,0,0"],
        }
    ),
]
Box = Annotated[
    tuple[float, float, float, float, float, float],
    BeforeValidator(_numbers(6, "x0,y0,z0,x1,y1,z1 in parsecs")),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _csv_pattern(_NUMBER, 6),
            "description": (
                "two opposite corners x0,y0,z0,x1,y1,z1 in parsecs; "
                f"each edge at most {MAX_BOX_EDGE_PC:g} pc"
            ),
            "examples": ["-5,-5,-5,5,5,5"],
        }
    ),
]
Sector = Annotated[
    tuple[int, int, int],
    BeforeValidator(_integers(3, "i,j,k sector indices")),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _csv_pattern(_INT, 3),
            "description": "i,j,k: the 20 pc cube [20i, 20i+20) x ... in parsecs",
            "examples": ["0,0,0", "-1,0,0"],
        }
    ),
]


def _flag(value: object) -> object:
    """`true` or `false` as the document says; not `yes`, `on` or `1`."""
    if isinstance(value, str) and value not in ("true", "false"):
        raise ValueError(f"{value[:40]!r} is not a flag; give true or false")
    return value


FlagParam = Annotated[
    bool,
    BeforeValidator(_flag),
    WithJsonSchema({"type": "string", "enum": ["true", "false"]}),
]
Cursor = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_CURSOR_CHARS,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="the next_cursor of the previous page, as it was given"
        " (letters, digits, `_` and `-`)",
    ),
]


class Query(BaseModel):
    """Base of the query-string models: strict about unknown parameters."""

    # Built on first use: a cold start pays only for the routes it serves.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class PageQuery(Query):
    """A page of a list: its size and where it starts."""

    limit: int = Field(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="items per page, at most"
    )
    cursor: Cursor | None = None


class BuildListQuery(PageQuery):
    """Query of `GET /builds`."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=100)
    state: Literal["pending", "running", "validated", "published", "failed"] | None = (
        Field(None, description="only builds in this state")
    )


class SystemListQuery(PageQuery):
    """Query of `GET /builds/{build_ref}/systems`: at most one spatial selector.

    With `near` (and `radius`) the list is nearest first; with `box` or `sector`
    it is ordered by sector, then id; with none it is the whole build by id. The
    planet filters apply to every one of them.
    """

    near: Point | None = Field(None, description="centre of a sphere (with radius)")
    radius: float | None = Field(
        None,
        gt=0,
        le=MAX_NEAR_RADIUS_PC,
        allow_inf_nan=False,
        description=f"sphere radius in parsecs, at most {MAX_NEAR_RADIUS_PC:g}",
    )
    box: Box | None = None
    sector: Sector | None = None
    planets: Literal["any", "known", "inferred"] | None = Field(
        None,
        description=(
            "only systems with at least one planet of this kind (known: "
            "catalogued; inferred: drawn by the occurrence model); with in_hz, "
            "that same planet must carry the habitable-zone flag asked for"
        ),
    )
    in_hz: FlagParam | None = Field(
        None,
        description=(
            "only systems with a planet flagged inside (true) or outside (false) "
            "its habitable zone; planets without the flag match neither"
        ),
    )

    @model_validator(mode="after")
    def _one_selector(self) -> SystemListQuery:
        chosen = [n for n in ("near", "box", "sector") if getattr(self, n) is not None]
        if len(chosen) > 1:
            raise _ParameterError(
                chosen[1],
                f"give one of near, box or sector, not {' and '.join(chosen)}",
            )
        if self.near is not None and self.radius is None:
            raise _ParameterError("radius", "radius is required with near")
        if self.radius is not None and self.near is None:
            raise _ParameterError("near", "near is required with radius")
        if self.box is not None:
            low, high = self.box[:3], self.box[3:]
            if any(abs(b - a) > MAX_BOX_EDGE_PC for a, b in zip(low, high)):
                raise _ParameterError(
                    "box", f"each box edge must be at most {MAX_BOX_EDGE_PC:g} pc"
                )
        if self.sector is not None and max(map(abs, self.sector)) > MAX_SECTOR_INDEX:
            raise _ParameterError(
                "sector", f"sector indices must lie within +-{MAX_SECTOR_INDEX}"
            )
        return self


class SearchQuery(PageQuery):
    """Query of `GET /builds/{build_ref}/search`."""

    q: str = Field(
        min_length=1,
        max_length=MAX_QUERY_TEXT,
        description="a name or designation, or the start of one (two characters+)",
        examples=["Proxima", "alf Cen", "HIP 70890"],
    )
    limit: int = Field(20, ge=1, le=MAX_SEARCH_LIMIT)


class PlanetListQuery(PageQuery):
    """Query of `GET /builds/{build_ref}/systems/{system_id}/planets`."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=100)
    known: FlagParam | None = Field(None, description="only (not) known planets")
    inferred: FlagParam | None = Field(
        None, description="only (not) inferred planets (drawn by the model)"
    )
    in_hz: FlagParam | None = Field(
        None,
        description="only planets flagged in (or out of) the habitable zone; "
        "planets without the flag match neither",
    )


class EmptyQuery(Query):
    """A route that takes no query parameters."""


class BuildPath(BaseModel):
    """Path parameters naming a build."""

    model_config = ConfigDict(defer_build=True)

    build_ref: str = Field(
        pattern=BUILD_REF_PATTERN,
        description="a world_build_id (letters, digits and `._-`, at most 128"
        " characters), or `active` for the active build",
    )


class SystemPath(BuildPath):
    """Path parameters naming one system of a build."""

    system_id: str = Field(
        pattern=SYSTEM_ID_PATTERN,
        description="a system id: lower-case letters, digits and `._+-`, at most"
        " 200 characters (`sol`, `hip-70890`, `nasa-trappist-1`)",
    )


class ComparisonListQuery(PageQuery):
    """Query of `GET /builds/{build_ref}/comparisons`."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=100)


class ComparisonPath(BaseModel):
    """Path parameters naming a comparison: the build before and the build after."""

    model_config = ConfigDict(defer_build=True)

    old_id: str = Field(
        pattern=BUILD_ID_PATTERN,
        description="the world_build_id compared from (letters, digits and `._-`)",
    )
    new_id: str = Field(
        pattern=BUILD_ID_PATTERN,
        description="the world_build_id compared to (letters, digits and `._-`)",
    )


class _ParameterError(ValueError):
    """A cross-field check that names the parameter at fault."""

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        super().__init__(message)
