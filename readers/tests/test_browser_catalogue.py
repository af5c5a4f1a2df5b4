"""A reader on a 390 px phone finds a title by its pinyin initials and sees it on the shelf at
another service point; every page after the first stays under 100 KB transferred."""

import pytest

from conftest import PHONE

PAGE_BUDGET = 100 * 1024

TRANSFERRED = """() => {
  const entries = [...performance.getEntriesByType("navigation"),
                   ...performance.getEntriesByType("resource")];
  return entries.reduce((sum, entry) => sum + (entry.transferSize || 0), 0);
}"""


@pytest.mark.parametrize("browser_page", [PHONE], indirect=True)
def test_a_reader_on_a_phone_finds_a_title_by_initials_at_another_site(browser_page, catalogue):
    page = browser_page
    page.goto("/catalogue/SUIXIAN/")
    page.select_option("#opac-home", "central")
    page.click(".opac-home button")
    page.fill("#opac-q", "hlmrwl")
    page.click(".opac-search button")

    result = page.locator(".opac-results > li").first
    assert "红楼梦人物论" in result.inner_text()
    # At the reader's own site there is none; it is on the shelf elsewhere in the county.
    assert "全馆在架 1 册" in result.inner_text()
    assert page.evaluate(TRANSFERRED) < PAGE_BUDGET
    no_overflow = "() => document.scrollingElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_overflow)

    result.locator("a").click()
    page.wait_for_url("**/titles/**")
    copies = page.locator(".opac-copies > li")
    assert copies.count() == 1
    assert "小林一中" in copies.first.inner_text()
    assert "在架 1 册" in copies.first.inner_text()
    assert page.evaluate(TRANSFERRED) < PAGE_BUDGET
    assert page.evaluate(no_overflow)
