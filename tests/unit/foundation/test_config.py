from pathlib import Path

import pytest

from service.config import SettingsError, load_settings


def base(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"DATA_DIR": str(tmp_path), **extra}


class TestSettings:
    def test_defaults(self, tmp_path):
        settings = load_settings(base(tmp_path))
        assert settings.db.url is None
        assert settings.app.timezone == "Asia/Seoul"
        assert settings.app.default_locale == "ko"
        assert settings.smtp.security == "starttls"
        assert settings.smtp.port == 587
        assert not settings.smtp.configured
        assert not settings.app.secure_cookies
        assert settings.auth.registration_limit_per_hour == 5

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("DATABASE_URL", "mysql://x@y/z"),
            ("SMTP_SECURITY", "ssl3"),
            ("SMTP_PORT", "seventy"),
            ("SMTP_PORT", "70000"),
            ("TIMEZONE", "Mars/Olympus"),
            ("DEFAULT_LOCALE", "fr"),
            ("BASE_URL", "ftp://example"),
            ("SECRET_KEY", "short"),
            ("MAIL_FROM", "nobody"),
            ("SCHEDULER_INTERVALS", "notify.dispatch"),
            ("SCHEDULER_INTERVALS", "notify.dispatch=0"),
            ("SCHEDULER_INTERVALS", "notify.dispatch=soon"),
            ("REGISTRATION_LIMIT_PER_HOUR", "0"),
            ("REGISTRATION_LIMIT_PER_HOUR", "many"),
        ],
    )
    def test_bad_value_names_the_variable(self, tmp_path, name, value):
        with pytest.raises(SettingsError, match=name):
            load_settings(base(tmp_path, **{name: value}))

    def test_secret_key_is_generated_once_and_kept(self, tmp_path):
        first = load_settings(base(tmp_path)).auth.secret_key
        second = load_settings(base(tmp_path)).auth.secret_key
        assert first == second
        assert len(first) >= 32
        assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0

    def test_https_base_url_makes_cookies_secure(self, tmp_path):
        assert load_settings(base(tmp_path, BASE_URL="https://match.example.kr")).app.secure_cookies

    def test_tls_port_default(self, tmp_path):
        assert load_settings(base(tmp_path, SMTP_SECURITY="tls")).smtp.port == 465


class TestSchedulerIntervals:
    def test_override_some_jobs_and_keep_the_others(self, tmp_path):
        settings = load_settings(base(tmp_path, SCHEDULER_INTERVALS="notify.dispatch=1, fairs.schedule_closed=5"))
        assert settings.scheduler.seconds("notify.dispatch", 3) == 1
        assert settings.scheduler.seconds("fairs.schedule_closed", 60) == 5
        assert settings.scheduler.seconds("notify.sweep", 600) == 600

    async def test_an_unknown_job_stops_the_start(self, tmp_path):
        from service.scheduler import start_scheduler

        settings = load_settings(base(tmp_path, SCHEDULER_INTERVALS="notify.dispatchh=1"))
        with pytest.raises(SettingsError, match=r"notify\.dispatchh"):
            start_scheduler(None, settings)  # type: ignore[arg-type]

    def test_registration_limit_is_configurable(self, tmp_path):
        assert load_settings(base(tmp_path, REGISTRATION_LIMIT_PER_HOUR="50")).auth.registration_limit_per_hour == 50


class TestHttpSettings:
    def test_defaults_trust_no_proxy_and_show_metrics_to_loopback(self, tmp_path):
        http = load_settings(base(tmp_path)).http
        assert http.forwarded_allow_ips == ()
        assert http.metrics_allow_ips == ("127.0.0.1", "::1")
        assert http.metrics_token is None

    def test_addresses_networks_and_star(self, tmp_path):
        env = base(tmp_path, FORWARDED_ALLOW_IPS="172.28.0.10, 10.0.0.0/8,*", METRICS_ALLOW_IPS="10.1.2.3,fd00::/8")
        http = load_settings(env).http
        assert http.forwarded_allow_ips == ("172.28.0.10", "10.0.0.0/8", "*")
        assert http.metrics_allow_ips == ("10.1.2.3", "fd00::/8")

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("FORWARDED_ALLOW_IPS", "proxy.local"),
            ("METRICS_ALLOW_IPS", "*"),
            ("METRICS_ALLOW_IPS", "300.1.1.1"),
            ("METRICS_TOKEN", "short"),
        ],
    )
    def test_bad_values_name_the_variable(self, tmp_path, name, value):
        with pytest.raises(SettingsError, match=name):
            load_settings(base(tmp_path, **{name: value}))


class TestNoSchedulerFlag:
    def test_it_reaches_settings_already_read(self, monkeypatch, tmp_path):
        """`serve --no-scheduler` with one worker: the app is built in the CLI's own process,
        whose settings were cached before the flag was applied."""
        from service.cli import _disable_scheduler
        from service.config import get_settings

        for name, value in base(tmp_path).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("SCHEDULER_ENABLED", "1")
        get_settings.cache_clear()
        try:
            assert get_settings().scheduler.enabled
            _disable_scheduler()
            assert not get_settings().scheduler.enabled
        finally:
            monkeypatch.undo()
            get_settings.cache_clear()
