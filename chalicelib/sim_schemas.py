"""Pydantic models of the simulation routes' inputs and outputs.

Kept apart from `chalicelib.schemas` (the world's routes) and built on its
bases, so the same rules hold: query models refuse unknown parameters, response
models stay open, and `chalicelib.openapi` documents both.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from chalicelib.schemas import Page, PageQuery, Query, Response

MAX_SIM_LIMIT = 100  # chalicelib.simulations.MAX_LIMIT
MAX_TICK = 1_000_000  # batch_jobs.simulation.MAX_TICKS
RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
# A Julian date, or an ISO date or date-time (UTC unless an offset is given).
EPOCH_PATTERN = (
    r"^([0-9]{1,7}(\.[0-9]{1,9})?"
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?)$"
)


def _ascii_whole_number(value: Any) -> Any:
    """Refuse anything but ASCII digits (int() would take '٣' and ' 3 ')."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError(f"must be a whole number, got {value[:40]!r}")
    return value


TickNumber = Annotated[
    int,
    BeforeValidator(_ascii_whole_number),
    Field(ge=1, le=MAX_TICK),
    WithJsonSchema(
        {"type": "integer", "minimum": 1, "maximum": MAX_TICK, "examples": [20]}
    ),
]


class OrbitsQuery(Query):
    """Query of `GET /builds/{build_ref}/systems/{system_id}/orbits`."""

    epoch: str = Field(
        max_length=40,
        pattern=EPOCH_PATTERN,
        description=(
            "when: a Julian date (2451545.0) or an ISO date or date-time "
            "(2026-07-01, 2026-07-01T12:00:00Z), years 1 to 9999"
        ),
        examples=["2451545.0", "2026-07-01"],
    )


class SimPageQuery(PageQuery):
    """A page of a simulation list."""

    limit: int = Field(
        50, ge=1, le=MAX_SIM_LIMIT, description="items per page, at most"
    )


class RunPath(BaseModel):
    """Path parameters naming a simulation run."""

    model_config = ConfigDict(defer_build=True)

    run_id: str = Field(
        pattern=RUN_ID_PATTERN, description="the run's id (its job's id)"
    )


class TickPath(RunPath):
    """Path parameters naming one tick of a run."""

    tick: TickNumber = Field(description="a tick the run has recorded (from 2)")


# Responses.


class PlanetPosition(Response):
    """One planet's position at the epoch; null where an element is unknown."""

    name: str
    x_au: float | None
    y_au: float | None
    z_au: float | None
    assumed: list[str] | None = Field(
        None, description="elements the catalogue lacks, given assumed values"
    )
    unknown: list[str] | None = Field(
        None, description="elements missing, so no position is given"
    )


class Orbits(Response):
    """A system's planet positions at an epoch, in AU in the host's frame."""

    build_id: str
    system_id: str
    epoch_jd: float
    frame: str
    assumptions: str
    planets: list[PlanetPosition]


class Encounter(Response):
    """A star's closest approach to the Sun under linear motion."""

    rank: int
    system_id: str
    name: str
    t_min_yr: float = Field(description="years from the build's epoch; < 0 is past")
    d_min_pc: float
    dist_now_pc: float
    rv_kms: float
    speed_kms: float


class EncounterPage(Page):
    """A page of closest approaches to the Sun, nearest first."""

    build_id: str
    items: list[Encounter]


class PairEncounter(Response):
    """Two stars' closest approach to each other within the job's horizon."""

    rank: int
    system_id_a: str
    name_a: str
    system_id_b: str
    name_b: str
    t_min_yr: float = Field(description="years from the build's epoch; < 0 is past")
    d_min_pc: float
    separation_now_pc: float
    relative_speed_kms: float


class PairEncounterPage(Page):
    """A page of close approaches between pairs of stars, nearest first."""

    build_id: str
    items: list[PairEncounter]


RunState = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class SimRun(Response):
    """A simulation run: inputs, progress, summary and health."""

    run_id: str
    build_id: str
    ruleset_version: str
    seed: int
    backend: str
    params: dict[str, Any]
    state: RunState
    ticks: int
    snapshot_every: int
    last_tick: int
    last_snapshot_tick: int | None
    attempts: int
    created_at: str
    updated_at: str
    world: dict[str, Any] | None
    summary: dict[str, Any] | None
    health: dict[str, Any] | None
    shadow: dict[str, Any] | None
    profile_key: str | None
    error: str | None


class SimRunPage(Page):
    """A page of runs, newest first."""

    items: list[SimRun]


class SimTick(Response):
    """One tick's counts and health."""

    run_id: str
    tick: int
    time_yr: float
    wall_ms: float
    counts: dict[str, Any]
    invariants_ok: bool
    failures: list[str]
    shadow: dict[str, Any] | None
    snapshot_key: str | None


class Playback(Response):
    """What a client needs to play a finished run back (format playback-v1)."""

    format: Literal["playback-v1"]
    run_id: str
    build_id: str
    ruleset: str
    seed: int
    tick_years: float = Field(description="years per tick; tick t is at (t-1) ticks")
    n_ticks: int = Field(description="the run's last tick")
    settled_counts: list[int] = Field(description="settled systems per snapshot tick")
    snapshot_ticks: list[int]
    intervals: dict[str, list[list[float | None]]] = Field(
        description=(
            "per system id, its settled spans [start, end] in years from the run's "
            "start; end is null when the settlement outlived the run"
        )
    )


MAX_HEALTH_POINTS = 1000


class HealthQuery(Query):
    """How many points the series may hold at most."""

    points: int = Field(
        default=200, ge=2, le=MAX_HEALTH_POINTS, description="largest number of points"
    )


class TickPoint(Response):
    """One tick of the series."""

    tick: int
    time_yr: float
    wall_ms: float
    settled: int | None
    settleable: int | None
    in_flight: int | None
    invariants_ok: bool


class RunHealth(Response):
    """A run's state, its health totals and its ticks as a thinned series."""

    run_id: str
    state: str
    ticks: int
    last_tick: int
    totals: dict | None = Field(description="the run's health totals")
    ticks_recorded: int
    points: list[TickPoint]
