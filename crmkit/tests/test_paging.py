"""Opaque keyset cursors for `?limit=&cursor=` lists (API.md "Lists")."""
import base64

import pytest

from crmkit import paging
from crmkit.errors import Invalid


@pytest.mark.parametrize("values", ["01a2b3", 42, ["2024-01-01", 17], {"id": "x", "at": "上海"}])
def test_a_cursor_round_trips_its_values(values):
    assert paging.decode(paging.encode(values)) == values


def test_a_cursor_is_url_safe_without_padding():
    cursor = paging.encode({"id": "a?b&c/d+e", "n": 1})

    assert "=" not in cursor
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize("cursor", [None, ""])
def test_no_cursor_means_the_first_page(cursor):
    assert paging.decode(cursor) is None


@pytest.mark.parametrize("cursor", ["!!!not base64!!!", base64.urlsafe_b64encode(b"{oops").decode(),
                                    base64.urlsafe_b64encode(b"\xff\xfe").decode(), "a", 12345])
def test_a_cursor_this_api_did_not_give_out_is_invalid_not_a_crash(cursor):
    with pytest.raises(Invalid) as caught:
        paging.decode(cursor)

    assert set(caught.value.details) == {"cursor"}


@pytest.mark.parametrize("given, expected", [(None, 50), ("", 50), (1, 1), ("10", 10), (200, 200)])
def test_a_limit_defaults_to_fifty_and_accepts_one_to_two_hundred(given, expected):
    assert paging.limit_of(given) == expected


@pytest.mark.parametrize("given", [0, -1, 201, "1000", "ten", "2.5", [3]])
def test_a_limit_out_of_bounds_or_not_a_number_is_invalid(given):
    with pytest.raises(Invalid) as caught:
        paging.limit_of(given)

    assert set(caught.value.details) == {"limit"}


def test_a_full_page_points_to_the_next_one_with_the_key_of_its_last_item():
    fetched = [{"id": "e"}, {"id": "d"}, {"id": "c"}]  # fetched with limit + 1

    result = paging.page(fetched, 2, key=lambda item: item["id"])

    assert result["items"] == [{"id": "e"}, {"id": "d"}]
    assert paging.decode(result["next_cursor"]) == "d"


@pytest.mark.parametrize("fetched", [[], [{"id": "a"}], [{"id": "b"}, {"id": "a"}]])
def test_the_last_page_has_no_next_cursor(fetched):
    result = paging.page(fetched, 2, key=lambda item: item["id"])

    assert result == {"items": fetched, "next_cursor": None}


def test_walking_the_cursors_visits_every_item_once_in_order():
    store = [f"{n:03d}" for n in range(23)]

    def fetch(limit, after):
        rows = [s for s in store if after is None or s > after]
        return rows[:limit + 1]

    seen, cursor = [], None
    for _ in range(10):
        result = paging.page(fetch(5, paging.decode(cursor)), 5, key=lambda s: s)
        seen += result["items"]
        cursor = result["next_cursor"]
        if cursor is None:
            break

    assert seen == store
