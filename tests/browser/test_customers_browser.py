"""The customers list in a real browser: sign in through the form, filter by class."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from conftest import PASSWORD

from feedback.customers.segments import recompute_segments
from feedback.extensions import db

pytestmark = pytest.mark.browser


@pytest.fixture
def classed_customers(create_customer, add_transaction):
    """400/300/150/100/50 of 1,000 EUR: A, A, B, C, D."""
    recent = date.today() - timedelta(days=5)
    for ext, amount in [("BR-1", 400), ("BR-2", 300), ("BR-3", 150), ("BR-4", 100), ("BR-5", 50)]:
        add_transaction(create_customer(external_id=ext, name=f"Browser {ext}"), amount, recent)
    recompute_segments(
        date.today(),
        base_currency="EUR",
        thresholds=(Decimal("0.50"), Decimal("0.30"), Decimal("0.15")),
        grow_potentials=("high", "medium"),
    )
    db.session.commit()


def _wait_for(driver, condition, timeout=10):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def test_agent_signs_in_and_filters_by_class(page, live_server, create_user, classed_customers):
    from selenium.webdriver.common.by import By

    user = create_user(email="browser.agent@example.com", role="agent")
    page.get(f"{live_server}/customers")
    _wait_for(page, lambda d: "/login" in d.current_url)
    page.find_element(By.NAME, "email").send_keys(user.email)
    page.find_element(By.NAME, "password").send_keys(PASSWORD)
    page.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    _wait_for(page, lambda d: d.find_elements(By.CSS_SELECTOR, "table.customers-table"))
    assert page.current_url.startswith(f"{live_server}/customers")
    assert len(page.find_elements(By.CSS_SELECTOR, "table.customers-table tbody tr")) == 5

    page.find_element(By.CSS_SELECTOR, "input[name=class][value=A]").click()
    page.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    _wait_for(page, lambda d: "class=A" in d.current_url)

    rows = page.find_elements(By.CSS_SELECTOR, "table.customers-table tbody tr")
    numbers = [row.find_element(By.CSS_SELECTOR, "td").text for row in rows]
    classes = {row.find_elements(By.CSS_SELECTOR, "td")[2].text for row in rows}
    assert numbers == ["BR-1", "BR-2"]
    assert classes == {"A"}
    assert page.find_element(By.CSS_SELECTOR, "input[name=class][value=A]").is_selected()
