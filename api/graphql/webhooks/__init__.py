"""The tenant's webhook signing secret: whether it is set, and its rotation (admins only)."""
