"""The in-process SMTP server of the notify tests, for the invitation mails."""

from tests.integration.notify.conftest import smtp, smtp_settings

__all__ = ["smtp", "smtp_settings"]
