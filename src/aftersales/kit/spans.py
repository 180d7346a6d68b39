"""A set of non-overlapping text spans that answers "does this span overlap one taken?" in log time.

The extractors keep the first of overlapping matches; a list scanned for each new match costs the
square of the number of matches, which a text made of thousands of numbers turns into seconds.
"""

from __future__ import annotations

from bisect import bisect_right


class Taken:
    """Spans [start, end) that never overlap each other, kept sorted by start."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect_right(self._starts, start)
        if i and self._ends[i - 1] > start and self._starts[i - 1] < end:
            return True
        return i < len(self._starts) and self._starts[i] < end and start < self._ends[i]

    def add(self, start: int, end: int) -> bool:
        """Take the span unless it overlaps one already taken; whether it was taken."""
        if self.overlaps(start, end):
            return False
        i = bisect_right(self._starts, start)
        self._starts.insert(i, start)
        self._ends.insert(i, end)
        return True
