"""The in-process SMTP server of the notify tests, and clients from chosen addresses served in the
test's own event loop (so concurrent requests really interleave on the database)."""

from tests.integration.accounts.test_abuse import from_address  # noqa: F401
from tests.integration.notify.conftest import smtp, smtp_settings  # noqa: F401
