"""Customer documents ↔ `domain.customers` models, and the filters that find identities.

A customer document is the `Customer` model with `_id` for `id`, plus the bookkeeping fields a
merge leaves on the absorbed customer (`MERGE_FIELDS`, see `store.customers.merges`), which the
model does not carry.
"""

from __future__ import annotations

from domain.customers import Customer, Identity
from domain.errors import InvalidInputError
from store.mongo import Document, id_to_field

MERGE_FIELDS = ("merged_identities", "merging_into", "merge_moving", "enrollments_settled")
"""Bookkeeping fields of a merge, stored on the absorbed customer and not part of the model."""


def customer_from_doc(doc: Document) -> Customer:
    """The `Customer` a stored document holds (merge bookkeeping left out)."""
    data = id_to_field(doc)
    for name in MERGE_FIELDS:
        data.pop(name, None)
    return Customer.model_validate(data)


def customer_to_doc(customer: Customer) -> Document:
    """The document that stores `customer`."""
    doc = customer.model_dump(exclude={"id"})
    doc["_id"] = customer.id
    return doc


def identity_element(identity: Identity) -> Document:
    """`identity` as an element of a document's `identities` array."""
    return {"kind": identity.kind, "value": identity.value}


def identity_filter(identity: Identity, field: str = "identities") -> Document:
    """Documents whose array `field` holds `identity`."""
    # The plain equality terms let MongoDB use the partial unique index; $elemMatch makes the
    # kind and value belong to the same array element.
    return {
        f"{field}.kind": identity.kind,
        f"{field}.value": identity.value,
        field: {"$elemMatch": identity_element(identity)},
    }


def identity_lookup(identity: Identity) -> Document:
    """Customers holding `identity`, or absorbed ones whose merge is moving it
    (`store.customers.merges`, step 4)."""
    return {"$or": [identity_filter(identity), identity_filter(identity, "merge_moving")]}


def check_attribute_names(names: list[str], path: str) -> None:
    """`InvalidInputError` at `path` unless every name can be a field of `attributes` as is."""
    bad = [name for name in names if not name or "." in name or name.startswith("$")]
    if bad:
        raise InvalidInputError.single(
            path, f"attribute names cannot be empty, contain '.' or start with '$': {bad}"
        )
