"""Serve the API (`chalice local`) and the rendered site on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from chalicelib.settings import REPO_ROOT
from devenv.services import ServiceFailed, answers


def _start(command: list[str], cwd: Path, port: int, variable: str):
    if answers(port):
        raise ServiceFailed(
            f"port {port} is taken by another program; set {variable} to a free port"
        )
    return subprocess.Popen(command, cwd=cwd, start_new_session=True)


def _wait(port: int, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceFailed(f"{what} exited with {proc.returncode}")
        if answers(port):
            return
        time.sleep(0.2)
    raise ServiceFailed(f"{what} did not answer on 127.0.0.1:{port} within 60 s")


def start_api(port: int) -> subprocess.Popen:
    """`chalice local` for the local stage, without autoreload (it forks)."""
    chalice = Path(sys.executable).with_name("chalice")
    proc = _start(
        [str(chalice), "local", "--no-autoreload", "--stage", "local",
         "--host", "127.0.0.1", "--port", str(port)],
        REPO_ROOT, port, "LB_API_PORT",
    )  # fmt: skip
    _wait(port, proc, "chalice local")
    return proc


def start_site(port: int, site_dir: Path) -> subprocess.Popen:
    """A static file server for the rendered site (gzip copies sent as such)."""
    proc = _start(
        [sys.executable, "-m", "devenv.static_server", str(port),
         "--bind", "127.0.0.1", "--directory", str(site_dir)],
        REPO_ROOT, port, "LB_SITE_PORT",
    )  # fmt: skip
    _wait(port, proc, "the site server")
    return proc


def stop(proc: subprocess.Popen) -> None:
    """End a server started here and everything it spawned."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def serve(site_dir: Path, api_port: int, site_port: int) -> None:
    """Run both servers until interrupted, printing where they answer."""
    # A terminated `make demo` must not leave the servers behind.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    api = start_api(api_port)
    try:
        site = start_site(site_port, site_dir)
    except ServiceFailed:
        stop(api)
        raise
    print(f"API:  http://127.0.0.1:{api_port}/health")
    print(f"Site: http://127.0.0.1:{site_port}/")
    print(f"Status: http://127.0.0.1:{site_port}/status.html")
    print("Ctrl-C stops both.", flush=True)
    try:
        while api.poll() is None and site.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop(site)
        stop(api)
