"""The dashboard in a real browser: a manager signs in, opens it, changes a filter and sees
the figures and the URL change; an agent is refused; a stranger lands on the login page."""

from __future__ import annotations

import pytest
from conftest import PASSWORD

from tests.support.behaviour_world import make_behaviour_world
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


def test_a_scatter_point_opens_its_customer(page, live_server, create_user, create_customer):
    """The click through runs in the browser (assets/clicks.js): a real click on a point
    opens its customer page, and no click data can lead anywhere but a customer page."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    make_behaviour_world(create_user, create_customer)
    manager = create_user(email="browser.scatter.manager@example.com", role="manager")
    _sign_in(page, live_server, manager.email,
             "/dashboard/?view=behaviour&from=2025-01-01&to=2025-12-31")  # fmt: skip
    plot = "document.querySelector('#behaviour-scatter .js-plotly-plot')"
    _wait_for(page, lambda d: d.execute_script(f"const g = {plot}; return !!(g && g._fullLayout"
                                               " && g._fullLayout.xaxis);"))  # fmt: skip

    href = "return window.dash_clientside.feedback.customerHref(arguments[0], '/customers/');"
    no_update = "return window.dash_clientside.no_update;"
    assert page.execute_script(href, {"points": [{"customdata": ["K-1", "x"]}]}) == (
        "/customers/K-1"
    )
    # only ever a customer page: the number is percent-encoded after the server's prefix
    assert page.execute_script(href, {"points": [{"customdata": ["//evil.example/x"]}]}) == (
        "/customers/%2F%2Fevil.example%2Fx"
    )
    assert page.execute_script(href, {"points": [{"customdata": ["javascript:alert(1)"]}]}) == (
        "/customers/javascript%3Aalert(1)"
    )
    nothing = page.execute_script(no_update)
    for bad in (
        None,
        {},
        {"points": []},
        {"points": [{"x": 1}]},
        {"points": [{"customdata": "K-1"}]},
        {"points": [{"customdata": [7]}]},
        {"points": [{"customdata": [""]}]},
    ):
        assert page.execute_script(href, bad) == nothing, bad

    # where p2's point is drawn, from the middle of the plot (where Selenium's offsets start)
    dx, dy = page.execute_script(f"""
        const g = {plot}, box = g.getBoundingClientRect();
        const xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis;
        for (const trace of g.data) {{
            const i = trace.customdata.findIndex(row => row[0] === "K-p2");
            if (i >= 0) return [xa._offset + xa.l2p(trace.x[i]) - box.width / 2,
                                ya._offset + ya.l2p(trace.y[i]) - box.height / 2];
        }}""")  # fmt: skip
    graph = page.find_element(By.CSS_SELECTOR, "#behaviour-scatter .js-plotly-plot")
    ActionChains(page).move_to_element_with_offset(graph, int(dx), int(dy)).pause(0.3).click(
        ).perform()  # fmt: skip
    _wait_for(page, lambda d: d.current_url.endswith("/customers/K-p2"))
    assert page.find_element(By.TAG_NAME, "h1").text == "p2 <b>&</b> Co"  # shown as text
