"""Page requests clamp their inputs; pages know how many there are."""

from __future__ import annotations

import pytest

from aftersales.kit.pagination import MAX_PAGE_SIZE, Page, PageRequest


def test_defaults_are_first_page_of_twenty() -> None:
    request = PageRequest()
    assert (request.page, request.size, request.offset) == (1, 20, 0)


def test_offset_skips_the_earlier_pages() -> None:
    assert PageRequest(page=3, size=10).offset == 20


@pytest.mark.parametrize("page", [0, -1, -100])
def test_page_below_one_becomes_one(page: int) -> None:
    assert PageRequest(page=page).page == 1


@pytest.mark.parametrize(
    ("size", "expected"), [(0, 1), (-5, 1), (1, 1), (100, 100), (101, MAX_PAGE_SIZE), (10**6, 100)]
)
def test_size_is_clamped_between_one_and_the_maximum(size: int, expected: int) -> None:
    assert PageRequest(size=size).size == expected


@pytest.mark.parametrize(("total", "size", "pages"), [(0, 20, 1), (1, 20, 1), (20, 20, 1), (21, 20, 2), (100, 7, 15)])
def test_pages_rounds_up_and_is_at_least_one(total: int, size: int, pages: int) -> None:
    assert Page(items=[], total=total, request=PageRequest(size=size)).pages == pages


def test_has_next_only_before_the_last_page() -> None:
    assert Page(items=[], total=45, request=PageRequest(page=2, size=20)).has_next
    assert not Page(items=[], total=45, request=PageRequest(page=3, size=20)).has_next
    assert not Page(items=[], total=0, request=PageRequest()).has_next
