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
