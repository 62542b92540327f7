"""The _catalog endpoint with n/last pagination and Link headers (not in the official suite)."""

from __future__ import annotations

import pytest
from distribution_conformance.checks import describe
from distribution_conformance.content import image_manifest, random_suffix
from distribution_conformance.operations import push_image
from distribution_conformance.pagination import list_page, next_link, walk_pages

pytestmark = [pytest.mark.integration, pytest.mark.workflow("catalog")]

CATALOG = "/v2/_catalog"


@pytest.fixture(scope="module")
def all_repositories(client, namespace) -> list[str]:
    """Three repositories of our own, then the whole catalog as one page."""
    ours = [f"{namespace}/catalog-{random_suffix()}-{i}" for i in range(3)]
    for repo in ours:
        push_image(client, repo, image_manifest(), "latest")
    repositories, _ = list_page(client, CATALOG, "repositories")
    assert set(ours) <= set(repositories), repositories
    return repositories


def test_catalog_lists_pushed_repositories(all_repositories, namespace):
    assert any(repo.startswith(f"{namespace}/catalog-") for repo in all_repositories)


def test_catalog_is_in_lexical_order(all_repositories):
    assert all_repositories == sorted(all_repositories)


def test_catalog_n_limits_the_count_and_links_the_next_page(client, all_repositories):
    repositories, response = list_page(client, CATALOG, "repositories", {"n": "2"})
    assert repositories == all_repositories[:2], describe(response)
    assert next_link(response), describe(response)


def test_catalog_link_header_leads_through_every_repository(client, all_repositories):
    assert walk_pages(client, CATALOG, "repositories", 2) == all_repositories


def test_catalog_last_starts_after_the_given_repository(client, all_repositories):
    params = {"n": "2", "last": all_repositories[0]}
    repositories, _ = list_page(client, CATALOG, "repositories", params)
    assert repositories == all_repositories[1:3]
