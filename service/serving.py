"""`procmatch serve --workers N` (N > 1, Linux): N uvicorn workers, each listening on a socket of
its own bound to the same port (SO_REUSEPORT), so the kernel spreads new connections evenly.

uvicorn's own workers share one listening socket, and whichever wakes first accepts every
connection waiting: under a burst of keep-alive connections (a proxy's, or wrk's 64) one worker
got 40–44 and the other 20–24 in every run, and the busier one's requests waited about twice as
long. With a socket per worker the split was 25/39 at worst, and the booking race's p99 at 64
connections went from a median of 259 ms (188–400 in six runs) to 154 ms (130–389 in seven,
alternating with those), at a higher rate (bench/booking_race.py).

The supervisor (this process) refuses a port something already listens on (SO_REUSEPORT would
let a second server join the first), starts the workers, starts another in place of one that
exits after it listened, gives up (exit status 1) when one exits without ever listening (a
broken configuration, a port taken meanwhile: trying again would fail again), and on SIGTERM or
SIGINT stops them all with SIGTERM (uvicorn's graceful shutdown), killing what is left after
30 s. A worker is sent SIGTERM by the kernel when its supervisor dies. Unlike uvicorn's
supervisor it does not ping its workers.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from typing import Any

SPREADS = sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")
STARTUP_FAILED = 3  # uvicorn's own exit status for an app that did not start
STOP_SECONDS = 30.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h

log = logging.getLogger("service.serving")


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing listens on `host:port`: a bind without SO_REUSEPORT fails when anything
    does, another `serve --workers` included (whose sockets would otherwise let ours join them, and
    the kernel would split the traffic between the two servers)."""
    with _socket(host) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _socket(host: str) -> socket.socket:
    return socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)


def bound_socket(host: str, port: int) -> socket.socket:
    """A socket of this worker's own on `host:port`, shared with the other workers' through
    SO_REUSEPORT (the kernel hashes each new connection to one of the sockets listening).

    Bound, not listening: uvicorn listens once the app has started. A socket listening while its
    worker still imports the app would be handed its share of new connections, and they would
    wait seconds (a worker restarting, a second worker starting after the first)."""
    sock = _socket(host)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _die_with(supervisor: int) -> None:
    """Have the kernel send this worker SIGTERM when its supervisor dies (killed, out of memory),
    so no orphan keeps serving old code beside a restarted service."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor:  # it died before the request was made
        sys.exit(0)


def worker(options: dict[str, Any], supervisor: int, started: Event) -> None:
    """One worker process: uvicorn on its own socket (`options` as for `uvicorn.Config`). Sets
    `started` once it listens; exits with `STARTUP_FAILED` when it never did."""
    import uvicorn

    class Server(uvicorn.Server):
        listening = False

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            # uvloop drops a failed listen() silently (another program may have taken the port
            # while this worker started): ask the socket itself
            self.listening = self.started and all(
                s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) for s in sockets or []
            )
            if self.listening:
                log.info("worker %s listening on %s:%s", os.getpid(), self.config.host, self.config.port)
                started.set()
            elif self.started:
                log.error("worker %s could not listen on %s:%s", os.getpid(), self.config.host, self.config.port)
                self.should_exit = True  # the app is shut down as usual

    _die_with(supervisor)
    config = uvicorn.Config(**options)
    server = Server(config)
    try:
        server.run(sockets=[bound_socket(config.host, config.port)])
    except OSError as exc:
        log.error("worker %s could not bind %s:%s: %s", os.getpid(), config.host, config.port, exc)
    if not server.listening:
        sys.exit(STARTUP_FAILED)


class Workers:
    def __init__(self, options: dict[str, Any], count: int) -> None:
        self.options = options
        self.context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing inherited half-made
        self.processes: list[tuple[BaseProcess, Event]] = []
        self.count = count
        self.stopping = False

    def start_one(self) -> None:
        started = self.context.Event()
        process = self.context.Process(
            target=worker, args=(self.options, os.getpid(), started), name="procmatch-worker"
        )
        self.processes.append((process, started))  # tracked before it runs: stop() sees it
        process.start()

    def watch(self) -> int:
        """Keep `count` workers running until asked to stop; the exit status for the supervisor."""
        for _ in range(self.count):
            self.start_one()
        while not self.stopping:
            time.sleep(0.5)
            for process, started in list(self.processes):
                if process.is_alive() or process.exitcode is None or self.stopping:
                    continue
                if not started.is_set():  # it never served: starting another would fail the same way
                    log.error("worker %s did not start (exit status %s)", process.pid, process.exitcode)
                    return 1
                log.warning("worker %s exited (status %s); starting another", process.pid, process.exitcode)
                self.processes.remove((process, started))
                self.start_one()
        return 0

    def stop(self) -> None:
        for process, _ in self.processes:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for process, _ in self.processes:
            if process.pid is None:
                continue  # never started
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def run_workers(options: dict[str, Any], count: int) -> int:
    """Serve with `count` workers until SIGTERM or SIGINT; the exit status (1: the port is taken,
    or a worker could not start)."""
    if not port_is_free(options.get("host", "127.0.0.1"), options["port"]):
        log.error("%s:%s is in use", options.get("host", "127.0.0.1"), options["port"])
        return 1
    workers = Workers(options, count)

    def ask_to_stop(signum: int, frame: Any) -> None:
        workers.stopping = True

    previous = {sig: signal.signal(sig, ask_to_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return workers.watch()
    finally:
        workers.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
