"""Hooks (WeCom channel codes and group live codes) and the tenant's WeCom connection."""
