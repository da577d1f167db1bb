from __future__ import annotations

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from fiche import Base, TenantMixin


class LoyaltyCard(TenantMixin, Base):
    __tablename__ = "loyalty_cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    points: Mapped[int] = mapped_column(Integer, default=0)
