"""deploy/ stays consistent with the code: documented settings, compose services, image, units, scripts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"


def settings_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for source in (ROOT / "service" / "config.py", ROOT / "service" / "lib" / "observability.py"):
        text = source.read_text()
        names |= set(re.findall(r'env(?:iron)?\.get\("([A-Z_]+)"', text))
        names |= set(re.findall(r'_int\(env, "([A-Z_]+)"', text))
    return names


def documented() -> set[str]:
    """Names in backticks in the first cell of each table row of ENVIRONMENT.md."""
    names: set[str] = set()
    for line in (DEPLOY / "ENVIRONMENT.md").read_text().splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([A-Z_]+)`", line.split("|")[1]))
    return names


def compose() -> dict:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


class TestEnvironmentReference:
    def test_every_setting_of_the_code_is_documented(self):
        code = settings_read_by_the_code()
        assert {"DATABASE_URL", "SECRET_KEY", "BASE_URL", "SLOW_QUERY_MS", "LOG_FORMAT"} <= code
        missing = code - documented()
        assert not missing, f"document these in deploy/ENVIRONMENT.md: {sorted(missing)}"

    def test_compose_sets_only_documented_variables(self):
        app_env = set(compose()["services"]["app1"]["environment"])
        assert not app_env - documented()


class TestCompose:
    def test_services(self):
        services = compose()["services"]
        assert {"db", "migrate", "app1", "app2", "proxy", "mailpit"} <= set(services)
        assert services["db"]["image"].startswith("postgres:16")
        assert "C.UTF-8" in services["db"]["environment"]["POSTGRES_INITDB_ARGS"]
        assert services["migrate"]["command"] == ["procmatch", "db", "upgrade"]

    def test_two_identical_replicas_after_the_migration(self):
        services = compose()["services"]
        first, second = services["app1"], services["app2"]
        assert first["image"] == second["image"] and first["environment"] == second["environment"]
        assert first["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "${SECRET_KEY" in first["environment"]["SECRET_KEY"]  # shared, required
        assert "ports" not in first  # only the proxy is reachable from outside

    def test_the_proxy_balances_over_both_replicas_and_hides_metrics(self):
        caddyfile = (DEPLOY / "Caddyfile").read_text()
        assert "reverse_proxy app1:8000 app2:8000" in caddyfile
        assert "health_uri /health" in caddyfile
        assert re.search(r"handle /metrics\*\s*\{\s*respond 404", caddyfile)
        volumes = compose()["services"]["proxy"]["volumes"]
        assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in volumes


class TestImageAndUnits:
    def test_dockerfile(self):
        dockerfile = (DEPLOY / "Dockerfile").read_text()
        assert "uv sync --locked --no-dev" in dockerfile
        assert re.search(r"^USER procmatch", dockerfile, re.MULTILINE)
        assert "HEALTHCHECK" in dockerfile and "/health" in dockerfile
        assert 'CMD ["procmatch", "serve"' in dockerfile
        ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
        assert {".venv", ".data", ".git"} <= set(ignored)

    def test_systemd_units(self):
        web = (DEPLOY / "systemd" / "procmatch@.service").read_text()
        scheduler = (DEPLOY / "systemd" / "procmatch-scheduler.service").read_text()
        assert "--no-scheduler" in web and "--port %i" in web
        assert "procmatch scheduler" in scheduler
        for unit in (web, scheduler):
            assert "User=procmatch" in unit and "NoNewPrivileges=yes" in unit
            assert "EnvironmentFile=/etc/procure-match/procmatch.env" in unit

    def test_scripts_are_valid_bash_and_executable(self):
        for script in ("backup.sh", "restore.sh"):
            path = DEPLOY / script
            assert path.stat().st_mode & 0o111
            assert subprocess.run(["bash", "-n", str(path)], check=False).returncode == 0
