"""Every table, imported once so that Alembic and the app see the whole schema."""

from service.db.base import Base
from service.domains import domain_modules
from service.identity import models as identity_models  # noqa: F401
from service.lib import idempotency  # noqa: F401

domain_modules("models")

metadata = Base.metadata
