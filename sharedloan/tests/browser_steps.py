"""The sign-in every browser test uses: a fresh session, the login form, and the page the user
was sent to once the form is accepted."""

from urllib.parse import quote

# The password of the named actors of conftest.py; the demo accounts of seed_demo use
# DEMO_PASSWORD.
PASSWORD = "correct-horse-battery"
DEMO_PASSWORD = "shared-loan-demo"


def sign_in(page, username, next_url="/", password=PASSWORD):
    """Sign in as `username` and land on `next_url` (a path, with its query if any).

    The cookies of the previous user go first, so one tab can change users; the login button is
    found by its form, not its label, so the step works in either language."""
    page.context.clear_cookies()
    page.goto(f"/accounts/login/?next={quote(next_url, safe='/')}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form[action$='/accounts/login/'] button[type=submit]")
    if "/accounts/login/" in page.url:
        problem = page.locator(".message-error").all_inner_texts()
        raise AssertionError(f"{username} could not sign in: {problem}")
