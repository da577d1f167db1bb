"""GraphQL types of custom fields: the definitions and the typed values of a customer."""

from __future__ import annotations

import datetime as dt

import strawberry

from fiche.plugins.customers.enums import CustomFieldType
from fiche.relay import Node

__all__ = [
    "BooleanCustomFieldValue",
    "ChoiceCustomFieldValue",
    "CustomField",
    "CustomFieldValue",
    "DateCustomFieldValue",
    "NumberCustomFieldValue",
    "TextCustomFieldValue",
]


@strawberry.type(description="A custom field of customers, defined by your organisation's admins.")
class CustomField(Node):
    key: str = strawberry.field(description="Stable identifier used in inputs, e.g. `signup_date`.")
    label: str = strawberry.field(description="Name shown to users, e.g. \"Date d'inscription\".")
    type: CustomFieldType = strawberry.field(description="The type of the field's values.")
    choices: list[str] = strawberry.field(description="The allowed values of a CHOICE field; empty for other types.")
    required: bool = strawberry.field(description="Whether every new customer must have a value.")
    position: int = strawberry.field(description="Display order among the custom fields (smallest first).")


@strawberry.interface(description="A customer's value of one custom field; the implementation says its type.")
class CustomFieldValue:
    field: CustomField = strawberry.field(description="The definition of the field.")


@strawberry.type(description="The value of a TEXT custom field.")
class TextCustomFieldValue(CustomFieldValue):
    text: str = strawberry.field(description="The text.")


@strawberry.type(description="The value of a NUMBER custom field.")
class NumberCustomFieldValue(CustomFieldValue):
    number: float = strawberry.field(description="The number.")


@strawberry.type(description="The value of a DATE custom field.")
class DateCustomFieldValue(CustomFieldValue):
    date: dt.date = strawberry.field(description="The date.")


@strawberry.type(description="The value of a BOOLEAN custom field.")
class BooleanCustomFieldValue(CustomFieldValue):
    boolean: bool = strawberry.field(description="Yes (true) or no (false).")


@strawberry.type(description="The value of a CHOICE custom field.")
class ChoiceCustomFieldValue(CustomFieldValue):
    choice: str = strawberry.field(description="The chosen value, one of the field's choices.")


VALUE_TYPES: tuple[type, ...] = (
    TextCustomFieldValue,
    NumberCustomFieldValue,
    DateCustomFieldValue,
    BooleanCustomFieldValue,
    ChoiceCustomFieldValue,
)
