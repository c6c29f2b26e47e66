"""Imports every package's models so the shared metadata knows all tables (Alembic,
create_all in tests)."""

from booking import models as booking_models  # noqa: F401
from content import models as content_models  # noqa: F401
from self_help import models as self_help_models  # noqa: F401
from service import counters, freshness, outbox, scheduler, sessions  # noqa: F401
from service.auth import held as held_forms  # noqa: F401
from service.auth import models as auth_models  # noqa: F401
from service.conversations import live_models  # noqa: F401
from service.conversations import models as conversation_models  # noqa: F401
from service.crisis import models as crisis_models  # noqa: F401
from service.db import Base
from service.visitor import models as visitor_models  # noqa: F401

metadata = Base.metadata
