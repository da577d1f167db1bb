"""Customers' billing information (B1): checks and storage, and what a document takes
from it (currency, payment terms, due date).

The VAT number is checked for its country with python-stdnum (``stdnum.eu.vat``: the
format and check digits of each EU member state, ``EL`` for Greece); SIREN and SIRET
(``stdnum.fr``) only for French customers, and a SIRET must belong to the SIREN given.
Payment terms follow French law (Code de commerce L441-10): at most 60 days, or 45 days
end of month.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum import exceptions as stdnum_errors
from stdnum.eu import vat
from stdnum.fr import siren as fr_siren
from stdnum.fr import siret as fr_siret

from fiche.accounts.services import EMAIL_RE
from fiche.db import lock
from fiche.directory import CustomerAddress, customer_addresses
from fiche.errors import UserError, UserErrors, ErrorCode
from fiche.plugins.billing import models
from fiche.plugins.billing.money import is_currency

__all__ = ["DEFAULT_TERMS", "ProfileDraft", "Terms", "check_profile", "due_date", "profile_of", "save_profile"]

MAX_DAYS = 60
MAX_DAYS_END_OF_MONTH = 45
_COUNTRY = re.compile(r"[A-Z]{2}")
# stdnum.eu.vat knows Greece as EL, the prefix of Greek VAT numbers.
_VAT_PREFIX = {"GR": "EL"}


@dataclasses.dataclass(frozen=True, slots=True)
class Terms:
    kind: models.PaymentTermsKind
    days: int

    def describe(self) -> str:
        """The terms as printed on an invoice (in French, like the rest of the document)."""
        if self.kind is models.PaymentTermsKind.ON_RECEIPT:
            return "à réception de la facture"
        if self.kind is models.PaymentTermsKind.DAYS:
            return f"à {self.days} jours"
        return f"à {self.days} jours fin de mois"


DEFAULT_TERMS = Terms(models.PaymentTermsKind.DAYS, 30)


def due_date(issued: dt.date, terms: Terms) -> dt.date:
    """The due date of a document issued on ``issued``: the same day on receipt, N days
    later, or the last day of the month N days later ("N jours fin de mois")."""
    if terms.kind is models.PaymentTermsKind.ON_RECEIPT:
        return issued
    later = issued + dt.timedelta(days=terms.days)
    if terms.kind is models.PaymentTermsKind.DAYS:
        return later
    return later.replace(day=calendar.monthrange(later.year, later.month)[1])


@dataclasses.dataclass(frozen=True, slots=True)
class ProfileDraft:
    address_id: int | None
    address_line1: str | None
    address_line2: str | None
    postal_code: str | None
    city: str | None
    country: str
    vat_number: str | None
    siren: str | None
    siret: str | None
    terms: Terms
    email: str | None
    currency: str


def _text(value: str | None, limit: int, label: str, path: list[str], errors: list[UserError]) -> str | None:
    cleaned = " ".join((value or "").split())
    if len(cleaned) > limit:
        errors.append(UserError(code=ErrorCode.INVALID, message=f"{label} has at most {limit} characters.", path=path))
    return cleaned or None


def check_profile(
    *,
    address_id: int | None = None,
    address_line1: str | None,
    address_line2: str | None,
    postal_code: str | None,
    city: str | None,
    country: str | None,
    vat_number: str | None,
    siren: str | None,
    siret: str | None,
    terms: models.PaymentTermsKind,
    days: int | None,
    email: str | None,
    currency: str | None,
    path: tuple[str, ...] = ("input",),
) -> ProfileDraft:
    """Every value checked; all problems reported at once, each at its field's path."""
    errors: list[UserError] = []

    def at(field: str) -> list[str]:
        return [*path, field]

    def fail(field: str, message: str) -> None:
        errors.append(UserError(code=ErrorCode.INVALID, message=message, path=at(field)))

    line1 = _text(address_line1, 200, "An address line", at("addressLine1"), errors)
    if address_id is not None and any((address_line1, address_line2, postal_code, city)):
        fail("addressId", "Bill either one of the customer's addresses or an address of its own, not both.")
    line2 = _text(address_line2, 200, "An address line", at("addressLine2"), errors)
    postcode = _text(postal_code, 20, "The postal code", at("postalCode"), errors)
    town = _text(city, 100, "The city", at("city"), errors)
    country_code = (country or "FR").strip().upper()
    if not _COUNTRY.fullmatch(country_code):
        fail("country", "The country is a two-letter ISO 3166 code, e.g. `FR`.")
    vat_id: str | None = None
    if vat_number and vat_number.strip():
        try:
            vat_id = vat.validate(vat_number)
        except stdnum_errors.ValidationError as exc:
            fail("vatNumber", f"{vat_number.strip()[:30]!r} is not a valid EU VAT number: {str(exc)}")
        else:
            expected = _VAT_PREFIX.get(country_code, country_code)
            if not vat_id.startswith(expected):
                fail("vatNumber", f"This VAT number is not one of {country_code} (it starts with {vat_id[:2]}).")
    siren_id: str | None = None
    siret_id: str | None = None
    for field, value, module in (("siren", siren, fr_siren), ("siret", siret, fr_siret)):
        if not value or not value.strip():
            continue
        if country_code != "FR":
            fail(field, "SIREN and SIRET numbers are only for French customers.")
            continue
        try:
            checked = module.validate(value)
        except stdnum_errors.ValidationError as exc:
            fail(field, f"{value.strip()[:30]!r} is not a valid {field.upper()}: {str(exc)}")
            continue
        if field == "siren":
            siren_id = checked
        else:
            siret_id = checked
    if siren_id and siret_id and not siret_id.startswith(siren_id):
        fail("siret", "This SIRET is not an establishment of the SIREN given.")
    if siret_id and not siren_id:
        siren_id = siret_id[:9]
    if terms is models.PaymentTermsKind.ON_RECEIPT:
        days_value = 0
    else:
        days_value = 30 if days is None else days
        limit = MAX_DAYS if terms is models.PaymentTermsKind.DAYS else MAX_DAYS_END_OF_MONTH
        if not 0 <= days_value <= limit:
            fail("paymentDays", f"Payment terms are 0 to {limit} days for this kind (French law, Code de commerce L441-10).")
    mail = (email or "").strip() or None
    if mail is not None and (len(mail) > 254 or not EMAIL_RE.match(mail)):
        fail("email", f"{mail[:60]!r} is not a valid e-mail address.")
    code = (currency or "EUR").strip().upper()
    if not is_currency(code):
        fail("currency", f"{code[:10]!r} is not an ISO 4217 currency code, e.g. `EUR`.")
    if errors:
        raise UserErrors(errors)
    return ProfileDraft(address_id, line1, line2, postcode, town, country_code, vat_id, siren_id, siret_id, Terms(terms, days_value), mail, code)


