"""Customer insights (A6) with the offline provider: key issues from recent notes and
reports, pending topics (overdue tasks, missed follow-ups, unanswered mentions), an analysis
(trend, last contact, next planned, satisfaction, sales through ``customer_sales``); every
item linked to its source; a member's insights never draw on a note they cannot read;
deterministic; constant SQL; a plugin may answer ``customer_insights`` first."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from fiche import hookimpl
from fiche.interop import CustomerFacts, InsightItem, Insights, NoteDigest, ReportFact, SalesSummary
from fiche.plugins.activities.services.insights import offline_insights
from tests.plugins.activities.fixtures import activity, ago, customer, form, iso, link_forms, set_setting, type_ids
from tests.plugins.notes.support import add_note, add_task, team_id, user_id
from tests.support import TestOrg, count_statements

ITEM = "text category occurredAt sourceId source { id }"
INSIGHTS = f"""
query ($id: ID!) {{
  node(id: $id) {{
    ... on Customer {{ insights {{ provider keyIssues {{ {ITEM} }} pendingTopics {{ {ITEM} }} analysis {{ {ITEM} }} }} }}
  }}
}}
"""
ACTIVITY_INSIGHTS = "query ($id: ID!) { node(id: $id) { ... on Activity { insights { keyIssues { text sourceId } analysis { text } } } } }"
MANY = "query ($first: Int!) { customers(first: $first) { edges { node { insights { keyIssues { text } pendingTopics { text } analysis { text } } } } } }"
REPORT_SUBMIT = "mutation ($input: ReportSubmitInput!) { reportSubmit(input: $input) { report { id } errors { code message } } }"
VISIT_FORM = [
    {"key": "summary", "label": "Résumé de la visite", "type": "TEXT"},
    {"key": "satisfaction", "label": "Satisfaction du client", "type": "RATING"},
    {"key": "callback", "label": "Date de rappel", "type": "DATE"},
]


async def insights(org: TestOrg, customer_id: str, as_: str = "admin") -> dict[str, Any]:
    return dict((await org.ok(INSIGHTS, {"id": customer_id}, as_=as_))["node"]["insights"])


async def visit_report(org: TestOrg, location: str, values: dict[str, Any], days_ago: float = 1) -> tuple[str, str]:
    await set_setting(org, "activities.report_time_limit_hours", 0)  # reports on older visits
    types = await type_ids(org)
    form_id = await form(org, VISIT_FORM, name=f"Compte rendu {len(values)}-{days_ago}")
    await link_forms(org, types["visit"], [form_id])
    visit = await activity(org, location, starts_at=ago(days=days_ago), ends_at=ago(days=days_ago, minutes=-30))
    payload = (await org.ok(REPORT_SUBMIT, {"input": {"activityId": visit["id"], "formId": form_id, "values": values}}))["reportSubmit"]
    assert payload["errors"] == [], payload["errors"]
    return str(visit["id"]), str(payload["report"]["id"])


async def test_hook_customer_insights_key_issues_pending_topics_and_analysis_are_sourced(org: TestOrg) -> None:
    # given: a complaint in a note, a low rating and a passed callback date in a report, an overdue task
    location = await customer(org, "Boulangerie Dupré")
    complaint = await add_note(org, "Livraison encore en retard cette semaine. Le client attend un geste commercial.", targetId=location)
    visit_id, report_id = await visit_report(org, location, {"summary": "Client mécontent des délais.", "satisfaction": 2, "callback": (dt.date.today() - dt.timedelta(days=3)).isoformat()}, days_ago=10)
    overdue = await add_task(org, "Envoyer l'avoir", targetId=location, assigneeId=user_id(org, "member"), dueAt=iso(ago(days=2)))
    planned = await activity(org, location, type="planned_visit", starts_at=ago(days=-5))
    # when
    found = await insights(org, location)
    # then
    assert found["provider"] == "offline"
    issues = {(item["sourceId"], item["category"]): item["text"] for item in found["keyIssues"]}
    assert issues[(complaint["id"], "delivery")] == "Livraison encore en retard cette semaine."
    assert issues[(report_id, "relationship")] == "Client mécontent des délais."
    assert issues[(report_id, "satisfaction")].startswith("Satisfaction du client: 2/5")
    pending = [(item["category"], item["sourceId"]) for item in found["pendingTopics"]]
    assert pending[:2] == [("overdue task", overdue["id"]), ("missed follow-up", report_id)]
    analysis = {item["category"]: item for item in found["analysis"]}
    assert analysis["last contact"]["sourceId"] == visit_id and analysis["last contact"]["text"].startswith("Last contact 10 days ago: Visit on ")
    assert analysis["next activity"]["sourceId"] == planned["id"]
    assert analysis["satisfaction"]["text"].startswith("Average satisfaction 2.0/5 over 1 report")
    assert "sales" not in analysis  # nobody answers customer_sales here
    assert all(item["source"] == {"id": item["sourceId"]} for group in found.values() if isinstance(group, list) for item in group if item["sourceId"])


async def test_a_members_insights_never_draw_on_a_note_they_cannot_read(org: TestOrg) -> None:
    # given: a South team note (member is in North) and a managers-only task, both raising problems
    location = await customer(org)
    south = await add_note(org, "Problème de paiement, facture impayée depuis deux mois.", as_="member2", targetId=location, visibility="TEAM", teamId=team_id(org, "south"))
    managers = await add_task(org, "Litige en cours avec le client", as_="manager", targetId=location, visibility="MANAGERS", dueAt=iso(ago(days=1)))
    open_note = await add_note(org, "Réclamation sur un produit cassé.", targetId=location)
    # when
    member = await insights(org, location, as_="member")
    admin = await insights(org, location, as_="admin")
    # then
    cited = {item["sourceId"] for group in member.values() if isinstance(group, list) for item in group}
    text = " ".join(item["text"] for group in member.values() if isinstance(group, list) for item in group)
    assert open_note["id"] in cited and south["id"] not in cited and managers["id"] not in cited
    assert "impayée" not in text and "Litige" not in text
    admin_cited = {item["sourceId"] for group in admin.values() if isinstance(group, list) for item in group}
    assert {south["id"], managers["id"], open_note["id"]} <= admin_cited


async def test_hook_customer_notes_unanswered_mentions_are_pending_until_the_colleague_writes(org: TestOrg) -> None:
    # given
    location = await customer(org)
    question = await add_note(org, "@member peux-tu vérifier le tarif négocié ?", as_="manager", targetId=location)
    # when
    before = await insights(org, location)
    await add_note(org, "Tarif vérifié : 12 % de remise.", as_="member", targetId=location)
    after = await insights(org, location)
    # then
    assert [(item["category"], item["sourceId"]) for item in before["pendingTopics"]] == [("unanswered mention", question["id"])]
    assert "Manager Test asked Member Test on " in before["pendingTopics"][0]["text"]
    assert after["pendingTopics"] == []


async def test_activity_trend_compares_the_last_90_days_with_the_90_before(org: TestOrg) -> None:
    # given: 4 visits in the last 90 days, 1 in the 90 before
    location = await customer(org)
    for days in (5, 20, 40, 80, 120):
        await activity(org, location, starts_at=ago(days=days))
    # when
    analysis = (await insights(org, location))["analysis"]
    # then
    assert analysis[0] == {"text": "Activity is up: 4 in the last 90 days against 1 in the 90 days before.", "category": "trend", "occurredAt": None, "sourceId": None, "source": None}


async def test_insights_are_the_same_from_run_to_run_and_from_an_activity(org: TestOrg) -> None:
    # given
    location = await customer(org)
    await add_note(org, "Le client se plaint d'un défaut sur la dernière commande.", targetId=location)
    visit = await activity(org, location, starts_at=ago(days=1))
    # when
    first, second = await insights(org, location), await insights(org, location)
    through_activity = (await org.ok(ACTIVITY_INSIGHTS, {"id": visit["id"]}))["node"]["insights"]
    # then
    assert first == second
    assert through_activity["keyIssues"] == [{"text": item["text"], "sourceId": item["sourceId"]} for item in first["keyIssues"]]


async def test_a_customer_without_history_says_so(org: TestOrg) -> None:
    # when
    found = await insights(org, await customer(org))
    # then
    assert found["keyIssues"] == [] and found["pendingTopics"] == []
    assert [item["text"] for item in found["analysis"]] == ["No activity recorded in the last 12 months."]


async def test_another_organisations_customer_has_no_insights_for_you(org: TestOrg, other_org: TestOrg) -> None:
    # given
    theirs = await customer(other_org)
    await add_note(other_org, "Gros problème de qualité", targetId=theirs)
    # when
    data = await org.ok(INSIGHTS, {"id": theirs})
    # then
    assert data["node"] is None


async def _seed(org: TestOrg, count: int) -> None:
    for index in range(count):
        location = await customer(org, f"Client {index:02d}")
        await add_note(org, f"Retard de livraison numéro {index}.", targetId=location)
        await add_task(org, "Relancer", targetId=location, dueAt=iso(ago(days=1)), assigneeId=user_id(org, "member"))
        await activity(org, location, starts_at=ago(days=index + 1))


async def test_insights_of_a_page_of_customers_cost_a_constant_number_of_statements(org: TestOrg) -> None:
    # given
    await _seed(org, 12)
    # when
    with count_statements(org.state.db) as three:
        small = await org.ok(MANY, {"first": 3})
    with count_statements(org.state.db) as twelve:
        large = await org.ok(MANY, {"first": 12})
    # then
    assert len(small["customers"]["edges"]) == 3 and len(large["customers"]["edges"]) == 12
    assert all(edge["node"]["insights"]["keyIssues"] for edge in large["customers"]["edges"])
    assert three.count == twelve.count, (three.statements, twelve.statements)


class Billing:
    """A stand-in for the billing plugin."""

    @hookimpl
    def customer_sales(self, context: Any, customer_ids: list[int]) -> dict[int, SalesSummary]:
        return {
            pk: SalesSummary(currency="EUR", invoiced_last_12_months=Decimal("48250.50"), outstanding=Decimal("3200"), overdue=Decimal("1200"),
                             open_quotes=2, open_quotes_total=Decimal("9800"), last_invoice_at=dt.date(2026, 2, 27))
            for pk in customer_ids
        }  # fmt: skip


class TestWithSales:
    @pytest.fixture
    def plugins(self) -> list[tuple[str, Any]]:
        return [("billing-stand-in", Billing())]

    async def test_hook_customer_sales_figures_join_the_analysis(self, org: TestOrg) -> None:
        # given
        location = await customer(org)
        # when
        analysis = (await insights(org, location))["analysis"]
        # then
        sales = [item for item in analysis if item["category"] == "sales"]
        assert [item["text"] for item in sales] == [
            "Invoiced 48 250.50 EUR in the last 12 months (last invoice 2026-02-27); 3 200.00 EUR outstanding, of which 1 200.00 EUR overdue; "
            "2 open quotes worth 9 800.00 EUR."
        ]


class Engine:
    """A plugin that answers ``customer_insights`` before the built-in provider."""

    seen: list[CustomerFacts] = []

    @hookimpl(tryfirst=True)
    async def customer_insights(self, context: Any, facts: CustomerFacts) -> Insights:
        self.seen.append(facts)
        return Insights(key_issues=(), pending_topics=(), analysis=(InsightItem(text=f"{len(facts.notes)} notes read."),), provider="engine")


class TestAnotherEngine:
    @pytest.fixture
    def plugins(self) -> list[tuple[str, Any]]:
        return [("engine", Engine())]

    async def test_hook_customer_insights_a_plugin_may_answer_first_with_the_same_facts(self, org: TestOrg) -> None:
        # given
        location = await customer(org, "Chez Paul")
        await add_note(org, "Une note", targetId=location)
        await add_note(org, "Une note cachée", as_="member2", targetId=location, visibility="TEAM", teamId=team_id(org, "south"))
        # when
        found = await insights(org, location, as_="member")
        # then
        assert found["provider"] == "engine" and found["analysis"][0]["text"] == "1 notes read."
        facts = Engine.seen[-1]
        assert facts.customer_name == "Chez Paul" and [note.body for note in facts.notes] == ["Une note"]


def _facts(notes: tuple[NoteDigest, ...] = (), reports: tuple[ReportFact, ...] = ()) -> CustomerFacts:
    now = dt.datetime(2026, 3, 3, 9, tzinfo=dt.UTC)
    return CustomerFacts(customer_id=1, customer_name="X", now=now, activities=(), reports=reports, notes=notes, sales=None, user_names={})


def test_a_problem_is_filed_under_what_it_is_about() -> None:
    # given: "en retard" is a delivery word, but this sentence is about an invoice
    at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    notes = (
        NoteDigest(global_id="n1", customer_id=1, body="Blocage crédit jusqu'au paiement de la facture en retard.", created_at=at, author_id=None, is_task=False),
        NoteDigest(global_id="n2", customer_id=1, body="Les livraisons arrivent en retard.", created_at=at, author_id=None, is_task=False),
        NoteDigest(global_id="n3", customer_id=1, body="Tarifs négociés, tout va bien.", created_at=at, author_id=None, is_task=False),
    )
    # when
    issues = offline_insights(_facts(notes)).key_issues
    # then
    assert [(item.source_id, item.category) for item in issues] == [("n2", "delivery"), ("n1", "payment")]


def test_low_ratings_count_as_one_issue_the_latest() -> None:
    # given
    reports = tuple(
        ReportFact(global_id=f"r{day}", activity_id="a", form_name="CR", submitted_at=dt.datetime(2026, 2, day, tzinfo=dt.UTC), answers=(("Satisfaction", "RATING", 2),))
        for day in (1, 10, 20)
    )
    # when
    issues = offline_insights(_facts(reports=reports)).key_issues
    # then
    assert [(item.source_id, item.text) for item in issues] == [("r20", "Satisfaction: 2/5 in “CR” (2026-02-20) (3 low ratings in 6 months)")]


async def test_notes_written_on_the_customers_activities_count_for_the_customer(org: TestOrg) -> None:
    # given: a problem noted on a visit, a question to member on another visit, answered on the customer
    location = await customer(org)
    visit = await activity(org, location, starts_at=ago(days=3))
    other = await activity(org, location, starts_at=ago(days=2))
    on_visit = await add_note(org, "Le client signale une panne sur la machine livrée.", targetId=visit["id"])
    question = await add_note(org, "@member tu peux regarder ?", as_="manager", targetId=other["id"])
    elsewhere = await activity(org, await customer(org, "Autre"), starts_at=ago(days=1))
    await add_note(org, "Retard de paiement chez l'autre client.", targetId=elsewhere["id"])
    # when
    before = await insights(org, location)
    await add_note(org, "Regardé : c'est réglé.", as_="member", targetId=location)
    after = await insights(org, location)
    # then
    assert [(item["sourceId"], item["category"]) for item in before["keyIssues"]] == [(on_visit["id"], "quality")]
    assert [(item["category"], item["sourceId"]) for item in before["pendingTopics"]] == [("unanswered mention", question["id"])]
    assert after["pendingTopics"] == []
