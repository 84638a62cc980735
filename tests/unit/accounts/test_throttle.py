"""The sign-in slowdown (pure) and the clock's sleep that tests observe instead of waiting."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from service.accounts.throttle import address_key, sign_in_delay
from service.config import AuthSettings
from service.lib import clock

SETTINGS = AuthSettings(secret_key="unused-here-0123456789")


class TestSignInDelay:
    def test_a_users_own_few_typos_cost_nothing(self):
        assert [sign_in_delay(n, SETTINGS) for n in range(6)] == [0.0] * 6

    def test_grows_by_steps_and_stays_bounded(self):
        delays = [sign_in_delay(n, SETTINGS) for n in range(5, 200)]
        assert delays == sorted(delays)
        assert delays[1] == SETTINGS.login_delay_step_seconds
        assert max(delays) == SETTINGS.login_max_delay_seconds <= 2.0


class TestAddressKey:
    @pytest.mark.parametrize(
        ("host", "key"),
        [
            ("203.0.113.5", "203.0.113.5"),
            ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),  # one subscriber's /64 is one address
            ("2001:DB8:1:2::ffff", "2001:db8:1:2::/64"),
            ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
            ("::ffff:198.51.100.7", "198.51.100.7"),
            ("fe80::1%eth0", "fe80::/64"),
            ("testclient", "testclient"),
            ("x" * 100, "x" * 64),  # fits the column
        ],
    )
    def test_keys(self, host, key):
        assert address_key(host) == key


class TestClockSleep:
    async def test_a_frozen_clock_moves_forward_instead_of_waiting(self):
        with clock.frozen_at(datetime(2026, 12, 1, tzinfo=UTC)):
            started = time.monotonic()
            await clock.sleep(30)
            assert clock.now() == datetime(2026, 12, 1, 0, 0, 30, tzinfo=UTC)
            assert time.monotonic() - started < 1

    async def test_a_running_clock_waits(self):
        started = time.monotonic()
        await clock.sleep(0.05)
        assert time.monotonic() - started >= 0.05
