"""schemathesis against /schema/openapi.json of a served app, signed in as each role.

Every generated request is sent as anonymous, firm, agency, staff and a still-pending firm; each
response must be no 5xx, carry a documented status and content type, and match the response
schema. At least 1,000 requests per run. Operations whose path names an organization are also
fuzzed against real organizations (not only random ids), so the update code sees fuzzed bodies.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import PASSWORD, agency_payload, firm_payload
from tests.factories_ops import ROOT, live_server, make_staff

EXAMPLES_PER_OPERATION = 40
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Signing out revokes the caller's token: fuzzed only without a valid one, so the roles keep theirs.
TOKEN_REVOKING = {("POST", "/api/v1/auth/logout")}
# Sign-in and registration spend the per-IP failure budget; run them last so it does not cut
# the other operations short (each request also comes from its own X-Forwarded-For address).
LAST = ("/api/v1/auth/", "/api/v1/register")


def sign_in(http: httpx.Client, email: str) -> str:
    response = http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def registered(http: httpx.Client, payload: dict) -> tuple[str, str]:
    response = http.post("/api/v1/register", json=payload)
    assert response.status_code == 201, response.text
    return payload["user"]["email"], response.json()["organization"]["id"]


@pytest.mark.slow
def test_fuzz_every_operation_as_every_role(database_url: str, tmp_path: Path):
    with (
        # the test plays the proxy: its X-Forwarded-For spreads requests over many client addresses
        live_server(
            database_url, tmp_path, ROOT / "test-output" / "fuzz", extra_env={"FORWARDED_ALLOW_IPS": "127.0.0.1"}
        ) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as http,
        requests.Session() as session,
    ):
        staff = sign_in(http, make_staff(database_url))
        firm_email, firm_id = registered(http, firm_payload())
        agency_email, agency_id = registered(http, agency_payload())
        pending_email, _ = registered(http, firm_payload())
        for org in (firm_id, agency_id):
            verified = http.post(f"/api/v1/organizations/{org}/verify", headers={"Authorization": f"Bearer {staff}"})
            assert verified.is_success
        fuzzer = Fuzzer(
            base_url=server.base_url,
            session=session,
            roles={
                "anonymous": None,
                "firm": sign_in(http, firm_email),
                "agency": sign_in(http, agency_email),
                "staff": staff,
                "pending": sign_in(http, pending_email),
            },
        )
        real_ids = {"/api/v1/firms/": firm_id, "/api/v1/agencies/": agency_id}

        schema = schemathesis.openapi.from_url(f"{server.base_url}/schema/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        operations.sort(key=lambda op: op.path.startswith(LAST))
        assert len(operations) >= 10
        for operation in operations:
            strategy = operation.as_strategy()
            real = next((oid for prefix, oid in real_ids.items() if operation.path.startswith(prefix)), None)
            if real is not None:
                strategy = st.one_of(strategy, operation.as_strategy(path_parameters={"organization_id": real}))
            fuzzer.run(strategy, revoking=(operation.method.upper(), operation.path) in TOKEN_REVOKING)

        summary = {"requests": fuzzer.sent, "operations": len(operations), "roles": list(fuzzer.roles)}
        summary["failures"] = len(fuzzer.failures)
        (ROOT / "test-output" / "fuzz" / "summary.json").write_text(json.dumps(summary))
        unique = sorted(set(fuzzer.failures))
        assert not unique, f"{len(fuzzer.failures)} failing responses; distinct:\n" + "\n\n".join(unique[:25])
        assert fuzzer.sent >= 1000, f"only {fuzzer.sent} requests"
        assert "Traceback" not in server.log_tail(500_000), server.log_tail()


class Fuzzer:
    def __init__(self, base_url: str, session: requests.Session, roles: dict[str, str | None]) -> None:
        self.base_url = base_url
        self.session = session
        self.roles = roles
        self.sent = 0
        self.failures: list[str] = []
        self.addresses = (f"10.{a}.{b}.{c}" for a, b, c in itertools.product(range(1, 250), range(250), range(1, 250)))

    def run(self, strategy: st.SearchStrategy, revoking: bool) -> None:
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def exercise(case) -> None:
            for role, token in self.roles.items():
                self.send(case, role, "not-a-valid-token" if revoking and token else token)

        exercise()

    def send(self, case, role: str, token: str | None) -> None:
        headers = {"X-Forwarded-For": next(self.addresses)}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = case.call(base_url=self.base_url, session=self.session, headers=headers)
        self.sent += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:  # collect them all, report at the end
            self.failures.append(f"{case.operation.label} as {role}: {str(exc)[:700]}")
