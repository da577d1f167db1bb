"""Report forms (A4): checking a form's field definitions, and checking submitted values
against them. Every problem is reported at once, each with the path of its field.
Patterns are compiled and run by RE2 (see :mod:`fiche.plugins.activities.services.patterns`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fiche.errors import ErrorCode, UserError, UserErrors
from fiche.plugins.activities.enums import FieldType
from fiche.plugins.activities.services.patterns import AnswerTooLong, PatternError, compile_pattern, fullmatches

__all__ = ["FieldSpec", "MAX_FIELDS", "MAX_TEXT", "check_definitions", "check_value", "validate_values"]

KEY_RE = re.compile(r"^[a-z][a-zA-Z0-9_]{0,39}$")
MAX_FIELDS = 100
MAX_CHOICES = 50
MAX_TEXT = 10_000  # the longest text answer, whatever the field's own rules
RATING_RANGE = (1, 5)


@dataclasses.dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a form with its rules (from the admin's input or from the table)."""

    key: str
    label: str
    type: FieldType
    required: bool = False
    min_value: float | None = None
    max_value: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    choices: tuple[str, ...] = ()


def _invalid(message: str, *path: str) -> UserError:
    return UserError(code=ErrorCode.INVALID, message=message, path=list(path))


def _rules_given(spec: FieldSpec) -> set[str]:
    values = {
        "minValue": spec.min_value,
        "maxValue": spec.max_value,
        "minLength": spec.min_length,
        "maxLength": spec.max_length,
        "pattern": spec.pattern,
        "choices": spec.choices or None,
    }
    return {name for name, value in values.items() if value is not None}


ALLOWED_RULES: dict[FieldType, set[str]] = {
    FieldType.TEXT: {"minLength", "maxLength", "pattern"},
    FieldType.NUMBER: {"minValue", "maxValue"},
    FieldType.CHOICE: {"choices"},
    FieldType.BOOLEAN: set(),
    FieldType.DATE: set(),
    FieldType.RATING: set(),
}


