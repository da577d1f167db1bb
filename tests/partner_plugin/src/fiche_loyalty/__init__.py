"""fiche-loyalty: a partner plugin, installed from its own distribution.

It owns loyalty cards (a table, a GraphQL type and node, a root query, a mutation), adds
``Customer.loyaltyCard`` and ``User.loyaltyBadge`` to other plugins' types, registers a
loader, a subject type (notes can be attached to a card) and a merge handler."""
