"""Checking document and order lines given by a client: bounds on every number, so
hostile input (negative quantities, 10^30 prices, 1e-20 rates) is a field error with its
path, never a database error or an inexact total."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal

from fiche.errors import ErrorCode, UserError, UserErrors
from fiche.plugins.billing.money import MAX_DOCUMENT_TOTAL, MAX_QUANTITY, MAX_UNIT_PRICE, LineAmounts, Totals, compute_totals

__all__ = ["MAX_LINES", "LineDraft", "check_lines", "check_totals"]

MAX_LINES = 200
MAX_DESCRIPTION = 2000
MAX_UNIT = 20
QUANTITY_PLACES = 4
PRICE_PLACES = 4
RATE_PLACES = 2


@dataclasses.dataclass(frozen=True, slots=True)
class LineDraft:
    """A checked line."""

    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    vat_rate: Decimal
    discount: Decimal
    work_id: str | None = None

    @property
    def amounts(self) -> LineAmounts:
        return LineAmounts(self.quantity, self.unit_price, self.discount, self.vat_rate)


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _check_number(
    value: Decimal, path: list[str], label: str, *, low: Decimal, high: Decimal, places: int, low_open: bool = False
) -> UserError | None:
    if _places(value) > places:
        return UserError(code=ErrorCode.INVALID, message=f"{label} takes at most {places} decimal places.", path=path)
    if value < low or (low_open and value == low) or value > high:
        bound = f"more than {low}" if low_open else f"at least {low}"
        return UserError(code=ErrorCode.INVALID, message=f"{label} must be {bound} and at most {high}.", path=path)
    return None


def check_lines(lines: Sequence[object], *path: str, allow_empty: bool = True) -> list[LineDraft]:
    """Checked copies of the client's lines (objects with description, quantity, unit,
    unit_price, vat_rate, discount); every problem at once, each with its path."""
    if len(lines) > MAX_LINES:
        raise UserErrors.one(ErrorCode.LIMIT_EXCEEDED, f"A document has at most {MAX_LINES} lines.", *path)
    if not lines and not allow_empty:
        raise UserErrors.invalid("Give at least one line.", *path)
    errors: list[UserError] = []
    drafts: list[LineDraft] = []
    for index, line in enumerate(lines):
        at = [*path, str(index)]
        description = str(getattr(line, "description", "")).strip()
        unit = str(getattr(line, "unit", "") or "").strip()
        quantity: Decimal = getattr(line, "quantity")
        unit_price: Decimal = getattr(line, "unit_price")
        vat_rate: Decimal = getattr(line, "vat_rate")
        discount: Decimal = getattr(line, "discount", None) or Decimal(0)
        if not description:
            errors.append(UserError(code=ErrorCode.INVALID, message="A line needs a description.", path=[*at, "description"]))
        elif len(description) > MAX_DESCRIPTION:
            errors.append(UserError(code=ErrorCode.INVALID, message=f"A description has at most {MAX_DESCRIPTION} characters.", path=[*at, "description"]))
        if len(unit) > MAX_UNIT:
            errors.append(UserError(code=ErrorCode.INVALID, message=f"A unit has at most {MAX_UNIT} characters.", path=[*at, "unit"]))
        problems = (
            _check_number(quantity, [*at, "quantity"], "The quantity", low=Decimal(0), high=MAX_QUANTITY, places=QUANTITY_PLACES, low_open=True),
            _check_number(unit_price, [*at, "unitPrice"], "The unit price", low=-MAX_UNIT_PRICE, high=MAX_UNIT_PRICE, places=PRICE_PLACES),
            _check_number(vat_rate, [*at, "vatRate"], "The VAT rate (a percentage)", low=Decimal(0), high=Decimal(100), places=RATE_PLACES),
            _check_number(discount, [*at, "discount"], "The discount (a percentage)", low=Decimal(0), high=Decimal(100), places=RATE_PLACES),
        )
        errors.extend(problem for problem in problems if problem is not None)
        drafts.append(LineDraft(description, quantity, unit, unit_price, vat_rate, discount, getattr(line, "work_id", None)))
    if errors:
        raise UserErrors(errors)
    return drafts


def check_totals(drafts: Sequence[LineDraft], exponent: int, *path: str) -> Totals:
    """The totals of checked lines; INVALID when the document would be out of bounds."""
    totals = compute_totals((draft.amounts for draft in drafts), exponent)
    if abs(totals.gross) >= MAX_DOCUMENT_TOTAL or any(abs(net) >= MAX_DOCUMENT_TOTAL for net in totals.lines):
        raise UserErrors.invalid(f"A document's amounts must stay below {MAX_DOCUMENT_TOTAL}.", *path)
    if totals.gross < 0:
        raise UserErrors.invalid("A document's total cannot be negative: make a credit note instead.", *path)
    return totals
