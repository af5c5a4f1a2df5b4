"""Steps the collections browser tests share: sign in as a fixture account, scan into a page's
scan form and wait for its answer in the scan log."""

from sharedloan.tests.browser_steps import sign_in

__all__ = ["scan", "sign_in"]


def scan(page, code):
    """Scan `code` and return the scan log's newest line, once it has appeared."""
    before = page.locator(".scan-log li").count()
    page.fill("input[name=barcode]", code)
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.querySelectorAll('.scan-log li').length > {before}")
    return page.locator(".scan-log li").first
