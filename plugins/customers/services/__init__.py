"""Domain rules of customers, as plain async functions on a tenant-scoped session.

No GraphQL in here: the mutations decode IDs and build payloads, these modules decide.
Each raises :class:`fiche.errors.UserErrors` with the input path of the offending field.
"""
