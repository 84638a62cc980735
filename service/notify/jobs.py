"""Timed work of the notify domain: the outbox dispatcher, every 3 seconds in every instance."""

from __future__ import annotations

from service.notify.dispatcher import dispatch_due
from service.scheduler import JobSpec

JOBS = [JobSpec("notify.dispatch", dispatch_due, 3)]
