"""How many items each list of a customer returned whole (not as a connection) may hold.

The query cost counts these sizes (``fiche.cost.list_size``); creating, and merging two
customers, refuse to go past them (LIMIT_EXCEEDED), so the declared sizes are true.
"""

from __future__ import annotations

__all__ = ["MAX_ADDRESSES", "MAX_CUSTOM_FIELDS", "MAX_RELATIONS"]

MAX_ADDRESSES = 20  # per customer
MAX_RELATIONS = 50  # per customer, both directions
MAX_CUSTOM_FIELDS = 100  # definitions per organisation: a customer has at most one value of each
