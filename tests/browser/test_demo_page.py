"""The demo page in a real browser against the real stack: form -> intake -> SSE -> picture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.browser.conftest import READING_SENTENCES

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.browser]

RA_CENTERS = {"g", "throat", "spleen", "ajna", "heart"}
RA_CHANNELS = {"10-20", "10-57", "20-57", "23-43", "25-51"}
TIMEOUT_MS = 60_000

# Installed before the form is sent: records each change of the stages and of the reading,
# so the test can tell that they happened in order, live, without a reload.
RECORDER = """
() => {
  window.__noReload = true;
  window.__log = [];
  const log = (entry) => window.__log.push(entry);
  for (const li of document.querySelectorAll('#stages li')) {
    new MutationObserver(() => log(`stage:${li.dataset.stage}:${li.className}`))
      .observe(li, { attributes: true, attributeFilter: ['class'] });
  }
  const reading = document.querySelector('#reading');
  new MutationObserver(() => log(`reading:${reading.dataset.state}:${reading.textContent.length}`))
    .observe(reading, { attributes: true, attributeFilter: ['data-state'], childList: true });
  const graph = document.querySelector('#bodygraph');
  new MutationObserver(() => log(`bodygraph:${graph.dataset.state}`))
    .observe(graph, { attributes: true, attributeFilter: ['data-state'] });
}
"""


async def open_page(page: Any, status_origin: str) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{status_origin}/") as resp:
        if resp.status != 200 or "birth-form" not in await resp.text():
            pytest.fail(
                f"status does not serve the demo page at / (HTTP {resp.status}): "
                "DemoPages (services/status/web/pages.py) is not wired into "
                "services/status/__main__.py",
                pytrace=False,
            )
    await page.goto(f"{status_origin}/")
    await page.evaluate(RECORDER)


async def fill_birth(page: Any, *, place: dict[str, str]) -> None:
    await page.fill("#birth-date", "1948-04-09")
    await page.fill("#birth-time", "00:14")
    if "latitude" in place:
        await page.check('input[name="place-mode"][value="coordinates"]')
        await page.fill("#place-latitude", place["latitude"])
        await page.fill("#place-longitude", place["longitude"])
    else:
        await page.check('input[name="place-mode"][value="name"]')
        await page.fill("#place-name", place["name"])
        if "country" in place:
            await page.fill("#place-country", place["country"])
    await page.select_option("#agent", "personality")
    await page.select_option("#language", "en")


def real_errors(js_errors: list[str]) -> list[str]:
    """Script errors; the browser's own "Failed to load resource" lines (4xx answers the
    page handles, such as 409 while the chart is being stored) are not errors of the page."""
    return [e for e in js_errors if "Failed to load resource" not in e]


async def error_text(page: Any) -> str:
    box = page.locator("#error")
    return str(await box.inner_text()) if await box.is_visible() else ""


async def test_a_reading_unfolds_live_on_the_page(
    page: Any, status_origin: str, artifacts: Path, js_errors: list[str]
) -> None:
    await open_page(page, status_origin)
    await fill_birth(page, place={"latitude": "45.5017", "longitude": "-73.5673"})
    await page.click("#submit")

    try:
        await page.wait_for_selector('#stages li[data-stage="done"].done', timeout=TIMEOUT_MS)
    except Exception:
        pytest.fail(f"the reading did not complete; #error says: {await error_text(page)!r}; "
                    f"log: {await page.evaluate('window.__log')}")  # fmt: skip
    await page.wait_for_selector('#bodygraph[data-state="ready"] svg', timeout=TIMEOUT_MS)

    # The same document all along: no reload, no navigation.
    assert await page.evaluate("window.__noReload === true")
    assert await page.locator("#error").is_hidden()

    # Every stage was reached, in order, while the page watched.
    log: list[str] = await page.evaluate("window.__log")
    done = [e.split(":")[1] for e in log if e.startswith("stage:") and e.endswith(":done")]
    assert list(dict.fromkeys(done)) == ["requested", "chart", "writing", "done"], log
    assert await page.locator("#stages li.active").count() == 0  # no spinner left
    assert await page.locator("#stages li.failed").count() == 0

    # The bodygraph: exactly Ra Uru Hu's defined centers and channels.
    svg = page.locator("#bodygraph svg")
    assert await svg.count() == 1
    filled = await page.eval_on_selector_all(
        "#bodygraph svg g.center",
        """groups => groups
             .filter(g => { const f = g.querySelector('polygon').getAttribute('fill');
                            return f && f !== '#ffffff' && f !== 'none'; })
             .map(g => g.dataset.center)""",
    )
    assert set(filled) == RA_CENTERS
    defined = await page.eval_on_selector_all(
        "#bodygraph svg g.center[data-defined='true']", "gs => gs.map(g => g.dataset.center)"
    )
    assert set(defined) == RA_CENTERS
    channels = await page.eval_on_selector_all(
        "#bodygraph svg [data-channel]", "els => els.map(e => e.dataset.channel)"
    )
    assert sorted(channels) == sorted(RA_CHANNELS)
    box = await svg.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 300  # drawn, visible

    # The chart summary from chart.calculated.
    summary = await page.inner_text("#summary")
    assert "Manifestor" in summary and "5/1" in summary and "Splenic" in summary

    # The reading: text from the delta events first, then the final text.
    reading = page.locator("#reading")
    assert await reading.get_attribute("data-state") == "complete"
    assert await reading.get_attribute("data-first-text-from") == "delta"
    assert int(await reading.get_attribute("data-deltas") or "0") >= 1
    streaming = [e for e in log if e.startswith("reading:streaming:")]
    complete = [i for i, e in enumerate(log) if e.startswith("reading:complete:")]
    assert streaming and complete
    assert log.index(streaming[0]) < complete[0], log
    text = await reading.inner_text()
    assert all(text.count(sentence) == 5 for sentence in READING_SENTENCES)  # all, once
    assert await page.locator("#reading h3, #reading h4").count() >= 2  # headings rendered

    assert await page.is_enabled("#submit")
    assert real_errors(js_errors) == []
    await page.screenshot(path=str(artifacts / "demo-page.png"), full_page=True)


async def test_an_unknown_place_is_explained_not_spun_forever(
    page: Any, status_origin: str, artifacts: Path, js_errors: list[str]
) -> None:
    await open_page(page, status_origin)
    await fill_birth(page, place={"name": "Qwxzyville"})
    await page.click("#submit")

    await page.wait_for_selector("#error:not([hidden])", timeout=TIMEOUT_MS)
    message = await page.inner_text("#error")
    assert "could not find that place" in message
    assert await page.locator("#stages li.active").count() == 0  # no spinner
    assert await page.locator("#stages li.failed").count() == 1
    assert await page.locator('#stages li[data-stage="requested"].done').count() == 1
    assert await page.locator("#bodygraph svg").count() == 0
    assert await page.is_enabled("#submit")  # the form can be sent again
    assert await page.evaluate("window.__noReload === true")
    assert real_errors(js_errors) == []
    await page.screenshot(path=str(artifacts / "demo-page-error.png"), full_page=True)


async def test_rejected_fields_and_an_unreachable_intake_are_explained(
    page: Any, status_origin: str, intake_origin: str, js_errors: list[str]
) -> None:
    await open_page(page, status_origin)

    # Nothing filled in: the page says what is missing, without a request.
    await page.click("#submit")
    assert "date of birth" in (await page.inner_text("#err-birth-date")).lower()
    assert await page.get_attribute("#birth-date", "aria-invalid") == "true"

    # A 422 from intake: the message appears next to the field it names.
    await fill_birth(page, place={"latitude": "95", "longitude": "-73.5673"})
    async with page.expect_response(
        lambda r: r.url == f"{intake_origin}/v1/readings" and r.request.method == "POST"
    ) as answer:
        await page.click("#submit")
    assert (await answer.value).status == 422
    latitude_error = page.locator("#err-place-latitude")
    await latitude_error.wait_for(state="visible")
    assert "90" in await latitude_error.inner_text()
    assert await page.get_attribute("#place-latitude", "aria-invalid") == "true"
    assert await page.locator("#err-birth-date").is_hidden()  # cleared once fixed
    assert "correct" in (await page.inner_text("#error")).lower()
    assert await page.locator("#stages li.active, #stages li.failed").count() == 0

    # Intake unreachable: a plain message, no endless spinner.
    await page.route(f"{intake_origin}/v1/readings", lambda route: route.abort())
    await page.fill("#place-latitude", "45.5017")
    await page.click("#submit")
    await page.wait_for_function(
        "document.querySelector('#error').innerText.includes('could not reach')",
        timeout=TIMEOUT_MS,
    )
    assert await page.locator("#stages li.active").count() == 0
    assert await page.is_enabled("#submit")
    assert real_errors(js_errors) == []
