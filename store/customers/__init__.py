"""Customers: identity resolution, merges, search and profiles, one module each.

| concern | module |
|---|---|
| the repository services use: reads, merge bookkeeping, composed of the parts below | `repository.py` |
| resolving identities to the one customer they belong to | `resolution.py` |
| merging customers, rolled forward so a crash loses no identity | `merges.py` |
| searching and counting customers | `search.py` |
| tags, attributes, consents, first-touch hook | `profile.py` |
| documents ↔ `domain.customers` models, identity filters | `documents.py` |
"""

from store.customers.repository import CustomerRepository
from store.customers.search import CustomerSearch

__all__ = ["CustomerRepository", "CustomerSearch"]
