"""The built-in providers of customer insights and of the report assistant, chosen by
``FICHE_AI_PROVIDER``: ``offline`` (the default: in-process, deterministic, nothing leaves
the process) or ``openai`` (an OpenAI-compatible chat-completions endpoint, see
:mod:`.llm`), which falls back to ``offline`` when it is not configured, times out, fails
or answers something unusable; the answer then says so in its ``provider``."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fiche.interop import AssistantDraft, AssistantRequest, CustomerFacts, ExtractedValue, InsightItem, Insights
from fiche.plugins.activities.services import extract, llm
from fiche.plugins.activities.services.insights import offline_insights

if TYPE_CHECKING:
    from fiche.settings import Settings

__all__ = ["PROVIDERS", "assistant", "insights"]

log = logging.getLogger("fiche.activities.ai")
PROVIDERS = ("offline", "openai")
MAX_ITEMS = 10
MAX_TEXT = 500

INSIGHTS_SYSTEM = (
    "You help a field sales representative prepare a customer visit. From the JSON facts given "
    "(activities, reports, notes, tasks, sales), answer ONE JSON object with three arrays: "
    "key_issues (problems and concerns), pending_topics (open or overdue tasks, unanswered questions, "
    "missed follow-ups) and analysis (a few sentences: activity trend, last contact, sales). Each element is "
    '{"text": "...", "category": "...", "source_id": "<the id of the fact it comes from, or null>"}. '
    "Use only the facts given; cite their ids exactly; at most 6 elements per array; write in English."
)
ASSISTANT_SYSTEM = (
    "You fill a visit report form from what the user said (French or English). Answer ONE JSON object "
    '{"values": [{"key": "<field key>", "value": <value>, "answer_key": "<key of the answer read>", '
    '"quote": "<the exact words of that answer the value comes from>", "confidence": <0 to 1>}]}. '
    "Values: NUMBER a number, BOOLEAN true/false, CHOICE one of the choices exactly, DATE YYYY-MM-DD "
    "(relative dates from the reference date), RATING an integer 1 to 5, TEXT a string. Leave out "
    "fields the user did not answer. Never invent."
)


def _fallback(reason: str) -> str:
    return f"offline (fallback: {reason})"


def _why_not(settings: Settings) -> str | None:
    if settings.ai_provider not in PROVIDERS:
        return f"FICHE_AI_PROVIDER={settings.ai_provider!r} is not one of {', '.join(PROVIDERS)}"
    return llm.configured(settings) if settings.ai_provider == "openai" else None


async def _remote(
    settings: Settings, system: str, payload: Callable[[], dict[str, Any]], read: Callable[[dict[str, Any]], Any], offline: Callable[[str], Any]
) -> Any:
    """``read`` of the endpoint's answer to ``payload()`` (built only when it is sent), or
    ``offline(provider)`` when anything fails."""
    problem = _why_not(settings)
    if problem is None and settings.ai_provider == "offline":
        return offline("offline")
    if problem is None:
        try:
            return read(await llm.chat_json(settings, system, json.dumps(payload(), ensure_ascii=False, default=str)))
        except (llm.ProviderError, ValueError, TypeError, KeyError) as exc:
            problem = str(exc) or type(exc).__name__
    log.warning("ai provider unavailable, answering offline: %s", problem)
    return offline(_fallback(problem))


# -- insights ------------------------------------------------------------------------------


def _facts_payload(facts: CustomerFacts) -> dict[str, Any]:
    return {
        "customer": facts.customer_name,
        "today": facts.now.date().isoformat(),
        "activities": [{"id": a.global_id, "type": a.type_name, "at": a.starts_at.isoformat(), "by": a.assignee_name, "notes": a.description} for a in facts.activities],
        "reports": [{"id": r.global_id, "form": r.form_name, "at": r.submitted_at.isoformat(), "answers": [{"question": q, "type": t, "answer": v} for q, t, v in r.answers]} for r in facts.reports],
        "notes": [
            {"id": n.global_id, "task": n.is_task, "at": n.created_at.isoformat(), "text": n.body, "due": n.due_at.isoformat() if n.due_at else None,
             "done": n.completed_at is not None, "unanswered_mentions": [facts.user_names.get(u, "") for u in n.unanswered_mentions]}
            for n in facts.notes
        ],  # fmt: skip
        "sales": None if facts.sales is None else {k: str(v) for k, v in vars_of(facts.sales).items()},
    }


def vars_of(value: Any) -> dict[str, Any]:
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


def _items(answer: dict[str, Any], name: str, known: set[str]) -> tuple[InsightItem, ...]:
    raw = answer.get(name, [])
    if not isinstance(raw, list):
        raise ValueError(f"`{name}` is not a list")
    items = []
    for entry in raw[:MAX_ITEMS]:
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str) or not entry["text"].strip():
            raise ValueError(f"an element of `{name}` has no text")
        source = entry.get("source_id")
        # A source the facts do not hold is dropped (a model may invent ids): never a link to something unread.
        items.append(InsightItem(text=entry["text"].strip()[:MAX_TEXT], source_id=source if source in known else None, category=str(entry.get("category") or "")[:40] or None))
    return tuple(items)


async def insights(settings: Settings, facts: CustomerFacts) -> Insights:
    def read(answer: dict[str, Any]) -> Insights:
        known = {a.global_id for a in facts.activities} | {r.global_id for r in facts.reports} | {n.global_id for n in facts.notes}
        return Insights(
            key_issues=_items(answer, "key_issues", known), pending_topics=_items(answer, "pending_topics", known),
            analysis=_items(answer, "analysis", known), provider=f"openai:{settings.ai_model}",
        )  # fmt: skip

    def offline(provider: str) -> Insights:
        found = offline_insights(facts)
        return Insights(found.key_issues, found.pending_topics, found.analysis, provider)

    result: Insights = await _remote(settings, INSIGHTS_SYSTEM, lambda: _facts_payload(facts), read, offline)
    return result


# -- report assistant ------------------------------------------------------------------------


def _request_payload(request: AssistantRequest) -> dict[str, Any]:
    return {
        "reference_date": request.reference.date().isoformat(),
        "fields": [{"key": f.key, "question": f.label, "type": f.type, "choices": list(f.choices)} for f in request.fields],
        "answers": dict(request.answers),
    }


def _span(answer: str, quote: str) -> tuple[int, int] | None:
    start = answer.find(quote) if quote else -1
    if start < 0:
        start = answer.lower().find(quote.lower()) if quote else -1
    return None if start < 0 else (start, start + len(quote))


async def assistant(settings: Settings, request: AssistantRequest) -> AssistantDraft:
    keys = {field.key for field in request.fields}

    def read(answer: dict[str, Any]) -> AssistantDraft:
        raw = answer.get("values")
        if not isinstance(raw, list):
            raise ValueError("`values` is not a list")
        values = []
        for entry in raw[: len(keys)]:
            if not isinstance(entry, dict) or entry.get("key") not in keys:
                continue
            named = entry.get("answer_key")
            answer_key: str = named if isinstance(named, str) and named in request.answers else next(iter(request.answers), "")
            text = request.answers.get(answer_key, "")
            span = _span(text, str(entry.get("quote") or ""))
            confidence = entry.get("confidence")
            confidence = float(confidence) if isinstance(confidence, int | float) and 0 <= confidence <= 1 else 0.5
            if span is None:  # the quote is not in what the user said: the whole answer, trusted less
                span, confidence = (0, len(text)), confidence / 2
            values.append(ExtractedValue(key=entry["key"], value=entry.get("value"), answer_key=answer_key, start=span[0], end=span[1], confidence=round(confidence, 2)))
        return AssistantDraft(values=tuple(values), provider=f"openai:{settings.ai_model}")

    def offline(provider: str) -> AssistantDraft:
        return AssistantDraft(values=tuple(extract.extract(request)), provider=provider)

    result: AssistantDraft = await _remote(settings, ASSISTANT_SYSTEM, lambda: _request_payload(request), read, offline)
    return result
