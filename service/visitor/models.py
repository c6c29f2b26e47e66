from __future__ import annotations

import datetime as dt

from sqlalchemy import LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base


class AnonymousKey(Base):
    """A key a visitor holds to keep progress and answers across devices. Only its
    argon2id hash is stored; dates are days, nothing finer."""

    __tablename__ = "anonymous_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_on: Mapped[dt.date]
    last_used_on: Mapped[dt.date]
