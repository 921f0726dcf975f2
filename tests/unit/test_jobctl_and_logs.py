"""The jobs CLI's surface and the structured logs, without any server."""

from __future__ import annotations

import io
import json
import logging

import click
import pytest
from click.testing import CliRunner

from chalicelib import jobs, launchers, logs
from chalicelib.errors import ConfigurationError, LocalBubbleError, ServiceUnavailable
from jobctl.__main__ import _exit_code, _param, cli


def _command_paths(group: click.Group, path: list[str]) -> list[list[str]]:
    """Every command and group under `group`, as the words that name it."""
    found = [path]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _command_paths(command, [*path, name])
        else:
            found.append([*path, name])
    return found


# Read from the click group, so a new command is covered without a list to edit.
COMMANDS = _command_paths(cli, [])


pytestmark = pytest.mark.usefixtures("root_logging")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "jobctl")
def test_every_command_has_help(command):
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_the_help_test_covers_every_command_including_the_nested_ones():
    names = {" ".join(path) for path in COMMANDS}
    assert {"sim", "sim-sweep", "compare", "backup", "restore", "drill"} <= names
    assert {"rebuild-for-model", "api-key create", "emit model-release"} <= names


def test_the_main_help_documents_the_exit_codes():
    result = CliRunner().invoke(cli, ["--help"])
    for line in ("0  done", "3  the job is not in a state", "4  no such job"):
        assert line in result.output


def test_a_usage_error_exits_2():
    result = CliRunner().invoke(cli, ["start", "no-such-type"])
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (jobs.JobNotFound("x"), 4),
        (jobs.JobStateConflict("x"), 3),
        (jobs.JobLost("x"), 3),
        (jobs.UnknownJobType("x"), 2),
        (ConfigurationError("x"), 2),
        (launchers.LaunchFailed("x"), 5),
        (ServiceUnavailable("x"), 5),
        (LocalBubbleError("x"), 5),
    ],
)
def test_each_error_kind_has_its_documented_exit_code(error, code):
    assert _exit_code(error) == code


def test_params_are_json_or_else_strings():
    assert _param("shards=4") == ("shards", 4)
    assert _param("out=build/site") == ("out", "build/site")
    with pytest.raises(click.BadParameter):
        _param("no-equals-sign")


def test_logs_are_json_lines_with_the_bound_job_id():
    stream = io.StringIO()
    logs.configure("test-service", stream=stream)
    with logs.bound(job_id="build-1", request_id=None):
        logging.getLogger("chalicelib.jobs").info("job %s done", "build-1")
    logging.getLogger("chalicelib.jobs").info("after")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "job build-1 done"
    assert first["service"] == "test-service"
    assert first["logger"] == "chalicelib.jobs"
    assert first["job_id"] == "build-1"
    assert "request_id" not in first
    assert "job_id" not in second
