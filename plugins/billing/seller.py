"""The organisation as a seller: the settings printed on every document and required by
Factur-X (legal name, VAT number, SIREN, address, IBAN), registered as organisation
settings (``organizationSettingSet``, admins) and checked with python-stdnum."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum import exceptions as stdnum_errors
from stdnum import iban
from stdnum.eu import vat
from stdnum.fr import siren

from fiche.accounts import models as accounts
from fiche.org_settings import OrganizationSettingSpec

__all__ = ["SETTINGS", "Seller", "seller_of"]


def _checked(validate: Callable[[str], Any], what: str) -> Callable[[Any], str | None]:
    def problem(value: Any) -> str | None:
        if not value:
            return None
        try:
            validate(value)
        except stdnum_errors.ValidationError as exc:
            return f"not a valid {what}: {str(exc)}"
        return None

    return problem


def _text(limit: int) -> Callable[[Any], str | None]:
    return lambda value: f"at most {limit} characters." if len(value) > limit else None


PREFIX = "billing.seller."
SETTINGS = (
    OrganizationSettingSpec(PREFIX + "legal_name", str, "", "Your company's legal name on documents (the organisation's name when empty).", problem=_text(200)),
    OrganizationSettingSpec(PREFIX + "vat_number", str, "", "Your intra-community VAT number (required by Factur-X for VAT invoices).", problem=_checked(vat.validate, "EU VAT number")),
    OrganizationSettingSpec(PREFIX + "siren", str, "", "Your SIREN (French companies).", problem=_checked(siren.validate, "SIREN")),
    OrganizationSettingSpec(PREFIX + "address_line1", str, "", "Your address, first line.", problem=_text(200)),
    OrganizationSettingSpec(PREFIX + "postal_code", str, "", "Your postal code.", problem=_text(20)),
    OrganizationSettingSpec(PREFIX + "city", str, "", "Your city.", problem=_text(100)),
    OrganizationSettingSpec(PREFIX + "country", str, "FR", "Your ISO 3166 country code.", problem=lambda v: None if len(v) == 2 and v.isalpha() and v.isupper() else "a two-letter code such as FR."),
    OrganizationSettingSpec(PREFIX + "iban", str, "", "The IBAN customers pay to (printed on invoices).", problem=_checked(iban.validate, "IBAN")),
)


@dataclasses.dataclass(frozen=True, slots=True)
class Seller:
    legal_name: str
    vat_number: str
    siren: str
    address_line1: str
    postal_code: str
    city: str
    country: str
    iban: str


async def seller_of(session: AsyncSession) -> Seller:
    """The seller of the session's organisation (settings, or their defaults)."""
    stored: dict[str, Any] = dict(
        (await session.execute(select(accounts.OrganizationSetting.key, accounts.OrganizationSetting.value).where(
            accounts.OrganizationSetting.key.in_([spec.key for spec in SETTINGS])
        ))).all()
    )  # fmt: skip
    values = {spec.key[len(PREFIX):]: str(stored.get(spec.key, spec.default) or "") for spec in SETTINGS}
    if not values["legal_name"]:
        organization_id = session.info.get("organization_id")
        name = await session.scalar(select(accounts.Organization.name).where(accounts.Organization.id == organization_id))
        values["legal_name"] = name or ""
    values["vat_number"] = vat.compact(values["vat_number"]) if values["vat_number"] else ""
    values["iban"] = iban.compact(values["iban"]) if values["iban"] else ""
    return Seller(**values)
