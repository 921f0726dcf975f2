"""The shapes of the API's replies, for the OpenAPI document.

Requests are validated by `chalicelib.schemas` (and the simulation and operations
request models); replies are shaped by the routes, and these models only describe
them. So they are imported when the document is first built
(`chalicelib.openapi.document`), not with the app: a cold Lambda answering a
read pays for none of them. `extra="allow"` keeps replies open: a new field is
not a breaking change.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# The states of a job, a simulation run being one kind of job.
JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]


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
    evolutionary_class: (
        Literal["dwarf", "subgiant", "giant", "supergiant", "white-dwarf"] | None
    ) = Field(
        default=None,
        description="from the luminosity class of the spectral type, else from"
        " the absolute magnitude against the main sequence",
    )
    mass_msun: float | None = Field(
        default=None, description="dwarfs by the main sequence; white dwarfs 0.6"
    )
    radius_rsun: float | None = Field(
        default=None, description="from luminosity and Teff (Stefan-Boltzmann)"
    )
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


class SimRun(Response):
    """A simulation run: inputs, progress, summary and health."""

    run_id: str
    build_id: str
    ruleset_version: str
    seed: int
    backend: str
    params: dict[str, Any]
    state: JobState
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


class JobAttempt(Response):
    """One attempt of a job."""

    attempt: int
    state: JobState
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None


class JobView(Response):
    """A job with every attempt. Without an API key the answer leaves out the
    parameters, idempotency key, runner ids and log and result pointers."""

    job_id: str
    job_type: str
    state: JobState
    progress: float
    step: str | None = None
    attempts: int
    error: str | None = None
    result: dict[str, Any] | None = None
    history: list[JobAttempt]
    params: dict[str, Any] | None = Field(None, description="only with an API key")


class JobPage(Response):
    """A page of jobs, newest first."""

    jobs: list[JobView]
    next_cursor: str | None = None


class JobStarted(Response):
    """The job `POST /jobs` started, or the one its idempotency key names."""

    job: JobView
    created: bool


class Kpis(Response):
    """Start-up success rate, error rate and duration p50/p95 per job type."""

    by_type: dict[str, Any]


class OpsBuilds(Response):
    """The active build and the previous one."""

    active: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None
    switched_at: str | None = None
