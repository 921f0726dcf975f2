"""Launchers: where a queued job's runner starts, behind one small interface.

Locally the runner is the batch image's entrypoint (`python -m batch_jobs`) as a
detached subprocess, several at once; in the cloud it is an AWS Batch job of the
same image. Either way the runner is told only the job id: the record holds the
parameters, and the runner claims, heartbeats and finishes it.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import botocore.exceptions

from chalicelib.errors import ServiceUnavailable
from chalicelib.models import JobRecord
from chalicelib.settings import REPO_ROOT, Settings, get_settings

logger = logging.getLogger(__name__)

# The entrypoint command that runs each job type (`python -m batch_jobs ...`).
ENTRYPOINT_COMMANDS = {
    "build": "build",
    "site": "site",
    "comparison": "compare",
    "backup": "backup",
    "restore": "restore",
    "simulation": "sim",
}
# The environment variable that tells each worker of an array job its index;
# AWS Batch sets it, and the local launcher sets it the same way.
ARRAY_INDEX_VAR = "AWS_BATCH_JOB_ARRAY_INDEX"
MAX_ARRAY_SIZE = 10_000  # AWS Batch's limit on arrayProperties.size


class LaunchFailed(ServiceUnavailable):
    """A launcher could not start (or stop) a runner; the job records why."""

    code = "launch_failed"


@dataclass(frozen=True)
class Launch:
    """Where a runner was started, how to read its log, how long it may take."""

    launcher: str
    runner_id: str
    log_uri: str | None
    start_timeout_s: float


class Launcher(Protocol):
    """Starts and stops runners of job records."""

    name: str

    def launch(self, job: JobRecord) -> Launch:
        """Start a runner for `job` (queued); LaunchFailed when it cannot."""
        ...

    def cancel(self, job: JobRecord) -> bool:
        """Stop the runner of `job` if this launcher can; True when it signalled."""
        ...


def entrypoint_args(job: JobRecord) -> list[str]:
    """The entrypoint arguments that run `job`: `<command> --job-id <id>`.

    A simulation runs as `sim run <id>` (its run id is its job id), or as
    `sim sweep --job-id <id>` for an array job; a backup with `drill` set runs
    the restore drill.
    """
    command = ENTRYPOINT_COMMANDS.get(job.job_type)
    if command is None:
        raise LaunchFailed(
            f"no runner exists for {job.job_type} jobs; runnable types: "
            f"{', '.join(sorted(ENTRYPOINT_COMMANDS))}"
        )
    params = json.loads(job.params_json or "{}")
    if job.job_type == "simulation":
        if array_size(job) > 1:
            return ["sim", "sweep", "--job-id", job.job_id]
        return ["sim", "run", job.job_id]
    if job.job_type == "backup" and params.get("drill"):
        command = "drill"
    return [command, "--job-id", job.job_id]


def array_size(job: JobRecord) -> int:
    """How many workers the job runs on: a simulation sweep's length, else 1."""
    sweep = json.loads(job.params_json or "{}").get("sweep")
    if job.job_type != "simulation" or not isinstance(sweep, list):
        return 1
    size = len(sweep)
    if size > MAX_ARRAY_SIZE:
        raise LaunchFailed(
            f"job {job.job_id} sweeps {size} parameter sets; at most "
            f"{MAX_ARRAY_SIZE} fit one array job"
        )
    return size


class LocalLauncher:
    """Runs each job as a detached `python -m batch_jobs` subprocess."""

    name = "local"

    def __init__(
        self,
        log_dir: Path,
        *,
        program: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path = REPO_ROOT,
        start_timeout_s: float = 120.0,
    ) -> None:
        self.log_dir = Path(log_dir).absolute()
        self.program = list(program or [sys.executable, "-m", "batch_jobs"])
        self.env = dict(env or {})
        self.cwd = cwd
        self.start_timeout_s = start_timeout_s
        self._children: dict[int, subprocess.Popen] = {}

    def launch(self, job: JobRecord) -> Launch:
        """Start the runner in its own session, its output in a log file.

        An array job starts one runner per index, each told its index through
        AWS_BATCH_JOB_ARRAY_INDEX as AWS Batch would; the runner id lists the pids.
        """
        self.log_dir.mkdir(parents=True, exist_ok=True)
        command = [*self.program, *entrypoint_args(job)]
        size = array_size(job)
        pids = []
        base = f"{job.job_id}.attempt{int(job.attempts)}"
        for index in range(size):
            extra = {ARRAY_INDEX_VAR: str(index)} if size > 1 else {}
            name = f"{base}.{index}.log" if size > 1 else f"{base}.log"
            pids.append(self._start(job, command, self.log_dir / name, extra))
        log_uri = self.log_dir / (f"{base}.0.log" if size > 1 else f"{base}.log")
        logger.info("job %s runs as pid(s) %s", job.job_id, pids)
        runner_id = ",".join(str(pid) for pid in pids)
        return Launch(self.name, runner_id, log_uri.as_uri(), self.start_timeout_s)

    def _start(
        self, job: JobRecord, command: list[str], log_path: Path, extra: dict
    ) -> int:
        env = {**os.environ, **self.env, **extra, "LB_JOB_ID": job.job_id}
        try:
            with log_path.open("ab") as log:
                proc = subprocess.Popen(
                    command,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=self.cwd,
                    env=env,
                    start_new_session=True,
                )
        except OSError as err:
            raise LaunchFailed(f"could not run {command[0]}: {err}") from err
        self._children[proc.pid] = proc
        return proc.pid

    def cancel(self, job: JobRecord) -> bool:
        """SIGTERM each runner's process group, if that pid still runs this job."""
        pids = (job.runner_id or "").split(",")
        signalled = False
        for pid in (int(p) for p in pids if p.isdigit()):
            if not _runs_job(pid, job.job_id):
                continue  # gone, or the pid now belongs to something else
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            signalled = True
        return signalled

    def poll(self) -> dict[int, int]:
        """Collect the runners that ended (so none lingers as a zombie): pid -> code."""
        ended = {}
        for pid, proc in list(self._children.items()):
            code = proc.poll()
            if code is not None:
                ended[pid] = code
                del self._children[pid]
        return ended

    def running(self) -> list[int]:
        """Pids of the runners this launcher started that have not ended."""
        self.poll()
        return sorted(self._children)


