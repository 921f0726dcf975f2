"""Pydantic models of every public input and output of the API.

One set of models does both jobs: it validates query strings, path parameters and
bodies (a failure becomes a 400 naming the parameter), and it is the source of
the OpenAPI document (`chalicelib.openapi`), so the two cannot drift.
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
FlagParam = Annotated[
    bool,
    WithJsonSchema({"type": "string", "enum": ["true", "false"]}),
]
Cursor = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_CURSOR_CHARS,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="the next_cursor of the previous page, as it was given",
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
        description="a world_build_id, or `active` for the active build",
    )


class SystemPath(BuildPath):
    """Path parameters naming one system of a build."""

    system_id: str = Field(
        pattern=SYSTEM_ID_PATTERN, description="`sol`, `hip-70890`, `nasa-trappist-1`"
    )


class ComparisonListQuery(PageQuery):
    """Query of `GET /builds/{build_ref}/comparisons`."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=100)


class ComparisonPath(BaseModel):
    """Path parameters naming a comparison: the build before and the build after."""

    model_config = ConfigDict(defer_build=True)

    old_id: str = Field(
        pattern=BUILD_ID_PATTERN, description="the world_build_id compared from"
    )
    new_id: str = Field(
        pattern=BUILD_ID_PATTERN, description="the world_build_id compared to"
    )


class _ParameterError(ValueError):
    """A cross-field check that names the parameter at fault."""

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        super().__init__(message)


# Responses. `extra="allow"` keeps them open: new fields are not breaking changes.


class Response(BaseModel):
    """Base of the response models."""

    # Only the OpenAPI document builds these; requests never do.
    model_config = ConfigDict(extra="allow", defer_build=True)


class ErrorDetail(Response):
    """One bad parameter."""

    parameter: str | None
    message: str


class ErrorBody(Response):
    """What every error carries."""

    code: str
    message: str
    parameter: str | None = None
    details: list[ErrorDetail] | None = None


class Error(Response):
    """The one error shape of the API."""

    error: ErrorBody


class Health(Response):
    """Liveness and the active build."""

    status: Literal["ok"]
    stage: str
    active_build_id: str | None


class Build(Response):
    """One world build's record."""

    build_id: str
    state: Literal["pending", "running", "validated", "published", "failed"]
    created_at: str
    pipeline_version: str
    model_version: str
    settings: dict[str, Any]
    sources: list[Any]
    counts: dict[str, Any]
    artifacts: dict[str, Any]
    error: str | None


class Page(Response):
    """A page of a list; a null `next_cursor` ends it, and a page may be short."""

    next_cursor: str | None


class BuildPage(Page):
    """A page of builds, newest first."""

    items: list[Build]


class FieldProvenance(Response):
    """Which source gave a field's value, and by which rule.

    Sources: a build's source roles (`hip_main`, `hip2`, `sscore_nearest`,
    `sscore_brightest`, `d3_names`, `pscomppars_<year>`), `derived` (computed
    from other fields), `inference` (the planet model), `solar_system`.
    """

    source: str
    rule: str


class Planet(Response):
    """One planet: known (catalogued) or inferred (modelled, with its model)."""

    name: str
    known: bool
    inferred: bool
    in_hz: bool | None = None
    period_days: float | None = None
    semi_major_axis_au: float | None = None
    eccentricity: float | None = None
    mass_earth: float | None = None
    radius_earth: float | None = None
    source: str | None = None
    provenance: dict[str, FieldProvenance] | None = Field(
        default=None, description="per field: the source and rule that gave it"
    )


class System(Response):
    """One star system with its planets."""

    build_id: str
    system_id: str
    name: str
    names: list[str]
    source: str
    ra_deg: float | None = None
    dec_deg: float | None = None
    parallax_mas: float | None = None
    parallax_over_error: float | None = None
    dist_pc: float | None = None
    x_pc: float | None = None
    y_pc: float | None = None
    z_pc: float | None = None
    vmag: float | None = None
    abs_vmag: float | None = None
    bv: float | None = None
    spectral_type: str | None = None
    rv_kms: float | None = None
    teff_k: float | None = None
    luminosity_lsun: float | None = None
    hip: int | None = None
    hd: int | None = None
    planets: list[Planet]
    provenance: dict[str, FieldProvenance] | None = Field(
        default=None,
        description="per field: the source and rule that gave it (`planets`: the "
        "exoplanet table and the cross-match method that attached them)",
    )


class SystemSummary(Response):
    """A system in a list: where it is and what it is called."""

    system_id: str
    name: str
    x_pc: float | None
    y_pc: float | None
    z_pc: float | None
    distance_pc: float | None = Field(
        None, description="from the query's centre (near queries only)"
    )


class SystemPage(Page):
    """A page of systems."""

    items: list[SystemSummary]


class PlanetPage(Page):
    """A page of one system's planets."""

    system_id: str
    items: list[Planet]


class SearchHit(Response):
    """A system found by one of its names."""

    system_id: str
    name: str
    matched_name: str


class SearchPage(Page):
    """A page of search hits: exact matches first, then by name; each system once."""

    items: list[SearchHit]


class ComparisonSummary(Response):
    """One stored comparison of two builds, and where its report is."""

    old_id: str
    new_id: str
    side: Literal["old", "new"] = Field(
        description="which side of the comparison the listed build is on"
    )
    report: str = Field(description="the path of the report, under this API")


class ComparisonPage(Page):
    """A page of a build's comparisons, by old_id then new_id."""

    items: list[ComparisonSummary]


class ComparisonReport(Response):
    """A build comparison report as the pipeline stored it (`batch_jobs.compare`).

    Stars and planets added, removed and changed beyond tolerances, with samples,
    and shifts of the distance, temperature and planets-per-system distributions.
    """

    format: str
    old_id: str
    new_id: str
    counts: dict[str, Any]
    stars: dict[str, Any]
    planets: dict[str, Any]


class QualityReport(Response):
    """A build's quality report: what the pipeline counted, kept and dropped."""

    build_id: str
    report: dict[str, Any] = Field(
        description="the report as the pipeline stored it: one entry per check"
    )


class OpenApiDocument(Response):
    """The OpenAPI 3.1 document itself."""

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


RESPONSE_MODELS: tuple[type[BaseModel], ...] = (
    Error,
    Health,
    Build,
    BuildPage,
    System,
    SystemPage,
    PlanetPage,
    SearchPage,
    ComparisonPage,
    ComparisonReport,
    QualityReport,
    OpenApiDocument,
)
