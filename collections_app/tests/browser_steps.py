"""Steps the collections browser tests share: sign in as a fixture account, scan into a page's
scan form and wait for its answer in the scan log."""


def sign_in(page, username):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("button[type=submit]:has-text('登录')")
    page.wait_for_url("**/")


def scan(page, code):
    """Scan `code` and return the scan log's newest line, once it has appeared."""
    before = page.locator(".scan-log li").count()
    page.fill("input[name=barcode]", code)
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.querySelectorAll('.scan-log li').length > {before}")
    return page.locator(".scan-log li").first
