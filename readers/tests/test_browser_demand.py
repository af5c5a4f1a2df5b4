"""In a real browser: a reader on a phone searches the catalogue for a title the county does not
hold; the county librarian then finds that search in the 读者需求 report, at the reader's service
point, and the other county's librarian does not."""

import pytest

from conftest import PHONE
from sharedloan.tests.browser_steps import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("browser_page", [PHONE], indirect=True)
def test_a_search_for_an_absent_title_appears_in_the_countys_demand_report(
    browser_page, catalogue, sui_librarian, zengdu_librarian
):
    page = browser_page
    page.goto("/catalogue/SUIXIAN/")
    page.select_option("#opac-home", "xiaolin")
    page.click(".opac-home button")
    for _time in range(2):
        page.fill("#opac-q", "三体")
        page.click(".opac-search button")
        page.wait_for_url("**/search/**")
        assert page.locator(".opac-results > li").count() == 0

    sign_in(page, "suixian", "/reports/demand/")
    queries = page.locator("#table-demand-queries tbody tr").first
    assert queries.locator("th").inner_text() == "三体"
    # Searched twice from one browser within half an hour: one reader's demand.
    assert queries.locator("td").last.inner_text() == "1"
    sites = page.locator("#table-demand-sites tbody tr", has_text="小林一中")
    assert sites.locator("td").last.inner_text() == "1"

    sign_in(page, "zengdu", "/reports/demand/")
    assert "三体" not in page.locator("main").inner_text()
