"""A client of any OpenAI-compatible chat-completions endpoint (``FICHE_AI_URL``,
``FICHE_AI_MODEL``, ``FICHE_AI_API_KEY``), asked for one JSON object, with a timeout
(``FICHE_AI_TIMEOUT_MS``). Any failure (network, timeout, HTTP status, not JSON) raises
:class:`ProviderError`, for the caller to fall back to the offline provider."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from fiche.settings import Settings

__all__ = ["ProviderError", "chat_json", "configured", "endpoint"]

# The most an answer may weigh: a draft or a few insights, never megabytes.
MAX_RESPONSE_BYTES = 256 * 1024


class ProviderError(Exception):
    """The endpoint did not give a usable answer."""


def configured(settings: Settings) -> str | None:
    """Why the OpenAI-compatible provider cannot be used, or None when it can."""
    if not settings.ai_url:
        return "FICHE_AI_URL is not set"
    if not settings.ai_model:
        return "FICHE_AI_MODEL is not set"
    return None


def endpoint(settings: Settings) -> str:
    """The chat-completions URL: ``FICHE_AI_URL`` itself, or its ``/chat/completions``."""
    url = settings.ai_url.rstrip("/")
    return url if url.endswith("/chat/completions") else f"{url}/chat/completions"


async def chat_json(settings: Settings, system: str, user: str) -> dict[str, Any]:
    """The JSON object the model answers to ``user`` under the ``system`` instructions."""
    headers = {"Content-Type": "application/json"}
    if settings.ai_api_key:
        headers["Authorization"] = f"Bearer {settings.ai_api_key}"
    body = {
        "model": settings.ai_model,
        "temperature": 0,
        "response_format": {"type": "json_object"},
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
    }
    try:
        async with httpx.AsyncClient(timeout=settings.ai_timeout_ms / 1000) as client:
            response = await client.post(endpoint(settings), headers=headers, json=body)
    except httpx.TimeoutException as exc:
        raise ProviderError(f"no answer within {settings.ai_timeout_ms} ms") from exc
    except httpx.HTTPError as exc:
        raise ProviderError(f"the endpoint could not be reached ({type(exc).__name__})") from exc
    if response.status_code != 200:
        raise ProviderError(f"the endpoint answered HTTP {response.status_code}")
    if len(response.content) > MAX_RESPONSE_BYTES:
        raise ProviderError("the answer is too large")
    try:
        content = response.json()["choices"][0]["message"]["content"]
        answer = json.loads(content)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ProviderError("the answer is not a chat completion holding a JSON object") from exc
    if not isinstance(answer, dict):
        raise ProviderError("the answer is not a JSON object")
    return answer