def check_definitions(fields: Sequence[FieldSpec], path: tuple[str, ...] = ("input", "fields")) -> list[FieldSpec]:
    """The fields, cleaned (labels and choices stripped); UserErrors listing every problem."""
    errors: list[UserError] = []
    if not fields:
        errors.append(_invalid("A form needs at least one field.", *path))
    if len(fields) > MAX_FIELDS:
        errors.append(_invalid(f"A form has at most {MAX_FIELDS} fields.", *path))
    seen: set[str] = set()
    cleaned: list[FieldSpec] = []
    for index, spec in enumerate(fields):
        at = (*path, str(index))
        if not KEY_RE.match(spec.key):
            errors.append(_invalid("A key starts with a lowercase letter, then up to 39 letters, digits or `_`.", *at, "key"))
        elif spec.key in seen:
            errors.append(_invalid(f"Two fields use the key `{spec.key}`.", *at, "key"))
        seen.add(spec.key)
        label = spec.label.strip()
        if not label or len(label) > 120:
            errors.append(_invalid("A label has 1 to 120 characters.", *at, "label"))
        for rule in sorted(_rules_given(spec) - ALLOWED_RULES[spec.type]):
            errors.append(_invalid(f"A {spec.type.name} field takes no `{rule}` rule.", *at, rule))
        if spec.min_value is not None and spec.max_value is not None and spec.min_value > spec.max_value:
            errors.append(_invalid("The minimum is greater than the maximum.", *at, "minValue"))
        for name, value in (("minValue", spec.min_value), ("maxValue", spec.max_value)):
            if value is not None and not math.isfinite(value):
                errors.append(_invalid("The bound must be a finite number.", *at, name))
        if spec.min_length is not None and spec.min_length < 0:
            errors.append(_invalid("The minimum length cannot be negative.", *at, "minLength"))
        if spec.max_length is not None and not 1 <= spec.max_length <= MAX_TEXT:
            errors.append(_invalid(f"The maximum length is between 1 and {MAX_TEXT}.", *at, "maxLength"))
        if spec.min_length is not None and spec.max_length is not None and spec.min_length > spec.max_length:
            errors.append(_invalid("The minimum length is greater than the maximum length.", *at, "minLength"))
        if spec.pattern is not None:
            try:
                compile_pattern(spec.pattern)
            except PatternError as exc:
                errors.append(_invalid(str(exc), *at, "pattern"))
        choices = tuple(choice.strip() for choice in spec.choices)
        if spec.type is FieldType.CHOICE:
            if not choices:
                errors.append(_invalid("A CHOICE field needs choices.", *at, "choices"))
            elif len(choices) > MAX_CHOICES or any(not choice or len(choice) > 120 for choice in choices):
                errors.append(_invalid(f"Up to {MAX_CHOICES} choices of 1 to 120 characters.", *at, "choices"))
            elif len(set(choices)) != len(choices):
                errors.append(_invalid("The choices must be different.", *at, "choices"))
        cleaned.append(dataclasses.replace(spec, label=label, choices=choices))
    if errors:
        raise UserErrors(errors)
    return cleaned


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check(spec: FieldSpec, value: Any) -> tuple[Any, str | None]:
    """``(normalised value, None)`` or ``(None, what is wrong)``."""
    label = spec.label
    if spec.type is FieldType.TEXT:
        if not isinstance(value, str):
            return None, f"{label}: a text is expected."
        text = value.strip()
        limit = spec.max_length if spec.max_length is not None else MAX_TEXT
        if spec.min_length is not None and len(text) < spec.min_length:
            return None, f"{label}: at least {spec.min_length} characters."
        if len(text) > limit:
            return None, f"{label}: at most {limit} characters."
        if spec.pattern is not None:
            try:
                if not fullmatches(spec.pattern, text):
                    return None, f"{label}: the value does not have the expected format."
            except AnswerTooLong as exc:
                return None, f"{label}: {exc}"
            except PatternError:
                # A pattern saved before RE2 checked them may not compile: the answer is
                # refused (never accepted unchecked) and the message says why.
                return None, f"{label}: the form's format rule cannot be checked; an admin must change it."
        return text, None
    if spec.type is FieldType.NUMBER:
        if not _is_number(value):
            return None, f"{label}: a number is expected."
        if spec.min_value is not None and value < spec.min_value:
            return None, f"{label}: at least {spec.min_value:g}."
        if spec.max_value is not None and value > spec.max_value:
            return None, f"{label}: at most {spec.max_value:g}."
        return value, None
    if spec.type is FieldType.BOOLEAN:
        if not isinstance(value, bool):
            return None, f"{label}: true or false is expected."
        return value, None
    if spec.type is FieldType.CHOICE:
        if not isinstance(value, str) or value.strip() not in spec.choices:
            return None, f"{label}: one of {', '.join(spec.choices)} is expected."
        return value.strip(), None
    if spec.type is FieldType.DATE:
        try:
            if not isinstance(value, str) or len(value.strip()) != 10:
                raise ValueError
            return dt.date.fromisoformat(value.strip()).isoformat(), None
        except ValueError:
            return None, f"{label}: a date `YYYY-MM-DD` is expected."
    # RATING
    low, high = RATING_RANGE
    if not _is_number(value) or value != int(value) or not low <= value <= high:
        return None, f"{label}: a whole rating from {low} to {high} is expected."
    return int(value), None


def check_value(spec: FieldSpec, value: Any) -> tuple[Any, str | None]:
    """One value checked against its field: ``(normalised, None)`` or ``(None, problem)``."""
    if _missing(value):
        return None, "no value"
    return _check(spec, value)


def validate_values(
    fields: Sequence[FieldSpec], values: Any, path: tuple[str, ...] = ("input", "values")
) -> dict[str, Any]:
    """The submitted values checked and normalised, in the form's order; UserErrors with
    one INVALID error per field (path ``[*path, key]``) otherwise."""
    if not isinstance(values, Mapping):
        raise UserErrors.invalid("The values are an object of field keys to values.", *path)
    errors: list[UserError] = []
    known = {spec.key for spec in fields}
    for key in values:
        if key not in known:
            errors.append(_invalid(f"This form has no field `{key}`.", *path, str(key)))
    clean: dict[str, Any] = {}
    for spec in fields:
        value = values.get(spec.key)
        if _missing(value):
            if spec.required:
                errors.append(_invalid(f"{spec.label}: this field is required.", *path, spec.key))
            continue
        normalised, problem = _check(spec, value)
        if problem is not None:
            errors.append(_invalid(problem, *path, spec.key))
        else:
            clean[spec.key] = normalised
    if errors:
        raise UserErrors(errors)
    return clean
