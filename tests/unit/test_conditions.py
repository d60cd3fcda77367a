"""Property paths and conditions (pure): only ASCII digits index into lists."""

from __future__ import annotations

import pytest

from domain.conditions import PropertyCondition, all_match, lookup, property_matches

ITEMS = {"items": [{"sku": "A"}, {"sku": "B"}]}


def test_an_ascii_index_reaches_into_a_list() -> None:
    assert lookup(ITEMS, "items.1.sku") == "B"
    assert property_matches(PropertyCondition(path="items.0.sku", value="A"), ITEMS)


# superscript two, full-width zero, Arabic-Indic one, mathematical bold zero
@pytest.mark.parametrize("segment", ["\u00b2", "\uff10", "\u0661", "\U0001d7ce"])
def test_a_path_segment_of_other_digits_is_missing_not_a_crash(segment: str) -> None:
    assert segment.isdigit()  # what the old check trusted
    condition = PropertyCondition(path=f"items.{segment}.sku", op="exists")
    assert not property_matches(condition, ITEMS)
    assert all_match([PropertyCondition(path=f"items.{segment}", op="not_exists")], ITEMS)
