"""Browser tests: Debian's Chromium driven by Playwright (never a browser Playwright
downloads), one browser and one live server per module, axe-core from ``node_modules``.

They fail, never skip, when Chromium or axe-core is missing: ``.ci/run`` installs the
``chromium`` package with apt-get and runs ``make browser-deps`` (``npm ci``)."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    ViewportSize,
    sync_playwright,
)
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.provisioning.conftest import CALLBACK_SECRET
from tests.web_pages.conftest import latest_code
from tulpar.app import create_app
from tulpar.auth import service as auth_service
from tulpar.carrier_sim.server import app_in_thread, simulator_in_thread
from tulpar.carrier_sim.settings import SimulatorSettings
from tulpar.config import get_settings
from tulpar.integrations.carrier.http import close_adapters
from tulpar.kit.credentials import SESSION_COOKIE
from tulpar.models import Card
from tulpar.otp import service as otp_service
from tulpar.staff import service as staff_service
from tulpar.worker import run_worker

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE: ViewportSize = {"width": 360, "height": 740}


def _require(path: Path, how: str) -> None:
    if not path.exists():
        pytest.fail(f"{path} is missing: {how}", pytrace=False)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    _require(CHROMIUM, "install Debian's chromium package (apt-get install chromium; .ci/run does)")
    _require(AXE, "run `make browser-deps` (npm ci installs axe-core from package-lock.json)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Site:
    """The app and the carrier simulator on loopback ports, for one test module."""

    base: str


@pytest.fixture(scope="module")
def site(engine: Engine) -> Iterator[Site]:
    with pytest.MonkeyPatch.context() as patch, app_in_thread(create_app()) as base:
        patch.setenv("TULPAR_PUBLIC_BASE_URL", base)
        get_settings.cache_clear()
        try:
            yield Site(base=base)
        finally:
            get_settings.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def carrier(site: Site, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh carrier simulator per test (order numbers restart with each test's tables)."""
    simulator_settings = SimulatorSettings(
        callback_url=f"{site.base}/carrier/callbacks",
        callback_secret=CALLBACK_SECRET,
        completion_delay_ms=50,
    )
    with simulator_in_thread(simulator_settings) as simulator:
        monkeypatch.setenv("TULPAR_CARRIER_URL", simulator.url)
        monkeypatch.setenv("TULPAR_CARRIER_CALLBACK_SECRET", CALLBACK_SECRET)
        get_settings.cache_clear()
        try:
            yield simulator.url
        finally:
            close_adapters()
            monkeypatch.undo()
            get_settings.cache_clear()


class Worker:
    """A real procrastinate worker in a thread, as ``tulpar demo`` runs one."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._run, name="browser-test-worker", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._task = self._loop.create_task(run_worker(concurrency=2))
        try:
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            self._loop.close()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        deadline = time.monotonic() + 5
        while self._task is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout=15)


@pytest.fixture
def worker(committed: sessionmaker[Session], carrier: str) -> Iterator[Worker]:
    """Jobs run in the background while the browser waits (stopped before tables empty)."""
    running = Worker()
    running.start()
    try:
        yield running
    finally:
        running.stop()


@dataclass
class Tab:
    """One browser tab at phone size, its console errors collected."""

    page: Page
    base: str
    errors: list[str] = field(default_factory=list)

    def open(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def check(self, name: str) -> None:
        """A 360 px screenshot under ``artifacts/screenshots``, nothing wider than the
        screen, no serious or critical axe-core violation, no console error and no request
        to another host."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        widths = self.page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert widths[0] <= widths[1], f"{name} overflows: {widths}"
        assert axe_violations(self.page) == [], name
        assert self.errors == [], name


_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(" "))}));
}"""


def axe_violations(page: Page) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text())  # through the debugger, so our CSP stays on
    found: list[dict[str, Any]] = page.evaluate(_AXE_RUN)
    return found


@pytest.fixture
def new_tab(browser: Browser, site: Site) -> Iterator[Callable[..., Tab]]:
    """``new_tab(locale="zh-CN")``: a fresh browser profile (no cookies) at phone size."""
    contexts: list[BrowserContext] = []

    def make(locale: str = "zh-CN") -> Tab:
        context = browser.new_context(
            viewport=PHONE, locale=locale, accept_downloads=True, device_scale_factor=1
        )
        contexts.append(context)
        tab = Tab(page=context.new_page(), base=site.base)

        def collect(message: ConsoleMessage) -> None:
            if message.type == "error":
                tab.errors.append(message.text)

        def same_origin(request: Request) -> None:
            if not request.url.startswith((site.base + "/", "data:")):
                tab.errors.append(f"request to another host: {request.url}")

        tab.page.on("console", collect)
        tab.page.on("request", same_origin)
        tab.page.on("pageerror", lambda error: tab.errors.append(str(error)))
        tab.page.set_default_timeout(15_000)
        return tab

    yield make
    for context in contexts:
        context.close()


def sign_in(tab: Tab, session: Session, card: Card) -> None:
    """A traveller session for ``card`` in this tab (the start page's flow has its own
    tests)."""
    otp_service.request_code(session, card.iccid, client_address="10.8.8.8")
    verified = otp_service.verify(session, card.iccid, latest_code(session, card.id))
    session.commit()
    tab.page.context.add_cookies(
        [{"name": SESSION_COOKIE, "value": verified.token, "url": tab.base, "httpOnly": True}]
    )


STAFF_PASSWORD = "correct horse battery staple"


def create_admin(session: Session, username: str) -> str:
    """An English-speaking admin with a password and TOTP; returns the TOTP secret."""
    admin = staff_service.create_user(
        session,
        auth_service.command_line(),
        username=username,
        password=STAFF_PASSWORD,
        role="admin",
        language="en",
    )
    assert admin.totp_secret is not None
    return admin.totp_secret


def staff_signs_in(tab: Tab, path: str, username: str, totp_secret: str) -> None:
    """Open ``path`` as staff: sent to the sign-in, then password and TOTP code through the
    forms, and back."""
    tab.open(path)
    tab.page.wait_for_url("**/staff/sign-in")
    tab.page.fill("#username", username)
    tab.page.fill("#password", STAFF_PASSWORD)
    tab.page.press("#password", "Enter")
    tab.page.wait_for_url("**/staff/second-factor")
    tab.page.fill("#code", pyotp.TOTP(totp_secret).now())
    tab.page.press("#code", "Enter")
    tab.page.wait_for_url(lambda url: not url.endswith("/staff/second-factor"))


def code_from_outbox(tab: Tab, *, pattern: str, timeout: float = 20.0) -> str:
    """Wait for the SMS code on ``/dev/outbox`` (the worker sends it) and read it there."""
    deadline = time.monotonic() + timeout
    while True:
        tab.open("/dev/outbox")
        found = re.search(pattern, tab.page.inner_text("body"))
        if found is not None:
            return found.group(1)
        assert time.monotonic() < deadline, "no code reached the outbox"
        time.sleep(0.3)
