"""Exact money: the rounding rule on awkward values, an independent recomputation of random
documents, the ExactDecimal scalar's parsing, and exact round trips through both databases."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fiche.plugins.billing.money import LineAmounts, compute_totals, currency_exponent, line_net, parse_decimal
from tests.plugins.billing.fixtures import customer, invoice, line
from tests.support import TestOrg

D = Decimal


def test_three_times_ten_cents_is_thirty_cents() -> None:
    assert line_net(D("3"), D("0.1"), D(0), 2) == D("0.30")
    totals = compute_totals([LineAmounts(D("0.1"), D("3"), D(0), D("20"))] * 3, 2)
    assert (totals.net, totals.tax, totals.gross) == (D("0.90"), D("0.18"), D("1.08"))


def test_a_third_of_an_hour_rounds_half_up_to_the_cent() -> None:
    # 0.3333 h x 58.50 = 19.498050 -> 19.50; 0.125 x 0.1 = 0.0125 -> 0.01; 0.5 x 0.01 = 0.005 -> 0.01 (half up)
    assert line_net(D("0.3333"), D("58.50"), D(0), 2) == D("19.50")
    assert line_net(D("0.125"), D("0.1"), D(0), 2) == D("0.01")
    assert line_net(D("0.5"), D("0.01"), D(0), 2) == D("0.01")
    assert line_net(D("1"), D("-0.005"), D(0), 2) == D("-0.01")  # half away from zero for deductions


def test_vat_is_computed_per_rate_on_the_rate_base_not_per_line() -> None:
    # Three lines of 0.05 at 20 %: per-line VAT would be 3 x round(0.01) = 0.03; on the base 0.15 it is 0.03 too,
    # but seven lines of 0.07 at 5.5 % give round(0.49 x 5.5 %) = 0.03, where per line it would be 7 x 0.00 = 0.
    lines = [LineAmounts(D(1), D("0.07"), D(0), D("5.5"))] * 7 + [LineAmounts(D(1), D("10"), D(0), D("10"))] + [
        LineAmounts(D("2"), D("19.99"), D("15"), D("20"))
    ]
    totals = compute_totals(lines, 2)
    assert [(v.rate, v.base, v.amount) for v in totals.vat] == [
        (D("5.5"), D("0.49"), D("0.03")),
        (D("10"), D("10.00"), D("1.00")),
        (D("20"), D("33.98"), D("6.80")),  # 2 x 19.99 x 0.85 = 33.983 -> 33.98; 20 % = 6.796 -> 6.80
    ]
    assert (totals.net, totals.tax, totals.gross) == (D("44.47"), D("7.83"), D("52.30"))


def test_the_minor_unit_comes_from_iso_4217() -> None:
    assert [currency_exponent(code) for code in ("EUR", "JPY", "KWD")] == [2, 0, 3]
    assert compute_totals([LineAmounts(D("1"), D("100.5"), D(0), D("10"))], 0).gross == D("111")  # 101 + 10.1 -> 10


def _reference(lines: list[tuple[Fraction, Fraction, Fraction, Fraction]], exponent: int) -> tuple[Fraction, Fraction]:
    """The rule recomputed with fractions and integer arithmetic, independently of Decimal."""
    unit = Fraction(1, 10**exponent)

    def half_up(value: Fraction) -> Fraction:
        steps = value / unit
        sign = -1 if steps < 0 else 1
        return sign * ((abs(steps) * 2 + 1) // 2) * unit

    bases: dict[Fraction, Fraction] = {}
    net = Fraction(0)
    for quantity, price, discount, rate in lines:
        amount = half_up(quantity * price * (100 - discount) / 100)
        net += amount
        bases[rate] = bases.get(rate, Fraction(0)) + amount
    tax = sum((half_up(base * rate / 100) for rate, base in bases.items()), Fraction(0))
    return net, tax


def _decimals(places: int, low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n).scaleb(-places))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            _decimals(4, 1, 10**8),
            _decimals(4, -(10**7), 10**9),
            _decimals(2, 0, 10_000),
            st.sampled_from([D("0"), D("2.1"), D("5.5"), D("10"), D("20")]),
        ),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from([0, 2, 3]),
)
def test_totals_match_an_independent_recomputation(lines: list[tuple[Decimal, Decimal, Decimal, Decimal]], exponent: int) -> None:
    totals = compute_totals([LineAmounts(q, p, d, r) for q, p, d, r in lines], exponent)
    net, tax = _reference([(Fraction(q), Fraction(p), Fraction(d), Fraction(r)) for q, p, d, r in lines], exponent)
    assert Fraction(totals.net) == net
    assert Fraction(totals.tax) == tax
    assert Fraction(totals.gross) == net + tax
    assert totals.gross.as_tuple().exponent == -exponent


@pytest.mark.parametrize("text", ["0", "-12.50", "1000000000000.1234", "0.0000000001"])
def test_exact_decimals_are_parsed_digit_for_digit(text: str) -> None:
    assert format(parse_decimal(text), "f") == text


@pytest.mark.parametrize("value", [0.1, 12, "NaN", "Infinity", "1e3", "1,5", " 1", "+1", "0x10", "1" * 31, True, None])
def test_numbers_floats_and_exotic_spellings_are_refused(value: object) -> None:
    with pytest.raises(ValueError):
        parse_decimal(value)


async def test_a_json_number_is_refused_with_a_client_error(org: TestOrg) -> None:
    # given
    customer_id = await customer(org)
    query = "mutation ($input: InvoiceCreateInput!) { invoiceCreate(input: $input) { document { id } } }"
    # when
    result = await org.gql(query, {"input": {"customerId": customer_id, "lines": [{**line(), "unitPrice": 0.1}]}})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "JSON string" in result.errors[0]["message"]


async def test_a_float_literal_in_the_query_is_refused(org: TestOrg) -> None:
    customer_id = await customer(org)
    query = (
        'mutation { invoiceCreate(input: {customerId: "%s", lines: [{description: "x", quantity: "1", unitPrice: 0.1, vatRate: "20"}]}) '
        "{ document { id } } }" % customer_id
    )
    result = await org.gql(query)
    assert result.errors and result.data is None
    assert result.error_codes == ["GRAPHQL_VALIDATION_FAILED"]


@pytest.mark.parametrize("literal", ['"1e30"', '"NaN"', '"1,5"', "12"])
async def test_a_bad_decimal_literal_is_the_clients_mistake_not_a_server_error(org: TestOrg, literal: str) -> None:
    # Found by the fuzzer: a literal the scalar refuses was masked as INTERNAL_SERVER_ERROR.
    customer_id = await customer(org)
    query = (
        'mutation { invoiceCreate(input: {customerId: "%s", lines: [{description: "x", quantity: "1", unitPrice: "1", vatRate: "20", discount: %s}]}) '
        "{ document { id } } }" % (customer_id, literal)
    )
    result = await org.gql(query)
    assert result.data is None
    assert result.error_codes == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Unexpected error" not in result.errors[0]["message"]


async def test_amounts_round_trip_exactly_through_the_database(org: TestOrg) -> None:
    # given awkward values that a float would change
    customer_id = await customer(org)
    lines = [
        line(quantity="0.3333", unit_price="999999999999.9999", vat_rate="5.5", discount="33.33"),
        line(quantity="3", unit_price="0.1", vat_rate="20"),
        line(quantity="1", unit_price="-0.0001", vat_rate="10"),
    ]
    # when
    created = await invoice(org, customer_id, lines)
    read = await org.ok("query ($id: ID!) { node(id: $id) { ... on BillingDocument { lines { quantity unitPrice vatRate discount netAmount } netTotal total } } }", {"id": created["id"]})
    # then
    stored = read["node"]["lines"]
    assert [(l["quantity"], l["unitPrice"], l["vatRate"], l["discount"]) for l in stored] == [
        ("0.3333", "999999999999.9999", "5.5", "33.33"),
        ("3", "0.1", "20", "0"),
        ("1", "-0.0001", "10", "0"),
    ]
    expected = compute_totals([LineAmounts(D(l["quantity"]), D(l["unitPrice"]), D(l.get("discount", "0")), D(l["vatRate"])) for l in lines], 2)
    assert [l["netAmount"] for l in stored] == [str(amount) for amount in expected.lines]
    assert (read["node"]["netTotal"], read["node"]["total"]) == (str(expected.net), str(expected.gross))
    assert created["total"] == str(expected.gross)
