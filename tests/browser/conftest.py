"""Browser tests: the demo page in headless Chromium (Playwright) against the real stack.

Chromium is Debian's (`apt-get install -y chromium`, at /usr/bin/chromium; `TEST_CHROMIUM`
points elsewhere); Playwright only drives it and never downloads a browser. A missing
Chromium or Playwright fails these tests with a message saying what to install: they
never pass by being skipped.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nats.js import JetStreamContext

from shared.launcher import Stack, on_free_ports
from tests.e2e.helpers import running
from tests.reader.fake_openai import Script, fake_openai

CHROMIUM = os.environ.get("TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

# What the test LLM writes, streamed as a real one does: first token after a second,
# then piece by piece, so the page is watching before any text exists.
READING_SENTENCES = (
    "As a Manifestor with Splenic authority you are here to initiate.",
    "Your 5/1 profile projects answers onto you, and your research gives them ground.",
)
READING_TEXT = (
    "### Your type\n\n" + f"{READING_SENTENCES[0]} " * 5
    + "\n\n#### Your profile\n\n" + f"{READING_SENTENCES[1]} " * 5
)  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the demo page in headless Chromium")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = CHROMIUM if os.path.isabs(CHROMIUM) else shutil.which(CHROMIUM)
    if not path or not os.access(path, os.X_OK):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: the browser tests need Debian's chromium "
            "(`apt-get install -y chromium`) or TEST_CHROMIUM set to a Chromium binary",
            pytrace=False,
        )
    return path


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator[Any]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.fail(
            "the Python package `playwright` is missing: `pip install playwright` "
            "(the browser itself comes from `apt-get install -y chromium`, never "
            "`playwright install`)",
            pytrace=False,
        )
    async with async_playwright() as pw:
        try:
            browser = await pw.chromium.launch(
                executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True
            )
        except Exception as exc:
            pytest.fail(f"Chromium at {chromium_path} did not start: {exc}", pytrace=False)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
def js_errors() -> list[str]:
    """Uncaught script errors and console errors of the page."""
    return []


@pytest.fixture
async def page(browser: Any, js_errors: list[str]) -> AsyncIterator[Any]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.on("pageerror", lambda exc: js_errors.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: js_errors.append(f"console: {msg.text}")
            if msg.type == "error" else None)  # fmt: skip
    try:
        yield page
    finally:
        await context.close()


@pytest.fixture
async def demo_stack(
    nats_url: str, database_url: str, js: JetStreamContext, tmp_path: Path
) -> AsyncIterator[Stack]:
    """The four services as processes, as `make run` starts them, with the demo page on
    status, intake allowing the status origin by CORS, and an OpenAI-compatible test
    server that streams the reading over a few seconds."""
    settings = on_free_ports(tmp_path, nats_url, database_url)
    status_origin = f"http://127.0.0.1:{settings.status_port}"
    script = Script(text=READING_TEXT, chunk_size=40, first_token_delay_s=1.0,
                    chunk_delay_s=0.05)  # fmt: skip
    async with fake_openai(script) as llm_url:
        st = Stack(settings, extra_env={
            "LOG_FORMAT": "json", "LOG_LEVEL": "info", "DRAIN_TIMEOUT_S": "5",
            "OPENAI_API_KEY": "sk-test-browser-not-a-real-key", "OPENAI_BASE_URL": llm_url,
            "OPENAI_MODEL": "test-model",
            "CORS_ORIGINS": f"{status_origin},http://localhost:{settings.status_port}",
            "DEMO_INTAKE_URL": f"http://127.0.0.1:{settings.intake_port}",
        })  # fmt: skip
        async with running(st):
            yield st


@pytest.fixture
def status_origin(demo_stack: Stack) -> str:
    return f"http://127.0.0.1:{demo_stack.settings.status_port}"


@pytest.fixture
def intake_origin(demo_stack: Stack) -> str:
    return f"http://127.0.0.1:{demo_stack.settings.intake_port}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
