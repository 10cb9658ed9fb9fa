"""Closing the loop in a real browser: a detractor at an A customer becomes a case for the
named owner, who signs in, finds it in My cases, works it to resolved with an outcome, and
sees every step in the history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import PASSWORD

from feedback.extensions import db
from feedback.routing.engine import route_pending
from feedback.routing.rules import load_rules

pytestmark = pytest.mark.browser


def _wait_for(driver, condition, timeout=10):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def test_owner_resolves_an_a_detractor_case(page, live_server, create_user, answer):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    owner = create_user("anna.owner@example.com", name="Anna Owner", team="Key accounts")
    answer(2, "A", owner=owner, customer_name="Fjordkraft Logistikk AS",
           comment="Leveransen kom for sent igjen, og ingen sa fra.", language="nb")  # fmt: skip
    report = route_pending(load_rules(), settle=timedelta(0))  # what the routing job does
    db.session.commit()
    assert report.cases == 1

    page.get(f"{live_server}/cases")
    _wait_for(page, lambda d: "/login" in d.current_url)
    page.find_element(By.NAME, "email").send_keys(owner.email)
    page.find_element(By.NAME, "password").send_keys(PASSWORD)
    page.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    _wait_for(page, lambda d: d.find_elements(By.CSS_SELECTOR, "#queue"))
    assert page.find_element(By.CSS_SELECTOR, ".tabs a.active").text.startswith("My cases")
    rows = page.find_elements(By.CSS_SELECTOR, "#queue tbody tr")
    assert len(rows) == 1 and "Fjordkraft Logistikk AS" in rows[0].text
    assert "Urgent" in rows[0].text.title() and "in 23 h" in rows[0].text

    rows[0].find_element(By.CSS_SELECTOR, "a.case-link").click()
    _wait_for(page, lambda d: d.find_elements(By.CSS_SELECTOR, "form.status-form"))
    assert "Leveransen kom for sent igjen" in page.find_element(By.CSS_SELECTOR, "blockquote").text
    # The outcome fields appear only when closing.
    assert not page.find_element(By.CSS_SELECTOR, ".close-only").is_displayed()

    Select(page.find_element(By.ID, "status-status")).select_by_value("in_progress")
    page.find_element(By.ID, "status-note").send_keys("Called Kari; a new delivery date is agreed.")
    page.find_element(By.CSS_SELECTOR, "form.status-form button[type=submit]").click()
    _wait_for(page, lambda d: "is now in progress" in d.page_source)

    Select(page.find_element(By.ID, "status-status")).select_by_value("resolved")
    assert page.find_element(By.CSS_SELECTOR, ".close-only").is_displayed()
    page.find_element(By.ID, "status-note").send_keys("Delivered Friday; freight refunded.")
    Select(page.find_element(By.ID, "status-root_cause")).select_by_value("delivery")
    page.find_element(By.CSS_SELECTOR, "form.status-form button[type=submit]").click()
    _wait_for(page, lambda d: "is now resolved" in d.page_source)

    history = [li.text for li in page.find_elements(By.CSS_SELECTOR, ".timeline li")]
    assert len(history) == 4, history
    assert "Rule a_detractor" in history[0]
    assert "new → in_progress" in history[1] and "Anna Owner" in history[1]
    assert "new delivery date is agreed" in history[2]
    assert "Delivered Friday; freight refunded." in history[3]

    page.find_element(By.CSS_SELECTOR, ".breadcrumb a").click()
    _wait_for(page, lambda d: d.find_elements(By.CSS_SELECTOR, "#queue"))
    assert "Nothing waiting here" in page.find_element(By.CSS_SELECTOR, "#queue").text
