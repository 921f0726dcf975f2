"""The runner's side of a job record: claim it, heartbeat, report progress, finish.

A background thread writes a heartbeat every `heartbeat_s` seconds. When a
heartbeat finds the record moved on (an operator cancelled the job, or the
reaper failed it after missed heartbeats) the runner stops at once: two runners
never work one attempt, and a late runner never overwrites the record.
"""

from __future__ import annotations

import cProfile
import json
import logging
import os
import signal
import threading
from types import TracebackType

from pydantic import ValidationError

from batch_jobs import profiling
from chalicelib import jobs
from chalicelib.errors import BadRequest, ConfigurationError, NotFound, SourceError
from chalicelib.models import JobRecord
from chalicelib.settings import get_settings
from chalicelib.storage import ObjectStore

logger = logging.getLogger(__name__)
# Failures that a retry would only repeat: bad sources, a wrong image, bad
# parameters, a build or backup that is not there. Anything else (a crash, a
# database that did not answer) may pass, so it is retried after a back-off.
BAD_INPUT = (SourceError, ConfigurationError, BadRequest, NotFound, ValidationError)


def retryable(exc: BaseException) -> bool:
    """Whether an attempt that ended with `exc` is worth an automatic retry.

    An exception may also say so itself with a `retryable` attribute (a broken
    simulation invariant is deterministic: a retry would only repeat it).
    """
    return not isinstance(exc, BAD_INPUT) and getattr(exc, "retryable", True)


def _interrupt_main() -> None:
    """Raise KeyboardInterrupt in the main thread, even inside a blocking call."""
    # A real SIGINT wakes a sleep or a socket wait; interrupt_main alone would
    # wait for the blocking call to return.
    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)


class JobTerminated(BaseException):
    """The runner was told to stop (SIGTERM: a cancel, or AWS Batch ending it)."""


