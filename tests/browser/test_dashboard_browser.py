"""The dashboard in a real browser: a manager signs in, opens it, changes a filter and sees
the figures and the URL change; an agent is refused; a stranger lands on the login page."""

from __future__ import annotations

import pytest
from conftest import PASSWORD

from tests.support.dashboard_world import make_world, one_sent_wave

pytestmark = pytest.mark.browser

PERIOD = "?from=2025-01-01&to=2025-03-31"


def _wait_for(driver, condition, timeout=20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _sign_in(page, live_server, email, then):
    from selenium.webdriver.common.by import By

    page.get(f"{live_server}{then}")
    _wait_for(page, lambda d: "/login" in d.current_url)
    page.find_element(By.NAME, "email").send_keys(email)
    page.find_element(By.NAME, "password").send_keys(PASSWORD)
    page.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()


def _nps_card(page):
    # read in one step: Dash replaces the card while it re-renders (a stale element)
    return page.execute_script("const c = document.querySelector('.dash-card');"
                               "return c ? c.innerText : '';")  # fmt: skip


def test_manager_opens_the_dashboard_and_filters_it(page, live_server, create_customer,
                                                    create_user):  # fmt: skip
    from selenium.webdriver.common.by import By

    make_world(create_customer, create_user)
    manager = create_user(email="browser.manager@example.com", role="manager")
    _sign_in(page, live_server, manager.email, f"/dashboard/{PERIOD}")
    _wait_for(page, lambda d: "−50.0" in _nps_card(d))  # March: 10 promoters, 30 detractors
    assert "/dashboard/" in page.current_url and "from=2025-01-01" in page.current_url
    assert "n=40" in _nps_card(page)
    _wait_for(page, lambda d: d.find_elements(By.CSS_SELECTOR, "#nps-trend .main-svg"))

    box = page.find_element(By.XPATH, "//div[@id='f-class']//label[normalize-space()='C']//input")
    box.click()
    # Class C answered only in February: 15 promoters, 6 detractors of 21, too few to trust
    _wait_for(page, lambda d: "42.9" in _nps_card(d))
    assert "too few to trust" in _nps_card(page)
    _wait_for(page, lambda d: "class=C" in d.current_url)

    page.refresh()  # the URL alone brings the same view back
    _wait_for(page, lambda d: "42.9" in _nps_card(d))
    assert page.find_element(
        By.XPATH, "//div[@id='f-class']//label[normalize-space()='C']//input"
    ).is_selected()


def test_a_link_to_one_wave_keeps_the_wave(page, live_server, create_user):
    """The wave's dropdown gets its choices with the wave: a dropdown without the option
    would drop the value, and the page would quietly show every wave instead."""
    from datetime import UTC, datetime

    from selenium.webdriver.common.by import By

    survey, wave = one_sent_wave("Browser NPS", datetime(2025, 2, 3, 9, tzinfo=UTC))
    manager = create_user(email="browser.wave.manager@example.com", role="manager")
    link = f"/dashboard/?view=funnel&survey={survey.id}&wave={wave.id}&owner=999999"
    _sign_in(page, live_server, manager.email, link)
    _wait_for(page, lambda d: "Wave of 3 Feb 2025" in d.find_element(By.ID, "f-wave").text)
    _wait_for(page, lambda d: "owner" in d.find_element(By.ID, "ignored").text)
    assert f"wave={wave.id}" in page.current_url
    page.refresh()  # the URL alone brings the wave back
    _wait_for(page, lambda d: "Wave of 3 Feb 2025" in d.find_element(By.ID, "f-wave").text)
    assert f"wave={wave.id}" in page.current_url


def test_agent_is_refused(page, live_server, create_user):
    from selenium.webdriver.common.by import By

    agent = create_user(email="browser.dash.agent@example.com", role="agent")
    _sign_in(page, live_server, agent.email, "/cases")
    _wait_for(page, lambda d: "/login" not in d.current_url)
    assert not page.find_elements(By.CSS_SELECTOR, "a[href='/dashboard/']")
    page.get(f"{live_server}/dashboard/")
    _wait_for(page, lambda d: "403" in d.title or "not allowed" in d.page_source.lower()
              or "permission" in d.page_source.lower())  # fmt: skip
    assert not page.find_elements(By.ID, "react-entry-point")


def test_stranger_lands_on_the_login_page(page, live_server):
    page.get(f"{live_server}/dashboard/{PERIOD}")
    _wait_for(page, lambda d: "/login" in d.current_url)
    assert "next=" in page.current_url
