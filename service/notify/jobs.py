"""Timed work of the notify domain, run in every instance (coordinated through the database).

- the outbox dispatcher, every 3 s (expands pending booking notices into mails, then SKIP LOCKED
  claims with a lease);
- the sweep for time-driven mails (unanswered requests, expiring certifications), every 10 min
  (idempotent through dedupe keys);
- the firms' weekly digest, every 10 min (from Monday 09:00 each member is looked at once a week,
  state in `firm_digests`).
"""

from __future__ import annotations

from service.lib.jobs import JobSpec
from service.notify.digest import send_digests
from service.notify.dispatcher import dispatch_due
from service.notify.sweeps import sweep

JOBS = [
    JobSpec("notify.dispatch", dispatch_due, 3),
    JobSpec("notify.sweep", sweep, 600),
    JobSpec("notify.digest", send_digests, 600),
]
