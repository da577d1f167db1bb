"""Fiche's built-in domain plugins; each sub-package registers its own hooks."""
