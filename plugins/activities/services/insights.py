"""The offline insights provider (A6): key issues, pending topics and an analysis from a
customer's facts, in-process and deterministic (the same facts always give the same
insights), every item linked to its source.

- Key issues: sentences of recent notes, reports and activity notes that raise a problem,
  found with a French and English lexicon of concerns grouped by theme (delivery, payment,
  quality, relationship, price), and low satisfaction ratings; repeated sentences are
  merged (newest kept, with how often they came up).
- Pending topics: open tasks (overdue first), follow-up dates given in reports that passed
  with no activity since, and mentions nobody answered.
- Analysis: activity trend (last 90 days against the 90 before), last contact, next planned
  activity, average satisfaction, and sales when a plugin answers ``customer_sales``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator

from fiche.interop import CustomerFacts, InsightItem, Insights, ReportFact
from fiche.text import fold

__all__ = ["ISSUE_THEMES", "MAX_ISSUES", "MAX_PENDING", "offline_insights", "quoted_notes"]

MAX_ISSUES = 6
MAX_PENDING = 8
ISSUE_WINDOW = dt.timedelta(days=180)
TREND_WINDOW = dt.timedelta(days=90)
EXCERPT = 160

# Word starts, matched on folded text (lowercase, no accents). French and English.
ISSUE_THEMES: dict[str, tuple[str, ...]] = {
    "payment": ("impaye", "blocage credit", "relance facture", "litige", "unpaid", "overdue invoice", "payment issue", "dispute", "credit hold"),
    "delivery": ("retard", "en retard", "livraison manquante", "rupture", "late deliver", "delay", "delayed", "backorder", "out of stock"),
    "quality": ("reclamation", "defaut", "defectu", "panne", "casse", "probleme", "non conforme", "complaint", "defect", "faulty", "broken", "problem", "issue"),
    "relationship": ("mecontent", "insatisf", "geste commercial", "concurren", "resilier", "resiliation", "unhappy", "dissatisf", "competitor", "cancel", "churn", "escalat"),
    "price": ("trop cher", "hausse de prix", "hausse des prix", "augmentation de prix", "too expensive", "price increase", "cheaper"),
}
# What a problem sentence is about, in order of precedence: "le problème de paiement" is a
# payment issue, "la facture en retard" too (not a delivery one).
TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("payment", ("paiement", "facture", "factur", "credit", "avoir", "payment", "invoice", "billing", "refund")),
    ("delivery", ("livraison", "livre", "expedition", "stock", "delivery", "deliveries", "shipping", "shipment")),
    ("price", ("prix", "tarif", "remise", "price", "pricing", "discount")),
    ("quality", ("produit", "qualite", "machine", "product", "quality")),
)
GENERIC = re.compile(r"probleme|problem|issue")
_TOPICS = [(theme, re.compile(r"\b(?:" + "|".join(words) + r")")) for theme, words in TOPICS]
_PATTERNS = [(theme, re.compile(r"\b(?:" + "|".join(re.escape(word) for word in words) + r")")) for theme, words in ISSUE_THEMES.items()]
_SENTENCE = re.compile(r"[^.!?;\n]+[.!?]?")
FOLLOW_UP_LABEL = re.compile(r"\b(?:rappel|relance|prochaine|suivi|next|follow|callback|call back)")


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


def _day(moment: dt.datetime | dt.date) -> str:
    return f"{moment:%Y-%m-%d}"


def _theme(folded: str) -> str | None:
    """The theme of a (folded) sentence that raises a problem (None when it raises none):
    the problem word's, unless the sentence is about money (a late invoice is a payment
    issue) or the word says nothing of the theme ("un problème de livraison")."""
    found = next(((theme, match) for theme, pattern in _PATTERNS if (match := pattern.search(folded))), None)
    if found is None:
        return None
    theme, match = found
    topics = [topic for topic, pattern in _TOPICS if pattern.search(folded)]
    if "payment" in topics:
        return "payment"
    if GENERIC.match(match.group()) and topics:
        return topics[0]
    return theme


def _issue_sentences(text: str) -> Iterator[tuple[str, str]]:
    folded = fold(text)
    if len(folded) != len(text):  # a character that folds to several: fold sentence by sentence
        pairs = ((match.group(), fold(match.group())) for match in _SENTENCE.finditer(text))
    else:
        pairs = ((match.group(), folded[match.start() : match.end()]) for match in _SENTENCE.finditer(text))
    for sentence, folded_sentence in pairs:
        theme = _theme(folded_sentence) if sentence.strip(" ;") else None
        if theme is not None:
            yield theme, sentence.strip(" ;")


def _texts(facts: CustomerFacts) -> Iterator[tuple[str, str, dt.datetime, str]]:
    """``(source id, kind, when, text)`` of everything written about the customer."""
    for note in facts.notes:
        yield note.global_id, "task" if note.is_task else "note", note.created_at, note.body
    for report in facts.reports:
        for label, kind, value in report.answers:
            if kind == "TEXT" and isinstance(value, str):
                yield report.global_id, "report", report.submitted_at, value
    for activity in facts.activities:
        if activity.description and activity.starts_at <= facts.now:
            yield activity.global_id, "activity", activity.starts_at, activity.description


def _key_issues(facts: CustomerFacts) -> list[InsightItem]:
    since = facts.now - ISSUE_WINDOW
    found: dict[str, tuple[InsightItem, int]] = {}  # folded sentence -> newest item, count
    candidates: list[InsightItem] = []
    for source_id, kind, when, text in _texts(facts):
        if when < since:
            continue
        for theme, sentence in _issue_sentences(text):
            candidates.append(InsightItem(text=_excerpt(sentence), source_id=source_id, occurred_at=when, category=theme))
            break  # one issue per source: its first problem sentence
    for report in facts.reports:
        if report.submitted_at < since:
            continue
        for label, kind, value in report.answers:
            if kind == "RATING" and isinstance(value, int) and value <= 2:
                text = f"{label}: {value}/5 in “{report.form_name}” ({_day(report.submitted_at)})"
                candidates.append(InsightItem(text=text, source_id=report.global_id, occurred_at=report.submitted_at, category="satisfaction"))
    for item in sorted(candidates, key=lambda item: (item.occurred_at, item.source_id or ""), reverse=True):
        # Low ratings count as one issue: the latest, with how many there were.
        key = fold(item.text) if item.category != "satisfaction" else "satisfaction"
        newest, count = found.get(key, (item, 0))
        found[key] = (newest, count + 1)
    issues = []
    for newest, count in found.values():
        if count > 1:
            repeated = f"{count} low ratings in 6 months" if newest.category == "satisfaction" else f"raised {count} times"
            newest = InsightItem(text=f"{newest.text.rstrip('.')} ({repeated})", source_id=newest.source_id, occurred_at=newest.occurred_at, category=newest.category)
        issues.append(newest)
    return issues[:MAX_ISSUES]


def _name(facts: CustomerFacts, user_id: int | None) -> str:
    return facts.user_names.get(user_id, "someone") if user_id is not None else "nobody"


def _open_tasks(facts: CustomerFacts) -> list[InsightItem]:
    tasks = [note for note in facts.notes if note.is_task and note.completed_at is None]
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    tasks.sort(key=lambda task: (task.due_at or far, task.created_at, task.global_id))
    items = []
    for task in tasks:
        who = _name(facts, task.assignee_id)
        if task.due_at is not None and task.due_at < facts.now:
            days = (facts.now - task.due_at).days
            text = f"Overdue by {days} day{'s' if days != 1 else ''} ({who}): {_excerpt(task.body)}"
            category = "overdue task"
        elif task.due_at is not None:
            text, category = f"Due {_day(task.due_at)} ({who}): {_excerpt(task.body)}", "open task"
        else:
            text, category = f"Open task ({who}): {_excerpt(task.body)}", "open task"
        items.append(InsightItem(text=text, source_id=task.global_id, occurred_at=task.due_at or task.created_at, category=category))
    return items


def _missed_follow_ups(facts: CustomerFacts) -> list[InsightItem]:
    """Follow-up dates given in reports (a DATE answer whose question speaks of a callback,
    a next visit, a follow-up) that passed with no activity since."""
    today = facts.now.date()
    contacts = sorted(activity.starts_at.date() for activity in facts.activities if activity.starts_at <= facts.now)
    items = []
    seen: set[str] = set()
    for report in facts.reports:
        for label, kind, value in report.answers:
            if kind != "DATE" or not isinstance(value, str) or not FOLLOW_UP_LABEL.search(fold(label)):
                continue
            try:
                due = dt.date.fromisoformat(value)
            except ValueError:
                continue
            if due >= today or any(day >= due for day in contacts) or value in seen:
                continue
            seen.add(value)
            text = f"{label} {value} (“{report.form_name}” of {_day(report.submitted_at)}): no activity since."
            items.append(InsightItem(text=text, source_id=report.global_id, occurred_at=report.submitted_at, category="missed follow-up"))
    return items


def _unanswered(facts: CustomerFacts) -> list[InsightItem]:
    items = []
    for note in facts.notes:
        if note.unanswered_mentions and (note.completed_at is None):
            names = ", ".join(_name(facts, user_id) for user_id in note.unanswered_mentions)
            text = f"{_name(facts, note.author_id)} asked {names} on {_day(note.created_at)}, no answer since: {_excerpt(note.body)}"
            items.append(InsightItem(text=text, source_id=note.global_id, occurred_at=note.created_at, category="unanswered mention"))
    return items


def _pending_topics(facts: CustomerFacts) -> list[InsightItem]:
    tasks = _open_tasks(facts)
    overdue = [item for item in tasks if item.category == "overdue task"]
    rest = [item for item in tasks if item.category != "overdue task"]
    return (overdue + _missed_follow_ups(facts) + _unanswered(facts) + rest)[:MAX_PENDING]


def _ratings(reports: Iterable[ReportFact]) -> list[tuple[ReportFact, int]]:
    return [(report, value) for report in reports for _, kind, value in report.answers if kind == "RATING" and isinstance(value, int)]


def _money(amount: object, currency: str) -> str:
    return f"{amount:,.2f} {currency}".replace(",", " ")


def _analysis(facts: CustomerFacts) -> list[InsightItem]:
    now = facts.now
    past = [activity for activity in facts.activities if activity.starts_at <= now]
    future = sorted((activity for activity in facts.activities if activity.starts_at > now), key=lambda activity: (activity.starts_at, activity.global_id))
    recent = sum(1 for activity in past if activity.starts_at > now - TREND_WINDOW)
    before = sum(1 for activity in past if now - 2 * TREND_WINDOW < activity.starts_at <= now - TREND_WINDOW)
    items: list[InsightItem] = []
    if recent or before:
        if recent > before * 1.25:
            trend = "up"
        elif recent < before * 0.75:
            trend = "down"
        else:
            trend = "steady"
        items.append(InsightItem(text=f"Activity is {trend}: {recent} in the last 90 days against {before} in the 90 days before.", category="trend"))
    if past:
        last = max(past, key=lambda activity: (activity.starts_at, activity.global_id))
        days = (now - last.starts_at).days
        by = f" by {last.assignee_name}" if last.assignee_name else ""
        when = "today" if days == 0 else f"{days} day{'s' if days != 1 else ''} ago"
        items.append(InsightItem(text=f"Last contact {when}: {last.type_name} on {_day(last.starts_at)}{by}.", source_id=last.global_id, occurred_at=last.starts_at, category="last contact"))
    else:
        items.append(InsightItem(text="No activity recorded in the last 12 months.", category="last contact"))
    if future:
        upcoming = future[0]
        by = f" ({upcoming.assignee_name})" if upcoming.assignee_name else ""
        items.append(InsightItem(text=f"Next planned: {upcoming.type_name} on {_day(upcoming.starts_at)}{by}.", source_id=upcoming.global_id, occurred_at=upcoming.starts_at, category="next activity"))
    ratings = _ratings(facts.reports)
    if ratings:
        average = sum(value for _, value in ratings) / len(ratings)
        latest_report, latest = ratings[0]
        text = f"Average satisfaction {average:.1f}/5 over {len(ratings)} report{'s' if len(ratings) != 1 else ''} (latest {latest}/5 on {_day(latest_report.submitted_at)})."
        items.append(InsightItem(text=text, source_id=latest_report.global_id, occurred_at=latest_report.submitted_at, category="satisfaction"))
    sales = facts.sales
    if sales is not None:
        text = f"Invoiced {_money(sales.invoiced_last_12_months, sales.currency)} in the last 12 months"
        if sales.last_invoice_at is not None:
            text += f" (last invoice {_day(sales.last_invoice_at)})"
        text += f"; {_money(sales.outstanding, sales.currency)} outstanding"
        if sales.overdue:
            text += f", of which {_money(sales.overdue, sales.currency)} overdue"
        if sales.open_quotes:
            text += f"; {sales.open_quotes} open quote{'s' if sales.open_quotes != 1 else ''} worth {_money(sales.open_quotes_total, sales.currency)}"
        items.append(InsightItem(text=text + ".", category="sales"))
    return items


def offline_insights(facts: CustomerFacts) -> Insights:
    return Insights(
        key_issues=tuple(_key_issues(facts)),
        pending_topics=tuple(_pending_topics(facts)),
        analysis=tuple(_analysis(facts)),
        provider="offline",
    )


def quoted_notes(insights: Insights) -> set[str]:
    """Source IDs an insights answer cites (for checks that only readable notes are cited)."""
    return {item.source_id for group in (insights.key_issues, insights.pending_topics, insights.analysis) for item in group if item.source_id}


