"""GraphQL enums of the customers plugin, each value described, mapped to the model enums
by member name."""

from __future__ import annotations

import enum

import strawberry

__all__ = [
    "ContactRole",
    "CustomFieldType",
    "CustomerKind",
    "CustomerSortField",
    "RelationKind",
]


@strawberry.enum(description="Whether a customer is a private person or a company.")
class CustomerKind(enum.Enum):
    INDIVIDUAL = strawberry.enum_value("INDIVIDUAL", description="A private person, named by first and last name.")
    PROFESSIONAL = strawberry.enum_value("PROFESSIONAL", description="A company or organisation, named by its company name.")


@strawberry.enum(description="The usual roles of a contact; OTHER when the role is free text.")
class ContactRole(enum.Enum):
    BUYER = strawberry.enum_value("BUYER", description="Places orders and negotiates prices.")
    OWNER = strawberry.enum_value("OWNER", description="Decides on large purchases.")
    MANAGER = strawberry.enum_value("MANAGER", description="Day-to-day operations contact.")
    ACCOUNTING = strawberry.enum_value("ACCOUNTING", description="Handles payments and invoices.")
    RECEPTION = strawberry.enum_value("RECEPTION", description="Coordinates deliveries and visits.")
    OTHER = strawberry.enum_value("OTHER", description="Another role, given as free text in `role`.")


@strawberry.enum(description="How a customer is linked to a related customer.")
class RelationKind(enum.Enum):
    PARTNER = strawberry.enum_value("PARTNER", description="The related customer is a business partner.")
    SUPPLIER = strawberry.enum_value("SUPPLIER", description="The related customer supplies this customer.")
    CONTRACTOR = strawberry.enum_value("CONTRACTOR", description="The related customer works as a contractor for this customer.")
    PRESCRIBER = strawberry.enum_value("PRESCRIBER", description="The related customer recommends or prescribes this customer.")
    SAME_GROUP = strawberry.enum_value("SAME_GROUP", description="Both customers belong to the same group of companies.")
    OTHER = strawberry.enum_value("OTHER", description="Another kind of link, explained in the relation's note.")


@strawberry.enum(description="The type of a custom field, which decides the type of its values.")
class CustomFieldType(enum.Enum):
    TEXT = strawberry.enum_value("TEXT", description="Free text (set `text`).")
    NUMBER = strawberry.enum_value("NUMBER", description="A number (set `number`).")
    DATE = strawberry.enum_value("DATE", description="A calendar date (set `date`).")
    BOOLEAN = strawberry.enum_value("BOOLEAN", description="Yes or no (set `boolean`).")
    CHOICE = strawberry.enum_value("CHOICE", description="One of the field's choices (set `choice`).")


@strawberry.enum(description="What the customer list is sorted by (the ID breaks ties).")
class CustomerSortField(enum.Enum):
    NAME = strawberry.enum_value("NAME", description="Display name, ignoring case and accents.")
    REFERENCE = strawberry.enum_value("REFERENCE", description="Customer reference.")
    CREATED_AT = strawberry.enum_value("CREATED_AT", description="When the customer was created.")
    UPDATED_AT = strawberry.enum_value("UPDATED_AT", description="When the customer was last changed.")
