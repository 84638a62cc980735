"""Password hashing: production parameters are pinned; the test suite's cheap hasher changes nothing else."""

import subprocess
import sys

from argon2 import PasswordHasher, Type
from argon2.profiles import CHEAPEST

from service.accounts import passwords


class TestProductionParameters:
    def test_the_production_hasher_is_argon2id_with_three_passes_over_64_mib_in_four_lanes(self):
        hasher = passwords.PRODUCTION_HASHER
        assert hasher.type is Type.ID
        assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (3, 65536, 4)
        assert (hasher.hash_len, hasher.salt_len) == (32, 16)

    def test_a_process_that_configures_nothing_hashes_with_the_production_parameters(self):
        program = "from service.accounts.passwords import hash_password; print(hash_password('a-password-1'))"
        result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
        assert result.stdout.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


class TestHashing:
    def test_the_suite_hashes_with_the_cheapest_parameters(self):
        assert passwords.hash_password("a-password-1").startswith(
            f"$argon2id$v=19$m={CHEAPEST.memory_cost},t={CHEAPEST.time_cost},p={CHEAPEST.parallelism}$"
        )

    def test_a_hash_made_with_other_parameters_still_verifies(self):
        stored = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1).hash("a-password-1")
        assert passwords.verify_password(stored, "a-password-1")
        assert not passwords.verify_password(stored, "another-password")

    def test_no_account_never_verifies(self):
        assert not passwords.verify_password(None, "procure-match: no such account")
        assert not passwords.verify_password(None, "a-password-1")
