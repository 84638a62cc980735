"""Settings read once from the environment into one typed, validated object."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SmtpSecurity = Literal["starttls", "tls", "none"]
SUPPORTED_LOCALES = ("ko", "en")


class SettingsError(ValueError):
    """A configuration variable is missing or malformed; the message names it."""


@dataclass(frozen=True)
class DatabaseSettings:
    url: str | None
    pool_size: int = 10
    slow_query_ms: int = 200


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None
    port: int
    username: str | None
    password: str | None
    security: SmtpSecurity
    mail_from: str

    @property
    def configured(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class AuthSettings:
    secret_key: str
    token_hours: int = 12
    # Failed sign-ins within the window lock out one (account, client address) pair, or one
    # client address for every account; never an account from everywhere (anyone could lock it).
    login_max_failures: int = 5
    login_max_failures_per_address: int = 20
    login_window_minutes: int = 10
    # Failures on one account from all addresses slow its sign-ins down by a bounded delay.
    login_delay_step_seconds: float = 0.25
    login_max_delay_seconds: float = 2.0
    # Registrations accepted from one client address in any hour (REGISTRATION_LIMIT_PER_HOUR).
    registration_limit_per_hour: int = 5


@dataclass(frozen=True)
class AppSettings:
    base_url: str
    data_dir: Path
    timezone: str
    default_locale: str
    # GC_FREEZE: after start-up, move every object then alive out of the garbage collector's sight
    # (`gc.freeze`). A serving process's full collections then scan only what requests made since:
    # under a booking burst they had stopped a worker for 100-380 ms each. `procmatch serve` turns
    # it on; a process that builds many apps (the tests) must not, it would keep all their garbage.
    freeze_gc: bool = False

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


@dataclass(frozen=True)
class HttpSettings:
    """Who the app believes about the client's address, and who may read /metrics."""

    # Peers whose X-Forwarded-For/-Proto are believed (addresses or networks, or "*"); none by
    # default, so a client can never choose the address the per-address throttles count.
    forwarded_allow_ips: tuple[str, ...] = ()
    # Client addresses (after the proxy headers above) that may read /metrics.
    metrics_allow_ips: tuple[str, ...] = ("127.0.0.1", "::1")
    # When set, `Authorization: Bearer <token>` also opens /metrics, from any address.
    metrics_token: str | None = None


@dataclass(frozen=True)
class SchedulerSettings:
    enabled: bool = True
    # Job id -> seconds between runs, overriding the job's own interval (SCHEDULER_INTERVALS).
    intervals: tuple[tuple[str, int], ...] = ()

    def seconds(self, job_id: str, default: int) -> int:
        return dict(self.intervals).get(job_id, default)


@dataclass(frozen=True)
class Settings:
    app: AppSettings
    db: DatabaseSettings
    smtp: SmtpSettings
    auth: AuthSettings
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    http: HttpSettings = field(default_factory=HttpSettings)


def _int(env: dict[str, str], name: str, default: int, minimum: int = 0, maximum: int = 1 << 31) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise SettingsError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def _secret_key(env: dict[str, str], data_dir: Path) -> str:
    key = env.get("SECRET_KEY")
    if key:
        if len(key) < 16:
            raise SettingsError("SECRET_KEY must be at least 16 characters long")
        return key
    # Local use: generate once and keep it beside the embedded database.
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _addresses(env: dict[str, str], name: str, default: tuple[str, ...], allow_any: bool) -> tuple[str, ...]:
    """`10.0.0.5, 172.28.0.0/24, ::1` -> ("10.0.0.5", "172.28.0.0/24", "::1"); "*" where allowed."""
    raw = env.get(name)
    if raw is None:
        return default
    out: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        if item == "*" and allow_any:
            out.append(item)
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            accepted = "IP addresses or networks (10.0.0.0/8)" + (", or *" if allow_any else "")
            raise SettingsError(f"{name} must list {accepted} separated by commas; got {item!r}") from None
        out.append(item)
    return tuple(out)


def _metrics_token(env: dict[str, str]) -> str | None:
    token = env.get("METRICS_TOKEN") or None
    if token is not None and len(token) < 16:
        raise SettingsError("METRICS_TOKEN must be at least 16 characters long")
    return token


