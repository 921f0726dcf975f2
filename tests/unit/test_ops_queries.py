"""The operations routes' queries: validated by their models, documented from them."""

from __future__ import annotations

from typing import get_args

import pytest

from chalicelib import jobs, openapi, ops_schemas, schemas
from chalicelib.api import parse_query
from chalicelib.errors import BadRequest


def test_job_type_and_state_enums_are_the_ones_jobs_run_with():
    assert get_args(ops_schemas.JobType) == jobs.JOB_TYPES
    assert get_args(ops_schemas.JobState) == jobs.STATES


def test_a_jobs_query_names_every_bad_and_unknown_parameter():
    given = {"type": "teleport", "state": "lost", "limit": "0", "colour": "red"}
    with pytest.raises(BadRequest) as raised:
        parse_query(ops_schemas.JobsQuery, given)
    named = [detail["parameter"] for detail in raised.value.details]
    assert named == ["type", "state", "limit", "colour"]
    assert "unknown query parameter" in raised.value.details[-1]["message"]


def test_a_jobs_query_has_defaults_and_takes_its_filters():
    query = parse_query(ops_schemas.JobsQuery, {"type": "site", "state": "failed"})
    assert (query.type, query.state, query.limit) == ("site", "failed", 50)
    assert parse_query(ops_schemas.JobsQuery, {}).cursor is None


@pytest.mark.parametrize("days", ["0", "367", "x", "7.5"])
def test_a_kpi_window_outside_1_to_366_whole_days_is_refused(days):
    with pytest.raises(BadRequest) as raised:
        parse_query(ops_schemas.KpisQuery, {"days": days})
    assert raised.value.parameter == "days"


def test_the_kpi_window_defaults_to_the_kpis_window():
    assert parse_query(ops_schemas.KpisQuery, {}).days == 30


def _operation(path: str) -> dict:
    from app import app  # noqa: F401  (importing registers every route)

    return openapi.document()["paths"][path]["get"]


def test_the_document_lists_job_types_and_states_from_the_query_model():
    parameters = {p["name"]: p for p in _operation("/jobs")["parameters"]}
    assert parameters["type"]["schema"]["enum"] == list(jobs.JOB_TYPES)
    assert parameters["state"]["schema"]["enum"] == list(jobs.STATES)
    assert parameters["limit"]["schema"]["maximum"] == ops_schemas.MAX_JOBS_PAGE
    assert set(parameters) == set(ops_schemas.JobsQuery.model_fields)


def test_the_document_describes_the_kpi_window_and_the_bare_ops_reads():
    kpi = _operation("/ops/kpis")["parameters"]
    assert [(p["name"], p["schema"]["maximum"]) for p in kpi] == [("days", 366)]
    assert _operation("/ops/builds")["parameters"] == []
    assert "400" in _operation("/ops/builds")["responses"]
    assert not schemas.EmptyQuery.model_fields