class JobRun:
    """One attempt of one job, run in this process; use it as a context manager."""

    def __init__(
        self,
        job: JobRecord,
        heartbeat_s: float,
        shard: tuple[int, int] | None = None,
        profile: bool | None = None,
    ) -> None:
        self.job = job
        self.heartbeat_s = heartbeat_s
        # (index, size) for one worker of an array job, else None.
        self.shard = shard
        # None: the job's `profile` parameter or LB_PROFILE_JOBS decide. False
        # for a run nested in a profiled attempt (one profiler per thread).
        self.profile = profile
        # An array worker's own progress, last reported (see `report`).
        self._reported = 0.0
        self.lost: jobs.JobLost | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._finished = False
        self._profiler: cProfile.Profile | None = None

    @classmethod
    def claim(
        cls, job_id: str, heartbeat_s: float | None = None, profile: bool | None = None
    ) -> JobRun:
        """Take a queued job (launched for this process) and start its attempt."""
        interval = heartbeat_s or jobs.heartbeat_interval()
        # In AWS Batch the runner names itself; locally the launcher named the pid.
        runner_id = os.environ.get("AWS_BATCH_JOB_ID")
        job = jobs.claim(job_id, heartbeat_s=interval, runner_id=runner_id)
        return cls(job, interval, profile=profile)

    @classmethod
    def claim_shard(
        cls, job_id: str, index: int, size: int, heartbeat_s: float | None = None
    ) -> JobRun:
        """Join an array job's attempt as worker `index` of `size`."""
        interval = heartbeat_s or jobs.heartbeat_interval()
        runner_id = os.environ.get("AWS_BATCH_JOB_ID")
        job = jobs.claim_shard(
            job_id, index, size, heartbeat_s=interval, runner_id=runner_id
        )
        return cls(job, interval, shard=(index, size))

    @classmethod
    def direct(
        cls, job_type: str, params: dict, heartbeat_s: float | None = None
    ) -> JobRun:
        """Record and start a job run from the command line, with no launcher."""
        interval = heartbeat_s or jobs.heartbeat_interval()
        return cls(jobs.start_job(job_type, params, heartbeat_s=interval), interval)

    @property
    def params(self) -> dict:
        """The job's parameters."""
        return jobs.params(self.job)

    def __enter__(self) -> JobRun:
        self._thread = threading.Thread(
            target=self._beat, name=f"heartbeat-{self.job.job_id}", daemon=True
        )
        self._thread.start()
        wanted = profiling.wanted(self.params) if self.profile is None else self.profile
        if wanted:
            # Enabled here, so it sees this (main) thread and not the heartbeats.
            self._profiler = cProfile.Profile()
            self._profiler.enable()
        return self

    def _store_profile(self) -> None:
        """Stop the profiler, if on, and store the attempt's profile; never raise."""
        profiler, self._profiler = self._profiler, None
        if profiler is None:
            return
        profiler.disable()
        settings = get_settings()
        shard = None if self.shard is None else self.shard[0]
        key = profiling.profile_key(self.job.job_id, int(self.job.attempts), shard)
        try:
            ObjectStore(settings).put_once(
                settings.builds_bucket, key, profiling.report(profiler)
            )
            if shard is None:
                # An array job's workers share one record: their profiles sit
                # beside each other under the job's prefix instead.
                jobs.record_profile(self.job, f"s3://{settings.builds_bucket}/{key}")
        except Exception:
            # A profile helps; losing one must not fail the job it describes.
            logger.warning("profile of %s not stored", self.job.job_id, exc_info=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            with self._lock:
                if self._stop.is_set():
                    return
                try:
                    jobs.heartbeat(self.job)
                except jobs.JobLost as err:
                    self.lost = err
                    logger.warning("%s", err)
                    _interrupt_main()
                    return
                except Exception:
                    # The database may be back by the next beat; the reaper
                    # decides if it is not.
                    logger.warning("heartbeat of %s failed", self.job.job_id)

    def report(self, fraction: float, step: str) -> None:
        """Record progress (0 to 1) and the current step; JobLost if it moved on.

        The workers of an array job share one record, so each adds the change
        of its own progress over the number of workers: the record then holds
        the mean of the workers' progress, whatever order their writes land in.
        """
        with self._lock:
            if self.shard is None:
                jobs.heartbeat(self.job, progress=fraction, step=step)
            else:
                index, size = self.shard
                jobs.heartbeat(
                    self.job,
                    progress_delta=(fraction - self._reported) / size,
                    step=f"worker {index}: {step}",
                )
                self._reported = fraction
        logger.info("%s: %.0f%% %s", self.job.job_id, fraction * 100, step)

    def succeed(self, result: dict, result_uri: str | None = None) -> None:
        """Record the attempt succeeded with `result`."""
        self._halt()
        self._store_profile()
        with self._lock:
            if self.shard is not None:
                note = f"{self.shard[0]}: " + json.dumps(result, sort_keys=True)
                jobs.finish_shard(self.job, *self.shard, note)
            else:
                jobs.finish_job(self.job, result=result, result_uri=result_uri)
        self._finished = True

    def _fail(self, error: str, retryable: bool) -> None:
        if self.shard is not None:
            note = f"{self.shard[0]}: {error}"
            jobs.finish_shard(self.job, *self.shard, note, error=error)
        else:
            jobs.finish_job(self.job, error=error, retryable=retryable)

    def _halt(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        self._halt()
        if self._finished:
            return False
        self._store_profile()
        if self.lost is not None:
            raise self.lost from exc
        if exc is None:
            self.succeed({})
            return False
        if isinstance(exc, jobs.JobLost):
            return False
        if isinstance(exc, JobTerminated):
            error = "terminated by SIGTERM before it finished"
        else:
            error = f"{type(exc).__name__}: {exc}"
        try:
            self._fail(error, retryable(exc))
        except jobs.JobLost as lost:
            raise lost from exc
        return False
