"""Factur-X (EN 16931 profile): the Cross Industry Invoice XML of an issued invoice or
credit note, built with the ``factur-x`` library's generator (``facturx.generate_xml``,
checked against the standard's XSD as it is built) and embedded in the PDF/A-3 with
``facturx.generate_from_binary``.

Mapping choices (docs/billing.md): a discount is a line allowance (BG-27) of
round(quantity × unit price) − net amount; a line with a negative unit price (a
deduction) is written with a negative quantity and a positive price (BR-27: prices are
never negative); a 0 % line is VAT category E (exempt) with its reason, others are S.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from fiche.plugins.billing import models
from fiche.plugins.billing.money import currency_exponent, quantize
from fiche.plugins.billing.seller import Seller

__all__ = ["Buyer", "cii_xml", "embed"]

TYPE_CODES = {models.DocumentKind.INVOICE: "380", models.DocumentKind.CREDIT_NOTE: "381"}
EN16931 = "urn:cen.eu:en16931:2017"
EXEMPT_REASON = "Exonération de TVA"
UNIT_CODES = {"h": "HUR", "heure": "HUR", "heures": "HUR", "j": "DAY", "jour": "DAY", "m": "MTR", "m2": "MTK", "m²": "MTK", "kg": "KGM", "l": "LTR"}


@dataclasses.dataclass(frozen=True, slots=True)
class Buyer:
    name: str
    country: str
    address_line1: str | None = None
    address_line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    vat_number: str | None = None
    siren: str | None = None
    email: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Line:
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    vat_rate: Decimal
    discount: Decimal
    net_amount: Decimal


def _amount(value: Decimal, exponent: int) -> str:
    return format(quantize(value, exponent), "f")


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def _category(rate: Decimal) -> str:
    return "S" if rate > 0 else "E"


def _party(name: str, country: str, *, line1: str | None, line2: str | None, postcode: str | None, city: str | None,
           vat_number: str | None, siren: str | None, email: str | None = None) -> dict[str, object]:  # fmt: skip
    party: dict[str, object] = {"name": name, "country_code": country}
    for key, value in (("addr_l1", line1), ("addr_l2", line2), ("postcode", postcode), ("city", city), ("vat_identifier", vat_number)):
        if value:
            party[key] = value
    if siren:
        party["legal_identifier"] = siren
        party["legal_identifier_schemeid"] = "0002"  # ISO 6523 ICD of the SIRENE register
    if email:
        party["einvoicing_addr"] = email
        party["einvoicing_addr_schemeid"] = "EM"
    return party


def cii_xml(
    document: models.BillingDocument,
    lines: Sequence[Line],
    seller: Seller,
    buyer: Buyer,
    *,
    preceding: tuple[str, dt.date] | None = None,
    payment_terms: str | None = None,
) -> bytes:
    """The Factur-X XML of an issued invoice or credit note; raises if it is not valid."""
    from facturx.generate_xml import generate_xml

    assert document.number is not None and document.issue_date is not None
    exponent = currency_exponent(document.currency)
    bases: dict[Decimal, Decimal] = {}
    xml_lines = []
    for index, line in enumerate(lines, start=1):
        quantity, price = (line.quantity, line.unit_price) if line.unit_price >= 0 else (-line.quantity, -line.unit_price)
        gross = quantize(quantity * price, exponent)
        item: dict[str, object] = {
            "BT-126": str(index),
            "BT-153": line.description[:500],
            "BT-129": _number(quantity),
            "BT-130": UNIT_CODES.get(line.unit.strip().lower(), "C62"),
            "BT-146": _number(price),
            "BT-131": _amount(line.net_amount, exponent),
            "BT-151": _category(line.vat_rate),
            "BT-152": _number(line.vat_rate),
        }
        allowance = gross - line.net_amount
        if allowance:
            item["BG-27"] = [{"amount": _amount(allowance, exponent), "base_amount": _amount(gross, exponent), "rate": _number(line.discount), "reason": "Remise"}]
        xml_lines.append(item)
        rate = line.vat_rate.normalize()
        bases[rate] = bases.get(rate, Decimal(0)) + line.net_amount
    breakdown = []
    for rate, base in sorted(bases.items()):
        entry = {"BT-116": _amount(base, exponent), "BT-117": _amount(quantize(base * rate / 100, exponent), exponent), "BT-118": _category(rate), "BT-119": _number(rate)}
        if rate == 0:
            entry["BT-120"] = EXEMPT_REASON
        breakdown.append(entry)
    data: dict[str, object] = {
        "BT-24": EN16931,
        "BT-1": document.number,
        "BT-2": document.issue_date,
        "BT-3": TYPE_CODES[document.kind],
        "BT-5": document.currency,
        "BT-72": document.issue_date,
        "BG-4": _party(seller.legal_name or "-", seller.country, line1=seller.address_line1, line2=None, postcode=seller.postal_code,
                       city=seller.city, vat_number=seller.vat_number, siren=seller.siren),  # fmt: skip
        "BG-7": _party(buyer.name or "-", buyer.country, line1=buyer.address_line1, line2=buyer.address_line2, postcode=buyer.postal_code,
                       city=buyer.city, vat_number=buyer.vat_number, siren=buyer.siren, email=buyer.email),  # fmt: skip
        "BG-23": breakdown,
        "BG-25": xml_lines,
        "BT-106": _amount(document.net_total, exponent),
        "BT-109": _amount(document.net_total, exponent),
        "BT-110": _amount(document.tax_total, exponent),
        "BT-112": _amount(document.gross_total, exponent),
        # The document as issued: later payments and credit notes never change it (BR-CO-16).
        "BT-115": _amount(document.gross_total, exponent),
    }
    if document.due_date is not None:
        data["BT-9"] = document.due_date
    if payment_terms:
        data["BT-20"] = payment_terms
    if seller.iban and document.kind is models.DocumentKind.INVOICE:
        data["BT-81"] = "58"  # SEPA credit transfer
        data["BT-84"] = seller.iban
    if preceding is not None:
        data["BG-3"] = [{"BT-25": preceding[0], "BT-26": preceding[1]}]
    result = generate_xml(data, flavor="factur-x", level="en16931", check_xsd=True, check_schematron=False)
    assert isinstance(result, bytes)
    return result


def embed(pdf: bytes, xml: bytes, *, title: str, author: str) -> bytes:
    """The PDF/A-3 ``pdf`` with the Factur-X ``xml`` embedded (``factur-x.xml``, relationship Data)."""
    from facturx import generate_from_binary

    metadata = {"author": author, "keywords": "Factur-X, Invoice", "title": title, "subject": title}
    result = generate_from_binary(pdf, xml, flavor="factur-x", level="en16931", check_xsd=False, pdf_metadata=metadata, lang="fr-FR")
    assert isinstance(result, bytes)
    return result
