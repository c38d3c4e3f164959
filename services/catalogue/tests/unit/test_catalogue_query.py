"""The catalogue query: limits, free-text words, and the store filter it becomes."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from cx_contracts.api import MAX_PAGE_SIZE

from cx_catalogue.adapters.hosts import catalogue_filter
from cx_catalogue.domain.catalogue_query import CatalogueQuery

pytestmark = pytest.mark.unit


def test_an_empty_query_lists_active_entries_twenty_at_a_time():
    query = CatalogueQuery()
    assert (query.page, query.page_size, query.skip) == (1, 20, 0)
    assert catalogue_filter(query) == {"status": "active"}


def test_filters_are_alternatives_within_and_all_required_across():
    query = CatalogueQuery(ecosystem=["digital", "health"], country=["DE"], format=["virtual"])
    assert catalogue_filter(query) == {
        "$and": [
            {"status": "active"},
            {"answers.ecosystems": {"$in": ["digital", "health"]}},
            {"organisation.country": {"$in": ["DE"]}},
            {"answers.formats": {"$in": ["virtual"]}},
        ]
    }


def test_free_text_words_are_case_folded_each_once_and_matched_literally():
    query = CatalogueQuery(q="  Living   LAB living .* ")
    assert query.words == ["living", "lab", ".*"]
    patterns = [c["search_text"]["$regex"] for c in catalogue_filter(query)["$and"] if "search_text" in c]
    assert patterns == ["living", "lab", re.escape(".*")]
    assert re.search(patterns[2], "anything at all") is None


def test_an_operator_in_free_text_stays_text():
    condition = catalogue_filter(CatalogueQuery(q='{"$gt":""}'))["$and"][1]
    assert list(condition) == ["search_text"] and isinstance(condition["search_text"]["$regex"], str)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"page_size": MAX_PAGE_SIZE + 1}, "page_size"),
        ({"page": 0}, "page"),
        ({"q": "a " * 11}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "lab\x00"}, "q"),
        ({"country": ["de"]}, "country"),
        ({"sort": "name"}, "sort"),
    ],
)
def test_out_of_bounds_queries_are_refused(values, field):
    with pytest.raises(ValidationError) as error:
        CatalogueQuery(**values)
    assert error.value.errors()[0]["loc"][0] == field


def test_a_blank_free_text_is_no_filter_and_pages_skip_what_came_before():
    query = CatalogueQuery(q="   ", page=3, page_size=25)
    assert query.q is None and query.words == [] and query.skip == 50
