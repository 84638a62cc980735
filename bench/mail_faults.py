"""Mail fault benchmark: the outbox under an SMTP outage, a SIGKILLed dispatcher, two dispatchers.

Scenarios (a real aiosmtpd server in this process, dispatchers in this process or in child
processes, one embedded PostgreSQL database):

1. outage — N messages due at once while the SMTP server is down for S seconds, then up:
   all N arrive, none twice.
2. sigkill — a child dispatcher is killed with SIGKILL mid-dispatch; a second one takes over
   after the lease: all N arrive; duplicates (same Message-ID) are at most the rows that were
   in flight (status `sending`) at the kill.
3. two_processes — two child dispatchers on one database: each message sent once.

Default: N=1000, outage 5 s. `--full`: outage 30 s (the issue's figure).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert

from service.config import Settings, load_settings
from service.db.embedded import socket_url, start_embedded
from service.db.engine import connect_raw, make_engine, make_sessionmaker
from service.db.migrate import upgrade
from service.lib.clock import now
from service.notify.dispatcher import DispatchPolicy, dispatch_due
from service.notify.models import OutboxMessage, OutboxStatus
from service.notify.service import render_mail

ROOT = Path(__file__).resolve().parents[1]
DB = "bench_mail_faults"
MESSAGE_ID = re.compile(rb"^Message-ID: (<[0-9a-f]+@procure-match>)", re.MULTILINE | re.IGNORECASE)
# Short backoff and lease so a run takes seconds, not hours; the logic is the production one.
POLICY = DispatchPolicy(backoff_base=timedelta(seconds=1), backoff_cap=timedelta(seconds=4), lease=timedelta(seconds=3))


class Counting:
    def __init__(self, delay: float = 0.0) -> None:
        self.ids: Counter[bytes] = Counter()
        self.delay = delay
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        match = MESSAGE_ID.search(bytes(envelope.content))
        with self.lock:
            self.ids[match.group(1) if match else b"?"] += 1
        return "250 OK"

    @property
    def unique(self) -> int:
        return len(self.ids)

    @property
    def duplicates(self) -> int:
        return sum(c - 1 for c in self.ids.values())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def smtp_settings(port: int, data_dir: Path) -> Settings:
    return load_settings(
        {
            "DATA_DIR": str(data_dir),
            "SECRET_KEY": "bench-secret-key-0123456789abcdef",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_SECURITY": "none",
            "SCHEDULER_ENABLED": "0",
        }
    )


async def reset(url: str, n: int) -> None:
    """Empty the outbox and queue n messages due now."""
    mail = render_mail(
        "organization_verified",
        "ko",
        {"user_name": "담당자", "organization_name": "은평구청", "reason": "", "base_url": "http://127.0.0.1:8000"},
    )
    engine = make_engine(url, pool_size=2)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("TRUNCATE outbox_messages"))
            moment = now()
            rows = [
                {
                    "id": uuid.uuid4(),
                    "dedupe_key": f"bench:{i}",
                    "recipient": f"user{i}@example.kr",
                    "locale": "ko",
                    "template": "organization_verified",
                    "subject": mail.subject,
                    "text": mail.text,
                    "html": mail.html,
                    "attachments": [],
                    "due_at": moment,
                    "status": OutboxStatus.QUEUED,
                }
                for i in range(n)
            ]
            for start in range(0, n, 500):
                await conn.execute(insert(OutboxMessage), rows[start : start + 500])
    finally:
        await engine.dispose()


async def status_counts(url: str) -> dict[str, int]:
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
            return {str(OutboxStatus(s).value): int(c) for s, c in result.all()}
    finally:
        await engine.dispose()


async def dispatch_until_done(url: str, settings: Settings, deadline: float) -> None:
    engine = make_engine(url, pool_size=3)
    sessionmaker = make_sessionmaker(engine)
    try:
        while time.monotonic() < deadline:
            result = await dispatch_due(sessionmaker, settings, POLICY)
            if result.claimed == 0:
                async with sessionmaker() as session:
                    left = await session.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.status.in_([OutboxStatus.QUEUED, OutboxStatus.SENDING]))
                    )
                if not left:
                    return
                await asyncio.sleep(0.3)
    finally:
        await engine.dispose()


def worker_main(url: str, port: int, seconds: float) -> None:
    settings = smtp_settings(port, Path(tempfile.mkdtemp(prefix="mail-bench-")))
    asyncio.run(dispatch_until_done(url, settings, time.monotonic() + seconds))


def spawn_worker(url: str, port: int, seconds: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 (our own interpreter and script)
        [sys.executable, str(Path(__file__).resolve()), "--worker", url, str(port), str(seconds)],
        cwd=ROOT,
    )


def baseline(url: str, n: int) -> dict[str, Any]:
    """No fault: one in-process dispatcher delivers n messages to a healthy server."""
    asyncio.run(reset(url, n))
    port = free_port()
    inbox = Counting()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings = smtp_settings(port, Path(tempfile.mkdtemp(prefix="mail-bench-")))
    started = time.monotonic()
    try:
        asyncio.run(dispatch_until_done(url, settings, started + 120))
    finally:
        controller.stop()
    elapsed = time.monotonic() - started
    print(f"baseline: {n} messages, no fault: {inbox.unique} arrived, {inbox.duplicates} twice, {elapsed:.1f} s")
    return {"baseline_arrived": inbox.unique, "baseline_s": round(elapsed, 2)}


def outage(url: str, n: int, down_seconds: float) -> dict[str, Any]:
    asyncio.run(reset(url, n))
    port = free_port()
    inbox = Counting()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    settings = smtp_settings(port, Path(tempfile.mkdtemp(prefix="mail-bench-")))
    timer = threading.Timer(down_seconds, controller.start)  # the server comes back after the outage
    started = time.monotonic()
    timer.start()
    try:
        asyncio.run(dispatch_until_done(url, settings, started + down_seconds + 120))
    finally:
        timer.cancel()
        controller.stop()
    elapsed = time.monotonic() - started
    counts = asyncio.run(status_counts(url))
    print(
        f"outage: {n} messages, SMTP down {down_seconds:.0f} s: {inbox.unique} arrived, "
        f"{inbox.duplicates} twice, all delivered {elapsed - down_seconds:.1f} s after recovery; rows {counts}"
    )
    return {
        "outage_messages": n,
        "outage_arrived": inbox.unique,
        "outage_duplicates": inbox.duplicates,
        "outage_catchup_s": round(elapsed - down_seconds, 2),
    }


def sigkill(url: str, n: int) -> dict[str, Any]:
    asyncio.run(reset(url, n))
    port = free_port()
    inbox = Counting(delay=0.005)  # a slowish server, so the kill lands mid-dispatch
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        victim = spawn_worker(url, port, 120)
        wait_until = time.monotonic() + 60
        # Kill a quarter of the way in, off a batch boundary (batches of 50), so rows are in flight.
        while inbox.unique < n // 4 + 17 and time.monotonic() < wait_until:
            time.sleep(0.01)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        at_kill = asyncio.run(status_counts(url))
        in_flight = at_kill.get("sending", 0)
        arrived_before = inbox.unique
        survivor = spawn_worker(url, port, 120)
        survivor.wait(timeout=180)
    finally:
        controller.stop()
    counts = asyncio.run(status_counts(url))
    print(
        f"sigkill: {n} messages; killed after {arrived_before} arrived with {in_flight} in flight; "
        f"after restart {inbox.unique} arrived, {inbox.duplicates} duplicate Message-IDs; rows {counts}"
    )
    return {
        "sigkill_messages": n,
        "sigkill_in_flight": in_flight,
        "sigkill_arrived": inbox.unique,
        "sigkill_duplicates": inbox.duplicates,
    }


def two_processes(url: str, n: int) -> dict[str, Any]:
    asyncio.run(reset(url, n))
    port = free_port()
    inbox = Counting()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    started = time.monotonic()
    try:
        workers = [spawn_worker(url, port, 120) for _ in range(2)]
        for worker in workers:
            worker.wait(timeout=180)
    finally:
        controller.stop()
    elapsed = time.monotonic() - started
    print(f"two processes: {n} messages, {inbox.unique} arrived, {inbox.duplicates} twice, {elapsed:.1f} s")
    return {
        "two_proc_messages": n,
        "two_proc_arrived": inbox.unique,
        "two_proc_duplicates": inbox.duplicates,
        "two_proc_s": round(elapsed, 2),
    }


async def recreate(server: str) -> None:
    conn = await connect_raw(server, database="postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="a 30 s outage (default 5 s)")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--worker", nargs=3, metavar=("URL", "PORT", "SECONDS"))
    args = parser.parse_args()
    if args.worker:
        worker_main(args.worker[0], int(args.worker[1]), float(args.worker[2]))
        return
    server = start_embedded(ROOT / ".data" / "bench-pg")
    asyncio.run(recreate(server))
    url = socket_url(server, DB)
    upgrade(url)
    n = args.messages
    figures: dict[str, Any] = {}
    figures |= baseline(url, n)
    figures |= outage(url, n, 30.0 if args.full else 5.0)
    figures |= sigkill(url, n)
    figures |= two_processes(url, n)
    base = max(figures["baseline_s"], 0.01)
    figures["outage_catchup_vs_baseline"] = round(figures["outage_catchup_s"] / base, 2)
    figures["two_proc_vs_baseline"] = round(figures["two_proc_s"] / base, 2)
    print(
        f"ratios against the no-fault baseline ({base:.1f} s): catch-up after the outage "
        f"x{figures['outage_catchup_vs_baseline']}, two processes x{figures['two_proc_vs_baseline']}"
    )
    goals = {
        "outage": "all arrive, none twice",
        "sigkill": "all arrive, duplicates <= in flight at the kill",
        "two_processes": "each message once",
    }
    met = (
        figures["outage_arrived"] == n
        and figures["outage_duplicates"] == 0
        and figures["sigkill_arrived"] == n
        and figures["sigkill_duplicates"] <= figures["sigkill_in_flight"]
        and figures["two_proc_arrived"] == n
        and figures["two_proc_duplicates"] == 0
    )
    print(json.dumps({"name": "mail_faults", "figures": figures, "goals": goals, "met": met}, ensure_ascii=False))


if __name__ == "__main__":
    main()
