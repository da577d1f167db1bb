"""PDF downloads: every document renders; issued invoices and credit notes are Factur-X
(EN 16931) whose XML the standard's schema accepts."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from facturx import get_xml_from_pdf, xml_check_xsd
from lxml import etree
from pypdf import PdfReader

from fiche.app import create_app
from fiche.context import AppState
from tests.plugins.billing.fixtures import customer, invoice, issue, line, quote, seller
from tests.support import TestOrg

INFO_SET = "mutation ($input: BillingInformationInput!) { billingInformationSet(input: $input) { errors { code } } }"
CREDIT = "mutation ($input: CreditNoteCreateInput!) { creditNoteCreate(input: $input) { document { id } errors { code } } }"
NS = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100", "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}


@pytest.fixture
async def client(state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(state.settings, state=state)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


async def _download(client: httpx.AsyncClient, org: TestOrg, document_id: str, as_: str = "admin") -> httpx.Response:
    return await client.get(f"/files/billing-documents/{document_id}", headers={"Authorization": f"Bearer {org.token(as_)}"})


async def test_an_issued_invoice_is_a_factur_x_pdf_with_a_valid_en16931_xml(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    await seller(org)
    customer_id = await customer(org, "Boulangerie Dupré")
    await org.ok(INFO_SET, {"input": {"customerId": customer_id, "addressLine1": "1 place Bellecour", "postalCode": "69002", "city": "Lyon", "vatNumber": "FR40303265045"}})
    lines = [line("Entretien chaudière", "1", "149", "10"), line("Main d'œuvre", "1.5", "58.5", "20", unit="h", discount="10"), line("Remise", "1", "-5", "20"), line("Formation", "1", "30", "0")]
    issued = await issue(org, (await invoice(org, customer_id, lines))["id"])
    # when
    response = await _download(client, org, issued["id"])
    # then the PDF reads like the invoice
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = reader.pages[0].extract_text()
    assert issued["number"] in text and "Boulangerie Dupré" in text and "Chauffage Martin SARL" in text
    assert "Conditions de paiement : à 30 jours" in text  # the terms in the document's language
    assert "factur-x.xml" in reader.attachments
    # and its XML is EN 16931 Factur-X, valid against the XSD shipped with factur-x, with the API's totals
    filename, xml = get_xml_from_pdf(response.content, check_xsd=False)
    assert filename == "factur-x.xml"
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    tree = etree.fromstring(xml)
    summation = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"
    assert tree.xpath(summation + "GrandTotalAmount/text()", namespaces=NS) == [issued["total"]]
    assert tree.xpath(summation + "TaxTotalAmount/text()", namespaces=NS) == [issued["taxTotal"]]
    assert tree.xpath("//rsm:ExchangedDocument/ram:ID/text()", namespaces=NS) == [issued["number"]]
    assert tree.xpath("//rsm:ExchangedDocument/ram:TypeCode/text()", namespaces=NS) == ["380"]
    breakdown = tree.xpath("//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CalculatedAmount/text()", namespaces=NS)
    assert sorted(breakdown) == sorted(v["amount"] for v in issued["vatBreakdown"])
    metadata = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert re.search(rb'pdfaid:part(="|>)3', metadata) and re.search(rb'pdfaid:conformance(="|>)B', metadata)


async def test_a_credit_note_is_factur_x_type_381_referring_to_its_invoice(org: TestOrg, client: httpx.AsyncClient) -> None:
    await seller(org)
    customer_id = await customer(org)
    issued = await issue(org, (await invoice(org, customer_id))["id"])
    draft = (await org.ok(CREDIT, {"input": {"invoiceId": issued["id"]}}))["creditNoteCreate"]["document"]["id"]
    credit = await issue(org, draft)
    response = await _download(client, org, credit["id"])
    _, xml = get_xml_from_pdf(response.content, check_xsd=False)
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    tree = etree.fromstring(xml)
    assert tree.xpath("//rsm:ExchangedDocument/ram:TypeCode/text()", namespaces=NS) == ["381"]
    assert tree.xpath("//ram:InvoiceReferencedDocument/ram:IssuerAssignedID/text()", namespaces=NS) == [issued["number"]]


async def test_quotes_and_drafts_are_plain_pdfs(org: TestOrg, client: httpx.AsyncClient) -> None:
    customer_id = await customer(org)
    sent = await issue(org, (await quote(org, customer_id, title="Rénovation <salle de bain>"))["id"])
    draft = await invoice(org, customer_id)
    quote_pdf = PdfReader(io.BytesIO((await _download(client, org, sent["id"])).content))
    draft_pdf = PdfReader(io.BytesIO((await _download(client, org, draft["id"])).content))
    assert "Devis" in quote_pdf.pages[0].extract_text() and "Rénovation <salle de bain>" in quote_pdf.pages[0].extract_text()
    assert quote_pdf.attachments == {} and draft_pdf.attachments == {}
    assert "BROUILLON" in draft_pdf.pages[0].extract_text()


async def test_downloads_are_authenticated_tenant_checked_and_not_for_technicians(org: TestOrg, other_org: TestOrg, client: httpx.AsyncClient) -> None:
    customer_id = await customer(org)
    draft = await invoice(org, customer_id)
    assert (await client.get(f"/files/billing-documents/{draft['id']}")).status_code == 401
    assert (await _download(client, other_org, draft["id"])).status_code == 404
    assert (await _download(client, org, draft["id"], as_="technician")).status_code == 404
    assert (await _download(client, org, "not-an-id")).status_code in (400, 404)


async def test_an_issued_invoice_keeps_the_buyer_it_was_issued_to(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given an invoice issued to a customer in Lyon, who then moves to Paris
    customer_id = await customer(org, "Boulangerie Dupré")
    await org.ok(INFO_SET, {"input": {"customerId": customer_id, "addressLine1": "1 place Bellecour", "postalCode": "69002", "city": "Lyon"}})
    issued = await issue(org, (await invoice(org, customer_id))["id"])
    await org.ok(INFO_SET, {"input": {"customerId": customer_id, "addressLine1": "5 rue de Rivoli", "postalCode": "75001", "city": "Paris"}})
    draft = await invoice(org, customer_id)
    # when
    issued_text = PdfReader(io.BytesIO((await _download(client, org, issued["id"])).content)).pages[0].extract_text()
    draft_text = PdfReader(io.BytesIO((await _download(client, org, draft["id"])).content)).pages[0].extract_text()
    # then
    assert "Bellecour" in issued_text and "Rivoli" not in issued_text
    assert "Rivoli" in draft_text
