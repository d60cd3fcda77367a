"""Segment entry's pacing: the wait that keeps enrollments at most `perSecond` a second."""

from __future__ import annotations

import pytest

from api.services.segments import pace_delay


@pytest.mark.parametrize(
    ("elapsed", "started", "per_second", "delay"),
    [
        (0.0, 1, 2.0, 0.5),  # the first of two a second waits half a second
        (0.2, 4, 2.0, 1.8),  # four started in 0.2 s at two a second: 1.8 s to go
        (3.0, 4, 2.0, 0.0),  # already slower than the pace: no wait
        (0.0, 10, 1000.0, 0.01),
    ],
)
def test_the_pace_holds_enrollments_to_their_rate(
    elapsed: float, started: int, per_second: float, delay: float
) -> None:
    assert pace_delay(elapsed, started, per_second) == pytest.approx(delay)
