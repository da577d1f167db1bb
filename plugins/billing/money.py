"""Exact money: the ``ExactDecimal`` scalar, the database column type, the limits of
input values and the one rounding rule of every total.

The rule (documented in docs/billing.md): amounts are rounded half-up (ROUND_HALF_UP, "au
plus proche, 0,5 vers le haut") to the currency's minor unit (its ISO 4217 exponent: EUR 2,
JPY 0, KWD 3).

- line net amount = round(quantity × unit price × (1 − discount / 100));
- for each VAT rate, VAT = round(sum of the net amounts of the lines at that rate × rate / 100):
  EN 16931 computes the VAT of a category on its taxable base (BR-CO-17), which avoids the
  drift of summing rounded per-line VAT amounts;
- net total = sum of line net amounts; VAT total = sum of the per-rate VAT amounts;
  total = net total + VAT total. Every sum is of already rounded amounts, so it is exact.

Nothing here ever goes through ``float``.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, NewType, TypeAlias

import strawberry
from graphql import GraphQLError
from iso4217 import Currency
from sqlalchemy import Numeric, String, TypeDecorator

__all__ = [
    "ExactDecimal",
    "LineAmounts",
    "MAX_QUANTITY",
    "MAX_UNIT_PRICE",
    "Totals",
    "VatAmount",
    "compute_totals",
    "currency_exponent",
    "line_net",
    "parse_decimal",
    "quantize",
]

# A decimal written the plain way: optional sign, digits, optional fraction. No exponent,
# no NaN / Infinity, no thousands separators; at most 40 characters.
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]{0,29})(?:\.[0-9]{1,10})?")

MAX_QUANTITY = Decimal("1000000000")  # 10^9 units
MAX_UNIT_PRICE = Decimal("1000000000000")  # 10^12 in the document's currency
MAX_DOCUMENT_TOTAL = Decimal("1" + "0" * 15)  # the NUMERIC(24, 6) columns hold 10^18


def parse_decimal(value: object) -> Decimal:
    """The exact value of a decimal written as a JSON string, e.g. ``"12.50"``.

    A JSON number is refused: a client's JSON library may already have turned it into a
    binary float (0.1 is not 0.1), so only the text the user typed is exact."""
    if not isinstance(value, str):
        raise ValueError("An ExactDecimal is written as a JSON string, e.g. \"12.50\" (numbers are refused: floats are inexact).")
    if not _DECIMAL.fullmatch(value):
        raise ValueError(f"{value[:40]!r} is not a plain decimal number such as \"-12.50\".")
    return Decimal(value)


def _parse_value(value: object) -> Decimal:
    # A GraphQLError, like Strawberry's own scalars raise: the client's mistake, reported as
    # BAD_USER_INPUT with its message (a bare ValueError would be masked as a server error).
    try:
        return parse_decimal(value)
    except ValueError as exc:
        raise GraphQLError(str(exc)) from None


def _serialize(value: Decimal) -> str:
    # Plain notation whatever the exponent (str(Decimal("1E+3")) is "1E+3").
    return format(value, "f")


# Strawberry now prefers scalars declared in the schema's StrawberryConfig.scalar_map, which
# the gateway builds and a plugin cannot reach; the NewType form is still supported. Type
# checkers see a plain Decimal.
if TYPE_CHECKING:
    ExactDecimal: TypeAlias = Decimal
else:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ExactDecimal = strawberry.scalar(
            NewType("ExactDecimal", Decimal),
            name="ExactDecimal",
            description=(
                "An exact decimal number written as a JSON string in plain notation (`\"1234.50\"`, `\"-0.5\"`), "
                "never as a JSON number, which may have gone through a binary float. Amounts, quantities, rates."
            ),
            serialize=_serialize,
            parse_value=_parse_value,
        )


class NumericText(TypeDecorator[Decimal]):
    """An exact decimal column: NUMERIC(24, 6) on PostgreSQL, TEXT on SQLite.

    SQLite has no decimal type: a NUMERIC column converts "0.1" to a binary float, and
    SQLAlchemy's Numeric reads it back through ``float``. Stored as text, the value comes
    back digit for digit. Sums are made in Python on both databases, never in SQL."""

    impl = Numeric(24, 6)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(24, 6, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"an exact decimal column takes a finite Decimal, not {value!r}")
        return format(value, "f") if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        # Normalised, so both databases give the same digits (PostgreSQL pads to the scale).
        if isinstance(value, Decimal):
            return value.normalize()
        if isinstance(value, str):
            return Decimal(value).normalize()
        raise TypeError(f"an exact decimal column returned {type(value).__name__}")  # a float would be a bug

    @property
    def python_type(self) -> type:
        return Decimal


def currency_exponent(code: str) -> int:
    """Digits after the decimal point of the currency's minor unit (ISO 4217)."""
    try:
        exponent = Currency(code).exponent
    except ValueError as exc:
        raise ValueError(f"{code!r} is not an ISO 4217 currency") from exc
    return 0 if exponent is None else int(exponent)


def is_currency(code: str) -> bool:
    try:
        currency_exponent(code)
    except ValueError:
        return False
    return True


def quantize(value: Decimal, exponent: int) -> Decimal:
    """``value`` rounded half-up to ``exponent`` decimal places."""
    try:
        rounded = value.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:  # pragma: no cover - limits keep values far below the precision
        raise ValueError(f"{value} cannot be rounded") from exc
    return abs(rounded) if not rounded else rounded  # never "-0.00"


HUNDRED = Decimal(100)


def line_net(quantity: Decimal, unit_price: Decimal, discount: Decimal, exponent: int) -> Decimal:
    """A line's net amount: round(quantity × unit price × (1 − discount / 100))."""
    return quantize(quantity * unit_price * (HUNDRED - discount) / HUNDRED, exponent)


@dataclasses.dataclass(frozen=True, slots=True)
class LineAmounts:
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    vat_rate: Decimal


@dataclasses.dataclass(frozen=True, slots=True)
class VatAmount:
    """The VAT of one rate: its base (sum of the line net amounts) and its amount."""

    rate: Decimal
    base: Decimal
    amount: Decimal


@dataclasses.dataclass(frozen=True, slots=True)
class Totals:
    lines: tuple[Decimal, ...]
    vat: tuple[VatAmount, ...]
    net: Decimal
    tax: Decimal
    gross: Decimal


def compute_totals(lines: Iterable[LineAmounts], exponent: int) -> Totals:
    """Every amount of a document from its lines (see the module docstring for the rule)."""
    nets: list[Decimal] = []
    bases: dict[Decimal, Decimal] = {}
    for line in lines:
        net = line_net(line.quantity, line.unit_price, line.discount, exponent)
        nets.append(net)
        rate = line.vat_rate.normalize() if line.vat_rate else Decimal(0)
        bases[rate] = bases.get(rate, Decimal(0)) + net
    vat = tuple(
        VatAmount(rate=rate, base=base, amount=quantize(base * rate / HUNDRED, exponent)) for rate, base in sorted(bases.items())
    )
    net_total = sum(nets, Decimal(0))
    tax_total = sum((item.amount for item in vat), Decimal(0))
    zero = quantize(Decimal(0), exponent)
    return Totals(
        lines=tuple(nets),
        vat=vat,
        net=quantize(net_total, exponent) if nets else zero,
        tax=quantize(tax_total, exponent) if vat else zero,
        gross=quantize(net_total + tax_total, exponent) if nets else zero,
    )


def money(value: Decimal, currency: str) -> Decimal:
    """An amount as shown: exactly the currency's minor unit digits (``10.30``)."""
    return quantize(value, currency_exponent(currency))