def _intervals(raw: str | None) -> tuple[tuple[str, int], ...]:
    """`notify.dispatch=1,fairs.schedule_closed=5` -> (("notify.dispatch", 1), ...)."""
    out: list[tuple[str, int]] = []
    for item in (raw or "").split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip().isdigit() or int(value) < 1:
            raise SettingsError(f"SCHEDULER_INTERVALS must look like 'job.id=seconds,...' (seconds >= 1), got {item!r}")
        out.append((name.strip(), int(value)))
    return tuple(out)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build and validate the settings; raise SettingsError naming the bad variable."""
    env = dict(os.environ if environ is None else environ)

    data_dir = Path(env.get("DATA_DIR") or ".data").expanduser().resolve()

    database_url = _database_url(env)
    base_url = _base_url(env)
    security = _smtp_security(env)
    default_port = {"starttls": 587, "tls": 465, "none": 25}[security]
    timezone = _timezone(env)
    locale = _default_locale(env)
    mail_from = _mail_from(env)

    return Settings(
        app=AppSettings(
            base_url=base_url,
            data_dir=data_dir,
            timezone=timezone,
            default_locale=locale,
            freeze_gc=env.get("GC_FREEZE", "0") in ("1", "true", "yes"),
        ),
        db=DatabaseSettings(
            url=database_url,
            pool_size=_int(env, "DATABASE_POOL_SIZE", 10, 1, 200),
            slow_query_ms=_int(env, "SLOW_QUERY_MS", 200, 1),
        ),
        smtp=SmtpSettings(
            host=env.get("SMTP_HOST") or None,
            port=_int(env, "SMTP_PORT", default_port, 1, 65535),
            username=env.get("SMTP_USERNAME") or None,
            password=env.get("SMTP_PASSWORD") or None,
            security=security,  # type: ignore[arg-type]
            mail_from=mail_from,
        ),
        auth=AuthSettings(
            secret_key=_secret_key(env, data_dir),
            token_hours=_int(env, "TOKEN_HOURS", 12, 1, 24 * 30),
            registration_limit_per_hour=_int(env, "REGISTRATION_LIMIT_PER_HOUR", 5, 1, 1_000_000),
        ),
        scheduler=SchedulerSettings(
            enabled=(env.get("SCHEDULER_ENABLED", "1") not in ("0", "false", "no")),
            intervals=_intervals(env.get("SCHEDULER_INTERVALS")),
        ),
        http=HttpSettings(
            forwarded_allow_ips=_addresses(env, "FORWARDED_ALLOW_IPS", (), allow_any=True),
            metrics_allow_ips=_addresses(env, "METRICS_ALLOW_IPS", ("127.0.0.1", "::1"), allow_any=False),
            metrics_token=_metrics_token(env),
        ),
    )


def _database_url(env: dict[str, str]) -> str | None:
    database_url = env.get("DATABASE_URL") or None
    if database_url is not None:
        scheme = urlsplit(database_url).scheme
        if not scheme.startswith("postgres"):
            raise SettingsError(f"DATABASE_URL must be a postgresql:// URL, got scheme {scheme!r}")
    return database_url


def _base_url(env: dict[str, str]) -> str:
    base_url = (env.get("BASE_URL") or "http://127.0.0.1:8000").rstrip("/")
    if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).netloc:
        raise SettingsError(f"BASE_URL must be an absolute http(s) URL, got {base_url!r}")
    return base_url


def _smtp_security(env: dict[str, str]) -> str:
    security = (env.get("SMTP_SECURITY") or "starttls").lower()
    if security not in ("starttls", "tls", "none"):
        raise SettingsError(f"SMTP_SECURITY must be one of starttls, tls, none; got {security!r}")
    return security


def _timezone(env: dict[str, str]) -> str:
    timezone = env.get("TIMEZONE") or "Asia/Seoul"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"TIMEZONE is not a known IANA time zone: {timezone!r}") from None
    return timezone


def _default_locale(env: dict[str, str]) -> str:
    locale = env.get("DEFAULT_LOCALE") or "ko"
    if locale not in SUPPORTED_LOCALES:
        raise SettingsError(f"DEFAULT_LOCALE must be one of {', '.join(SUPPORTED_LOCALES)}; got {locale!r}")
    return locale


def _mail_from(env: dict[str, str]) -> str:
    mail_from = env.get("MAIL_FROM") or "procure-match <noreply@procure-match.local>"
    if "@" not in mail_from:
        raise SettingsError(f"MAIL_FROM must contain an email address, got {mail_from!r}")
    return mail_from


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
