"""Pydantic models of the simulation routes' inputs.

Kept apart from `chalicelib.schemas` (the world's routes) and built on its
bases, so the same rules hold: query models refuse unknown parameters. Their
replies are described in `chalicelib.replies`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from chalicelib.schemas import PageQuery, Query

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
        raise ValueError(f"must be a whole number (digits only), got {value[:40]!r}")
    return value


FIRST_RECORDED_TICK = 2  # tick 1 is a run's starting state, never recorded
TickNumber = Annotated[
    int,
    BeforeValidator(_ascii_whole_number),
    Field(ge=FIRST_RECORDED_TICK, le=MAX_TICK),
    WithJsonSchema(
        {
            "type": "integer",
            "minimum": FIRST_RECORDED_TICK,
            "maximum": MAX_TICK,
            "examples": [20],
        }
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
        pattern=RUN_ID_PATTERN,
        description="the run's id (its job's id: letters, digits and `._-`)",
    )


class TickPath(RunPath):
    """Path parameters naming one tick of a run."""

    tick: TickNumber = Field(description="a tick the run has recorded (from 2)")


MAX_HEALTH_POINTS = 1000


class HealthQuery(Query):
    """How many points the series may hold at most."""

    points: int = Field(
        default=200, ge=2, le=MAX_HEALTH_POINTS, description="largest number of points"
    )
