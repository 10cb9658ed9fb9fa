"""Managers' survey and wave pages: authorisation, audience preview, send and close."""

import re

import pytest
from conftest import csrf_token

from feedback.customers.models import Contact
from feedback.extensions import db
from feedback.surveys.models import Invitation, Survey, Wave


@pytest.fixture
def contacts(create_customer):
    customer = create_customer(external_id="K1", name="Fjordline <AS>", language="nb")
    db.session.add_all(
        [
            Contact(customer_id=customer.id, email="kari@fjord.no", language="nb"),
            Contact(
                customer_id=customer.id, email="ola@fjord.no", language="nb", status="opted_out"
            ),
        ]
    )
    db.session.commit()
    return customer


def _create_survey(client, name="NPS winter"):
    token = csrf_token(client, "/surveys")
    return client.post("/surveys", data={"name": name, "template": "nps", "csrf_token": token})


def test_agents_are_refused(client, login_as):
    login_as("agent")
    assert client.get("/surveys").status_code == 403
    assert client.post("/surveys", data={"name": "x", "template": "nps"}).status_code in (400, 403)
    assert db.session.query(Survey).count() == 0


def test_strangers_are_sent_to_login(client):
    response = client.get("/surveys")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_manager_creates_survey_wave_previews_sends_and_closes(client, login_as, contacts):
    login_as("manager")
    response = _create_survey(client)
    assert response.status_code == 303
    survey = db.session.query(Survey).one()
    assert response.headers["Location"].endswith(f"/surveys/{survey.id}/waves/new")

    form_url = f"/surveys/{survey.id}/waves/new"
    token = csrf_token(client, form_url)
    response = client.post(
        form_url,
        data={
            "languages": ["nb"],
            "programme": "",
            "close_after_days": "14",
            "reminder_days": "3,7",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    wave = db.session.query(Wave).one()
    page = client.get(f"/waves/{wave.id}").get_data(as_text=True)
    assert re.search(r"<strong>1</strong> contacts will be invited", page)
    assert re.search(r"Opted out</td><td class=\"num\">1<", page)

    token = csrf_token(client, f"/waves/{wave.id}")
    response = client.post(f"/waves/{wave.id}/send", data={"csrf_token": token})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Wave, wave.id).status == "sending"
    assert db.session.query(Invitation).filter_by(wave_id=wave.id).count() == 1
    page = client.get(f"/waves/{wave.id}").get_data(as_text=True)
    assert "Sending 1 invitations" in page and "pending" in page

    # Sending twice is refused with a message, not a second set of invitations.
    response = client.post(
        f"/waves/{wave.id}/send", data={"csrf_token": token}, follow_redirects=True
    )
    assert "only a draft can be sent" in response.get_data(as_text=True)
    assert db.session.query(Invitation).count() == 1

    client.post(f"/waves/{wave.id}/close", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(Wave, wave.id).status == "closed"


def test_bad_wave_input_is_explained_and_writes_nothing(client, login_as, contacts):
    login_as("manager")
    _create_survey(client)
    survey = db.session.query(Survey).one()
    form_url = f"/surveys/{survey.id}/waves/new"
    token = csrf_token(client, form_url)
    cases = [
        ({"customer_ids": "K1 K404"}, "1 unknown customer id(s): K404"),
        ({"reminder_days": "5,2"}, "reminder days must be increasing"),
        ({"close_after_days": "0"}, "Number must be between 1 and 365"),
        ({"classes": ["Q"]}, "is not a valid choice"),
        ({"send_at": "next tuesday"}, "Not a valid datetime value"),
    ]
    for data, message in cases:
        payload = {"close_after_days": "14", "reminder_days": "3,7", "programme": ""}
        payload.update(csrf_token=token, **data)
        response = client.post(form_url, data=payload)
        assert response.status_code == 200
        assert message in response.get_data(as_text=True), message
    assert db.session.query(Wave).count() == 0


def test_duplicate_survey_name_and_missing_csrf(client, login_as):
    login_as("admin")
    _create_survey(client, "Once")
    response = _create_survey(client, "Once")
    assert "already exists" in response.get_data(as_text=True)
    response = client.post("/surveys", data={"name": "No token", "template": "nps"})
    assert response.status_code == 400
    assert db.session.query(Survey).count() == 1


def test_unknown_ids_are_404(client, login_as):
    login_as("manager")
    assert client.get("/surveys/999").status_code == 404
    assert client.get("/waves/999").status_code == 404
    assert client.get("/surveys/999/waves/new").status_code == 404


def test_customer_text_is_escaped_on_survey_pages(client, login_as, contacts):
    login_as("manager")
    _create_survey(client, "<script>alert(1)</script>")
    page = client.get("/surveys").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_surveys_link_in_the_menu_for_managers_only(client, login_as):
    login_as("agent")
    assert 'href="/surveys"' not in client.get("/customers").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/customers")})
    login_as("manager")
    assert 'href="/surveys"' in client.get("/customers").get_data(as_text=True)
