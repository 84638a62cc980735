"""Every table, imported once so that Alembic and the app see the whole schema."""

from service.accounts import models as accounts_models  # noqa: F401
from service.contracts import models as contracts_models  # noqa: F401
from service.db.base import Base
from service.fairs import models as fairs_models  # noqa: F401
from service.lib import idempotency  # noqa: F401
from service.matching import models as matching_models  # noqa: F401
from service.needs import models as needs_models  # noqa: F401
from service.notify import models as notify_models  # noqa: F401
from service.registry import models as registry_models  # noqa: F401

metadata = Base.metadata
