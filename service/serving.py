"""`procmatch serve --workers N` (N > 1, Linux): N uvicorn workers, each listening on a socket of
its own bound to the same port (SO_REUSEPORT), so the kernel spreads new connections evenly.

uvicorn's own workers share one listening socket, and whichever wakes first accepts every
connection waiting: under a burst of keep-alive connections (a proxy's, or wrk's 64) one worker
got 40–44 and the other 20–24 in every run, and the busier one's requests waited about twice as
long. With a socket per worker the split was 25/39 at worst, and the booking race's p99 at 64
connections went from a median of 259 ms (188–400 in six runs) to 154 ms (130–389 in seven,
alternating with those), at a higher rate (bench/booking_race.py).

The supervisor (this process) starts the workers, starts another in place of one that exits
after it served a while, gives up (exit status 1) when one fails within its first seconds (a
port taken by another program, a broken configuration: trying again would fail again), and on
SIGTERM or SIGINT stops them all with SIGTERM (uvicorn's graceful shutdown), killing what is
left after 30 s. Unlike uvicorn's supervisor it does not ping its workers.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import time
from multiprocessing.process import BaseProcess
from typing import Any

SPREADS = sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")
STARTUP_SECONDS = 5.0  # a worker that exits sooner failed to start
STARTUP_FAILED = 3  # uvicorn's own exit status for an app that did not start
STOP_SECONDS = 30.0

log = logging.getLogger("service.serving")


def bound_socket(host: str, port: int) -> socket.socket:
    """A socket of this worker's own on `host:port`, shared with the other workers' through
    SO_REUSEPORT (the kernel hashes each new connection to one of the sockets listening).

    Bound, not listening: uvicorn listens once the app has started. A socket listening while its
    worker still imports the app would be handed its share of new connections, and they would
    wait seconds (a worker restarting, a second worker starting after the first)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def worker(options: dict[str, Any]) -> None:
    """One worker process: uvicorn on its own socket (`options` as for `uvicorn.Config`); exit
    status `STARTUP_FAILED` when the app did not start (uvicorn has logged why)."""
    import uvicorn

    config = uvicorn.Config(**options)
    server = uvicorn.Server(config)
    server.run(sockets=[bound_socket(config.host, config.port)])
    if not server.started:
        sys.exit(STARTUP_FAILED)


class Workers:
    def __init__(self, options: dict[str, Any], count: int) -> None:
        self.options = options
        self.context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing inherited half-made
        self.processes: list[tuple[BaseProcess, float]] = []
        self.count = count
        self.stopping = False

    def start_one(self) -> tuple[BaseProcess, float]:
        process = self.context.Process(target=worker, args=(self.options,), name="procmatch-worker")
        process.start()
        return process, time.monotonic()

    def watch(self) -> int:
        """Keep `count` workers running until asked to stop; the exit status for the supervisor."""
        self.processes = [self.start_one() for _ in range(self.count)]
        while not self.stopping:
            time.sleep(0.5)
            for index, (process, started) in enumerate(self.processes):
                if process.is_alive() or self.stopping:
                    continue
                if process.exitcode == STARTUP_FAILED or time.monotonic() - started < STARTUP_SECONDS:
                    log.error("worker %s failed to start (exit status %s)", process.pid, process.exitcode)
                    return 1
                log.warning("worker %s exited (status %s); starting another", process.pid, process.exitcode)
                self.processes[index] = self.start_one()
        return 0

    def stop(self) -> None:
        for process, _ in self.processes:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for process, _ in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def run_workers(options: dict[str, Any], count: int) -> int:
    """Serve with `count` workers until SIGTERM or SIGINT; the exit status."""
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
