"""The PDF of a billing document, rendered by the gateway's HTML-to-PDF service.

Every document is a PDF/A-3b; an issued invoice or credit note also carries its Factur-X
XML (:mod:`fiche.plugins.billing.einvoice`). A draft prints with "BROUILLON" and no
number, and has no XML: it is not an invoice yet. An issued document prints as it was
issued: payments and credit notes recorded later are not on it."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from fiche.documents import RenderedDocument, escape, render_pdf
from fiche.plugins.billing import access, einvoice, models, profiles
from fiche.plugins.billing.money import LineAmounts, compute_totals, currency_exponent, quantize
from fiche.plugins.billing.seller import Seller, seller_of

if TYPE_CHECKING:
    from fiche.documents import DocumentRequest

__all__ = ["render_document"]

TITLES = {models.DocumentKind.QUOTE: "Devis", models.DocumentKind.INVOICE: "Facture", models.DocumentKind.CREDIT_NOTE: "Avoir"}
STYLE = """
@page { size: A4; margin: 18mm 15mm; }
body { font-family: sans-serif; font-size: 10pt; color: #222; }
h1 { font-size: 18pt; margin: 0 0 4mm; }
.parties { display: flex; justify-content: space-between; margin-bottom: 8mm; }
.party { width: 45%; }
table { width: 100%; border-collapse: collapse; margin-top: 4mm; }
th, td { border-bottom: 1px solid #ccc; padding: 2mm 1mm; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; white-space: nowrap; }
.totals { width: 50%; margin-left: 50%; }
.draft { color: #b00; font-weight: bold; }
.notes { margin-top: 6mm; white-space: pre-wrap; }
"""


def money(value: Decimal, currency: str) -> str:
    """``1 234,50 EUR``: French grouping and decimal comma."""
    text = format(quantize(value, currency_exponent(currency)), ",f").replace(",", "\u202f").replace(".", ",")
    return f"{text} {currency}"


def number(value: Decimal) -> str:
    return format(value.normalize(), "f").replace(".", ",") if value else "0"


async def render_document(request: DocumentRequest) -> RenderedDocument | None:
    if not access.can_read(request.viewer):
        return None
    session = request.session
    document = await session.scalar(select(models.BillingDocument).where(models.BillingDocument.id == request.pk))
    if document is None:
        return None
    line = models.BillingLine
    rows = (await session.execute(select(line).where(line.document_id == document.id).order_by(line.position))).scalars().all()
    lines = [einvoice.Line(r.description, r.quantity, r.unit, r.unit_price, r.vat_rate, r.discount, r.net_amount) for r in rows]
    profile = await profiles.profile_of(session, document.customer_id)
    # An issued document shows the buyer as billed; a draft, the customer as it is now.
    buyer = einvoice.Buyer(**(document.buyer or await profiles.buyer_of(request.pm, session, document.customer_id)))
    seller = await seller_of(session)
    preceding = None
    if document.kind is models.DocumentKind.CREDIT_NOTE and document.source_id is not None:
        source = await session.scalar(select(models.BillingDocument).where(models.BillingDocument.id == document.source_id))
        if source is not None and source.number and source.issue_date:
            preceding = (source.number, source.issue_date)
    terms = profiles.terms_of(profile).describe() if document.kind is models.DocumentKind.INVOICE else None
    page = _html(document, lines, seller, buyer, preceding, terms)
    name = document.number or f"brouillon-{document.id}"
    issued = document.status is not models.DocumentStatus.DRAFT and document.kind in einvoice.TYPE_CODES
    pdf = await render_pdf(page, variant="pdf/a-3b", identifier=f"fiche-billing-{document.id}-{name}".encode())
    if issued:
        xml = einvoice.cii_xml(document, lines, seller, buyer, preceding=preceding, payment_terms=terms)
        pdf = await asyncio.to_thread(einvoice.embed, pdf, xml, title=f"{TITLES[document.kind]} {name}", author=seller.legal_name)
    return RenderedDocument(f"{name}.pdf", pdf)


def _party(title: str, lines: list[str | None]) -> str:
    body = "<br>".join(escape(line) for line in lines if line)
    return f"<div class='party'><strong>{escape(title)}</strong><br>{body}</div>"


def _html(
    document: models.BillingDocument,
    lines: list[einvoice.Line],
    seller: Seller,
    buyer: einvoice.Buyer,
    preceding: tuple[str, object] | None,
    terms: str | None,
) -> str:
    currency = document.currency
    heading = f"{TITLES[document.kind]} {document.number}" if document.number else f"{TITLES[document.kind]} <span class='draft'>BROUILLON</span>"
    facts = [f"Date : {document.date.strftime('%d/%m/%Y')}"]
    if document.due_date:
        facts.append(f"Échéance : {document.due_date.strftime('%d/%m/%Y')}")
    if document.valid_until and document.kind is models.DocumentKind.QUOTE:
        facts.append(f"Valable jusqu'au : {document.valid_until.strftime('%d/%m/%Y')}")
    if preceding:
        facts.append(f"Avoir sur la facture {preceding[0]}")
    rows = "".join(
        f"<tr><td>{escape(line.description)}</td><td class='n'>{escape(number(line.quantity))} {escape(line.unit)}</td>"
        f"<td class='n'>{escape(money(line.unit_price, currency))}</td><td class='n'>{escape(number(line.discount))} %</td>"
        f"<td class='n'>{escape(number(line.vat_rate))} %</td><td class='n'>{escape(money(line.net_amount, currency))}</td></tr>"
        for line in lines
    )
    totals = compute_totals((LineAmounts(l.quantity, l.unit_price, l.discount, l.vat_rate) for l in lines), currency_exponent(currency))
    vat_rows = "".join(
        f"<tr><td>TVA {escape(number(item.rate))} % sur {escape(money(item.base, currency))}</td><td class='n'>{escape(money(item.amount, currency))}</td></tr>"
        for item in totals.vat
    )
    footer = []
    if terms:
        footer.append(f"Conditions de paiement : {terms}")
    if seller.iban and document.kind is models.DocumentKind.INVOICE:
        footer.append(f"IBAN : {seller.iban}")
    if document.kind is models.DocumentKind.INVOICE:
        footer.append("En cas de retard de paiement : pénalités au taux légal et indemnité forfaitaire de 40 € (art. L441-10 C. com.).")
    return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{escape(TITLES[document.kind])}</title><style>{STYLE}</style></head><body>
<h1>{heading}</h1>
<p>{'<br>'.join(escape(fact) for fact in facts)}</p>
<div class="parties">
{_party(seller.legal_name, [seller.address_line1, f"{seller.postal_code} {seller.city}".strip(), seller.country, seller.siren and f"SIREN {seller.siren}", seller.vat_number and f"TVA {seller.vat_number}"])}
{_party(buyer.name, [buyer.address_line1, buyer.address_line2, f"{buyer.postal_code or ''} {buyer.city or ''}".strip(), buyer.country, buyer.vat_number and f"TVA {buyer.vat_number}"])}
</div>
{f"<p><strong>{escape(document.title)}</strong></p>" if document.title else ""}
<table><thead><tr><th>Désignation</th><th class="n">Quantité</th><th class="n">Prix unitaire HT</th><th class="n">Remise</th><th class="n">TVA</th><th class="n">Total HT</th></tr></thead>
<tbody>{rows}</tbody></table>
<table class="totals"><tbody>
<tr><td>Total HT</td><td class="n">{escape(money(document.net_total, currency))}</td></tr>
{vat_rows}
<tr><th>Total TTC</th><th class="n">{escape(money(document.gross_total, currency))}</th></tr>
</tbody></table>
{f"<div class='notes'>{escape(document.notes)}</div>" if document.notes else ""}
<p class="notes">{'<br>'.join(escape(item) for item in footer)}</p>
</body></html>"""
