"""``paymentRecord`` and ``billingInformationSet``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from fiche.relay import input_pk

from fiche.plugins.billing import access, documents, models, payments, profiles
from fiche.plugins.billing.inputs import BillingInformationInput, BillingInformationPayload, PaymentPayload, PaymentRecordInput
from fiche.plugins.billing.types import document_from_row, payment_from_row, profile_from_row

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["PaymentMutations"]


@strawberry.type
class PaymentMutations:
    @strawberry.mutation(description="Record a payment received on an issued invoice (admins and managers). A fully paid invoice becomes PAID.")
    async def payment_record(
        self, info: strawberry.Info, input: Annotated[PaymentRecordInput, strawberry.argument(description="The payment.")]
    ) -> PaymentPayload:
        context: OperationContext = info.context

        async def change() -> PaymentPayload:
            payment, invoice = await payments.record_payment(
                context,
                input.invoice_id,
                amount=input.amount,
                paid_on=input.paid_on,
                method=models.PaymentMethod[input.method.name],
                reference=input.reference,
            )
            row = _PaymentRow(payment, invoice.customer_id, invoice.currency)
            return PaymentPayload(payment=payment_from_row(row), invoice=document_from_row(invoice))

        return await context.mutate(change, PaymentPayload)

    @strawberry.mutation(description="Set a customer's billing information (admins, managers, members); every bad value is reported with its field.")
    async def billing_information_set(
        self, info: strawberry.Info, input: Annotated[BillingInformationInput, strawberry.argument(description="The information.")]
    ) -> BillingInformationPayload:
        context: OperationContext = info.context

        async def change() -> BillingInformationPayload:
            access.require_drafter(context)
            session = await context.session()
            customer = await documents.customer_pk(context, session, input.customer_id, "input", "customerId")
            address_id = input_pk(input.address_id, "Address", "input", "addressId") if input.address_id else None
            linked: dict[int, Any] = {}
            country = input.country
            if address_id is not None:
                # The address billed decides the country the VAT number must be of.
                linked[address_id] = await profiles.check_linked_address(context.pm, session, customer, address_id, "input", "addressId")
                country = country or linked[address_id].country
            draft = profiles.check_profile(
                address_id=address_id,
                address_line1=input.address_line1,
                address_line2=input.address_line2,
                postal_code=input.postal_code,
                city=input.city,
                country=country,
                vat_number=input.vat_number,
                siren=input.siren,
                siret=input.siret,
                terms=models.PaymentTermsKind[input.payment_terms.name],
                days=input.payment_days,
                email=input.email,
                currency=input.currency,
            )
            profile = await profiles.save_profile(session, customer, draft)
            return BillingInformationPayload(billing_information=profile_from_row(profile, linked))

        return await context.mutate(change, BillingInformationPayload)


class _PaymentRow:
    """A payment entity seen as a row of ``PAYMENT_COLUMNS`` (with its invoice's customer)."""

    def __init__(self, payment: models.Payment, customer_id: int, currency: str) -> None:
        self.id = payment.id
        self.document_id = payment.document_id
        self.paid_on = payment.paid_on
        self.amount = payment.amount
        self.method = payment.method
        self.reference = payment.reference
        self.created_at = payment.created_at
        self.customer_id = customer_id
        self.currency = currency