def _runs_job(pid: int, job_id: str) -> bool:
    """Whether process `pid` is a runner of `job_id` (read from its environment)."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"LB_JOB_ID={job_id}".encode() in environ.split(b"\0")


class BatchLauncher:
    """Submits each job to AWS Batch: one job definition per job type."""

    name = "batch"

    def __init__(
        self,
        client,
        *,
        job_queue: str,
        definition_prefix: str,
        region: str,
        start_timeout_s: float = 1800.0,
    ) -> None:
        self.client = client
        self.job_queue = job_queue
        self.definition_prefix = definition_prefix
        self.region = region
        self.start_timeout_s = start_timeout_s

    def submit_request(self, job: JobRecord) -> dict:
        """The `submit_job` arguments; an array job when the params hold a sweep."""
        size = array_size(job)
        request = {
            "jobName": job.job_id,
            "jobQueue": self.job_queue,
            "jobDefinition": f"{self.definition_prefix}-{job.job_type}",
            "containerOverrides": {
                "command": entrypoint_args(job),
                "environment": [{"name": "LB_JOB_ID", "value": job.job_id}],
            },
            "tags": {
                "localbubble:job-id": job.job_id,
                "localbubble:type": job.job_type,
            },
            "propagateTags": True,
        }
        if size > 1:
            request["arrayProperties"] = {"size": size}
        return request

    def launch(self, job: JobRecord) -> Launch:
        """Submit the job to the queue (as an array job when it sweeps)."""
        request = self.submit_request(job)
        try:
            reply = self.client.submit_job(**request)
        except botocore.exceptions.ClientError as err:
            code = err.response.get("Error", {}).get("Code", "error")
            raise LaunchFailed(
                f"AWS Batch refused job {job.job_id} ({code}): {err}; check that job "
                f"queue {self.job_queue!r} and job definition "
                f"{request['jobDefinition']!r} exist"
            ) from err
        batch_id = reply["jobId"]
        log_uri = (
            f"https://{self.region}.console.aws.amazon.com/batch/home"
            f"?region={self.region}#jobs/detail/{batch_id}"
        )
        logger.info("job %s submitted to AWS Batch as %s", job.job_id, batch_id)
        return Launch(self.name, batch_id, log_uri, self.start_timeout_s)

    def cancel(self, job: JobRecord) -> bool:
        """Terminate the Batch job (queued or running) of `job`."""
        if not job.runner_id:
            return False
        try:
            self.client.terminate_job(
                jobId=job.runner_id, reason=f"job {job.job_id} cancelled"
            )
        except botocore.exceptions.ClientError as err:
            raise LaunchFailed(
                f"AWS Batch could not terminate {job.runner_id}: {err}"
            ) from err
        return True


def launcher_for(settings: Settings, env: Mapping[str, str] | None = None) -> Launcher:
    """The stage's launcher: subprocesses locally, AWS Batch in the cloud."""
    env = os.environ if env is None else env
    if settings.stage == "local":
        log_dir = env.get("LB_JOB_LOG_DIR") or str(REPO_ROOT / ".local" / "job-logs")
        return LocalLauncher(Path(log_dir))
    import boto3

    return BatchLauncher(
        boto3.client("batch", region_name=settings.region),
        job_queue=env.get("LB_BATCH_JOB_QUEUE", f"localbubble-{settings.stage}-jobs"),
        definition_prefix=env.get(
            "LB_BATCH_DEFINITION_PREFIX", f"localbubble-{settings.stage}"
        ),
        region=settings.region,
    )


_chosen: list[Launcher] = []


def use(launcher: Launcher | None) -> None:
    """Make `launcher` the process's default (None goes back to the stage's)."""
    _chosen.clear()
    if launcher is not None:
        _chosen.append(launcher)


def default_launcher() -> Launcher:
    """The launcher trigger handlers use: the one set by `use`, else the stage's."""
    if _chosen:
        return _chosen[0]
    return _stage_launcher()


@functools.lru_cache(maxsize=1)
def _stage_launcher() -> Launcher:
    return launcher_for(get_settings())