async def profile_of(session: AsyncSession, customer_id: int) -> models.BillingProfile | None:
    return await session.scalar(select(models.BillingProfile).where(models.BillingProfile.customer_id == customer_id))


async def save_profile(session: AsyncSession, customer_id: int, draft: ProfileDraft) -> models.BillingProfile:
    await lock(session, f"billing-profile:{customer_id}")
    profile = await profile_of(session, customer_id)
    if profile is None:
        profile = models.BillingProfile(customer_id=customer_id)
        session.add(profile)
    profile.address_id = draft.address_id
    profile.address_line1 = draft.address_line1
    profile.address_line2 = draft.address_line2
    profile.postal_code = draft.postal_code
    profile.city = draft.city
    profile.country = draft.country
    profile.vat_number = draft.vat_number
    profile.siren = draft.siren
    profile.siret = draft.siret
    profile.payment_terms = draft.terms.kind
    profile.payment_days = draft.terms.days
    profile.email = draft.email
    profile.currency = draft.currency
    await session.flush()
    return profile


def terms_of(profile: models.BillingProfile | None) -> Terms:
    return DEFAULT_TERMS if profile is None else Terms(profile.payment_terms, profile.payment_days)


async def linked_addresses(pm: Any, session: AsyncSession, address_ids: Sequence[int]) -> Mapping[int, CustomerAddress]:
    """The customers' addresses that billing profiles point at (``customer_addresses``), in
    one statement; empty without a plugin answering it."""
    return await customer_addresses(pm, session, sorted(set(address_ids)))


async def check_linked_address(pm: Any, session: AsyncSession, customer_id: int, address_id: int, *path: str) -> CustomerAddress:
    """The address, which must be one of the customer's own."""
    found = (await linked_addresses(pm, session, [address_id])).get(address_id)
    if found is None:
        raise UserErrors.not_found("No address with this ID.", *path)
    if found.customer_id != customer_id:
        raise UserErrors.invalid("This address is not one of the customer's.", *path)
    return found


async def buyer_of(pm: Any, session: AsyncSession, customer_id: int) -> dict[str, Any]:
    """The customer as a buyer now: name, billing address, VAT number, SIREN, e-mail
    (what an issued document keeps, see ``BillingDocument.buyer``)."""
    from fiche.directory import customer_locations

    location = (await customer_locations(pm, session, [customer_id])).get(customer_id)
    profile = await profile_of(session, customer_id)
    address = None
    if profile is not None and profile.address_id is not None:
        address = (await linked_addresses(pm, session, [profile.address_id])).get(profile.address_id)
    return {
        "name": location.display_name if location else "",
        "country": address.country if address else profile.country if profile else "FR",
        "address_line1": address.line1 if address else profile.address_line1 if profile else None,
        "address_line2": address.line2 if address else profile.address_line2 if profile else None,
        "postal_code": address.postal_code if address else profile.postal_code if profile else None,
        "city": address.city if address else profile.city if profile else None,
        "vat_number": profile.vat_number if profile else None,
        "siren": profile.siren if profile else None,
        "email": profile.email if profile else None,
    }
