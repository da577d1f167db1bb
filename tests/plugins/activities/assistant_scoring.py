"""Scoring the offline report assistant on the labelled answers of assistant_cases.json:
field accuracy over every (case, field) pair. A field is right when the value read equals
the expected one (numbers within 0.01; TEXT fields: filled when expected, "*"), or when it
is left unfilled and nothing was expected. Used by test_assistant.py and bench/assistant.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

from fiche.interop import AssistantField, AssistantRequest
from fiche.plugins.activities.services.extract import DYNAMIC, extract

__all__ = ["CASES", "Score", "load_cases", "score"]

CASES = Path(__file__).resolve().parent / "assistant_cases.json"


@dataclasses.dataclass
class Score:
    right: int = 0
    total: int = 0
    misses: list[str] = dataclasses.field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 0.0


def load_cases() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CASES.read_text())
    return data


def _fields(spec: list[list[Any]]) -> tuple[AssistantField, ...]:
    return tuple(AssistantField(key=key, label=label, type=kind, required=False, choices=tuple(choices), min_value=minimum) for key, label, kind, choices, minimum in spec)


def _same(expected: Any, got: Any) -> bool:
    if expected == "*":
        return isinstance(got, str) and bool(got.strip())
    if isinstance(expected, int | float) and not isinstance(expected, bool) and isinstance(got, int | float) and not isinstance(got, bool):
        return abs(expected - got) < 0.01
    return bool(expected == got)


def score(data: dict[str, Any], **only: str) -> dict[str, Score]:
    """Scores by group: ``all``, ``FORM``, ``DYNAMIC``, ``fr``, ``en``, and by field type."""
    reference = dt.datetime.fromisoformat(data["reference"])
    scores: dict[str, Score] = {}
    for number, case in enumerate(data["cases"]):
        if any(case.get(key) != value for key, value in only.items()):
            continue
        fields = _fields(data["forms"][case["form"]])
        answers = case["answers"] if case["mode"] == "FORM" else {DYNAMIC: case["text"]}
        got = {value.key: value.value for value in extract(AssistantRequest(fields=fields, answers=answers, reference=reference))}
        for field in fields:
            expected = case["expected"].get(field.key)
            right = field.key not in got if expected is None else field.key in got and _same(expected, got[field.key])
            for group in ("all", case["mode"], case["lang"], field.type):
                bucket = scores.setdefault(group, Score())
                bucket.total += 1
                bucket.right += right
            if not right:
                scores["all"].misses.append(f"case {number} ({case['mode']} {case['lang']}) {field.key}: expected {expected!r}, got {got.get(field.key)!r}")
    return scores
