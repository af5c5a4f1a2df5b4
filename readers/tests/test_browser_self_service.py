"""Self-service borrowing in a real browser on a 390 px phone: the reader borrows by typed
barcode at a site whose poster they scanned; the camera path reads a barcode generated here
(python-barcode), both through the vendored decoder on an image and through Chromium's fake
camera playing a video of it; a site with self-service off offers nothing."""

import base64
import io
import os

import pytest
from barcode import EAN13, Code128
from barcode.writer import ImageWriter
from django.urls import reverse
from PIL import Image

from circulation.models import Loan
from circulation.services.patrons import patron_set_pin
from conftest import BROWSER_ARGS, CHROMIUM, PHONE, watch_page, without_eval
from readers import services

NO_OVERFLOW = "() => document.scrollingElement.scrollWidth <= window.innerWidth"
PAGE_BUDGET = 100 * 1024
TRANSFERRED = """() => {
  const entries = [...performance.getEntriesByType("navigation"),
                   ...performance.getEntriesByType("resource")];
  return entries.reduce((sum, entry) => sum + (entry.transferSize || 0), 0);
}"""


def barcode_png(code: str, kind=Code128) -> bytes:
    out = io.BytesIO()
    kind(code, writer=ImageWriter()).write(
        out, options={"module_width": 0.4, "module_height": 12, "quiet_zone": 6, "dpi": 200}
    )
    return out.getvalue()


def sign_in_reader(page, next_path):
    page.goto(next_path)
    page.wait_for_url("**/sign-in/**")
    page.fill("#id_card_number", "SX900001")
    page.fill("#id_pin", "2468")
    page.click(".reader-form button")
    page.wait_for_url(f"**{next_path}")


@pytest.fixture
def open_point(catalogue, reader, sui_librarian):
    patron_set_pin(user=sui_librarian, patron=reader, pin="2468")
    return services.self_service_set(user=sui_librarian, site=catalogue.xiaolin, enabled=True)


def poster_path(point):
    return reverse("readers:self-service", args=["SUIXIAN", services.poster_token(point)])


@pytest.mark.parametrize("browser_page", [PHONE], indirect=True)
def test_a_reader_borrows_by_typed_barcode_at_a_self_service_site(
    browser_page, catalogue, reader, open_point
):
    page = browser_page
    sign_in_reader(page, poster_path(open_point))
    assert "小林一中" in page.locator(".reader-self-service-head").inner_text()
    assert page.evaluate(NO_OVERFLOW)
    # The camera is offered beside the typed entry (Chromium has the API).
    assert page.locator(".reader-camera-start").is_visible()

    page.fill("input[name=barcode]", "SX00000005")  # on the central library's shelf
    page.click(".reader-self-service button[type=submit]")
    page.wait_for_selector(".reader-message.error")
    assert "不在本站" in page.locator(".reader-message").inner_text()

    page.fill("input[name=barcode]", "SX00000004")
    page.click(".reader-self-service button[type=submit]")
    page.wait_for_selector(".reader-message.success")
    assert "已借《活着》" in page.locator(".reader-message").inner_text()
    assert "活着" in page.locator(".reader-loans").inner_text()
    loan = Loan.objects.get(patron=reader)
    assert loan.site == catalogue.xiaolin
    assert page.evaluate(NO_OVERFLOW)
    # After the first visit the decoder comes from the browser's cache: the page stays light
    # on a slow network.
    assert page.evaluate(TRANSFERRED) < PAGE_BUDGET


@pytest.mark.parametrize("browser_page", [PHONE], indirect=True)
def test_the_vendored_decoder_reads_generated_barcodes(browser_page, catalogue, open_point):
    page = browser_page
    sign_in_reader(page, poster_path(open_point))
    page.wait_for_function("() => window.sharedloanSelfService !== undefined")
    decode = """async (source) => {
      const image = new Image();
      image.src = source;
      await image.decode();
      return window.sharedloanSelfService.decodeImage(image);
    }"""
    for code, kind in (("SX00000004", Code128), ("9787506365437", EAN13)):
        source = "data:image/png;base64," + base64.b64encode(barcode_png(code, kind)).decode()
        assert page.evaluate(decode, source) == code
    # A picture without a barcode reads as nothing, not an error.
    blank = io.BytesIO()
    Image.new("RGB", (300, 120), "white").save(blank, "PNG")
    source = "data:image/png;base64," + base64.b64encode(blank.getvalue()).decode()
    assert page.evaluate(decode, source) is None


def y4m_of(png: bytes, path, width=640, height=480, frames=10):
    """A short video of the barcode on a white page, as Chromium's fake camera plays it."""
    picture = Image.new("L", (width, height), 255)
    code = Image.open(io.BytesIO(png)).convert("L")
    code.thumbnail((width - 80, height - 80))
    picture.paste(code, ((width - code.width) // 2, (height - code.height) // 2))
    chroma = bytes([128]) * ((width // 2) * (height // 2) * 2)
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _n in range(frames):
            out.write(b"FRAME\n" + picture.tobytes() + chroma)


@pytest.fixture
def camera_page(live_server, tmp_path):
    """A phone-sized tab whose camera films a barcode: the test writes the video first."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser test: {CHROMIUM} is missing")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    video = tmp_path / "camera.y4m"

    def open_page(png):
        y4m_of(png, video)
        args = [
            *BROWSER_ARGS,
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ]
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server.url)
        context.grant_permissions(["camera"])
        page = context.new_page()
        page.problems = watch_page(context, page)
        page.wait_for_function = without_eval(page.wait_for_function)
        page.set_default_timeout(15_000)
        opened.append((browser, page))
        return page

    opened = []
    with sync_playwright() as playwright:
        yield open_page
        for browser, page in opened:
            browser.close()
            if page.problems:
                pytest.fail("the page reported:\n" + "\n".join(page.problems), pytrace=False)


def test_the_camera_reads_the_volumes_barcode_and_borrows_it(
    camera_page, catalogue, reader, open_point
):
    page = camera_page(barcode_png("SX00000004"))
    sign_in_reader(page, poster_path(open_point))
    page.click(".reader-camera-start")
    # The decoder reads a frame, fills in the barcode and posts the form as typed entry does.
    page.wait_for_selector(".reader-message.success", timeout=30_000)
    assert "已借《活着》" in page.locator(".reader-message").inner_text()
    assert Loan.objects.get(patron=reader).item.barcode == "SX00000004"
    # The camera is off again once the barcode was read.
    assert not page.locator(".reader-camera-video").is_visible()


@pytest.mark.parametrize("browser_page", [PHONE], indirect=True)
def test_a_site_with_self_service_off_refuses_and_does_not_offer_it(
    browser_page, catalogue, reader, open_point, sui_librarian
):
    path = poster_path(open_point)
    services.self_service_set(user=sui_librarian, site=catalogue.xiaolin, enabled=False)
    page = browser_page
    page.goto(path)
    assert "不能自助借书" in page.locator("h1").inner_text()
    assert page.locator("input[name=barcode]").count() == 0
    assert page.locator(".reader-camera-start").count() == 0
    # Signed in, still nothing to borrow with.
    sign_in_reader(page, reverse("readers:account", args=["SUIXIAN"]))
    page.goto(path)
    assert page.locator("input[name=barcode]").count() == 0
    assert not Loan.objects.exists()
    # The closed poster answers 404, which the browser notes in its console: expected here.
    assert page.problems and all("404" in problem for problem in page.problems)
    page.problems.clear()
