"""`feedback history import`: years of NPS or CSI from another tool (or a Delighted export)
become closed waves, all or nothing, once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from feedback.analysis.sentiment import analyse_sentiment
from feedback.analysis.themes import tag_themes
from feedback.cases.models import Case, RoutingDecision
from feedback.customers.models import Contact, CustomerSegment, SegmentRun
from feedback.extensions import db
from feedback.responses.cli import responses_cli
from feedback.responses.models import Answer, Response
from feedback.risk.history import NOT_ROUTED
from feedback.risk.history_cli import history_cli
from feedback.risk.models import WaveOutcome
from feedback.routing.engine import route_pending, subjects
from feedback.routing.rules import first_match, load_rules
from feedback.surveys.models import Invitation, Survey, Wave

HEADER = "email;sent_at;answered_at;score;comment;wave;language"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _nothing_saved() -> None:
    assert [_count(m) for m in (Survey, Wave, Invitation, Response, WaveOutcome)] == [0] * 5


@pytest.fixture
def contacts(create_customer):
    """Three customers in Copenhagen, Göteborg and Bergen with one or two contacts each."""
    people = {
        "K1": ("da", ["anna@byg.dk", "dora@byg.dk"]),
        "K2": ("sv", ["bo@tra.se"]),
        "K3": ("nb", ["cai@fisk.no"]),
    }
    customers = {}
    for external_id, (language, emails) in people.items():
        customer = create_customer(external_id=external_id, language=language)
        customers[external_id] = customer
        for email in emails:
            db.session.add(Contact(customer_id=customer.id, email=email, language=language))
    db.session.commit()
    return customers


@pytest.fixture
def history(runner, tmp_path):
    """history(text, *args, encoding=...) -> the result of `history import` on that file."""

    def run(text, *args, encoding="utf-8", survey="NPS fra Rambøll"):
        path = tmp_path / "historik.csv"
        path.write_bytes(text.encode(encoding))
        return runner.invoke(history_cli, ["import", str(path), "--survey", survey, *args])

    return run


def _lines(*rows: str, header: str = HEADER) -> str:
    return "\r\n".join([header, *rows]) + "\r\n"


GOOD = _lines(
    "anna@byg.dk;2024-03-04 09:00;05.03.2024 10:15;9;Hurtig levering, tak;;",
    "BO@tra.se;04.03.2024 09:00;;;;;",  # delivered, never answered: a non-response
    "cai@fisk.no;2024-03-20;2024-03-21;3;Leveringen var for sen og alt for dyr;;norsk",
    "anna@byg.dk;2024-04-02 08:00;2024-04-02 08:30;7;;;",
    # 23:30 UTC on 31 March is 1 April in Copenhagen: the April wave
    "bo@tra.se;2024-03-31T23:30:00+00:00;2024-04-01T07:00:00+00:00;10;Bäst i test;;",
    "dora@byg.dk;2024-02-28 12:00;2024-03-02 12:00;8;;Kundeundersøgelse forår;en",
)


@pytest.mark.parametrize(
    "encoding, delimiter",
    [("cp1252", ";"), ("utf-8-sig", ","), ("utf-8", "\t")],
)
def test_a_good_file_becomes_closed_waves_per_month_with_outcomes(
    contacts, history, encoding, delimiter
):
    text = GOOD.replace(";", delimiter).replace("Hurtig levering, tak", "Hurtig levering tak")
    result = history(text, encoding=encoding)
    assert result.exit_code == 0, result.output
    assert "6 invitations were created (5 answered, 1 not answered)" in result.output
    assert "3 waves were created" in result.output

    survey = db.session.scalar(select(Survey))
    assert (survey.name, survey.template_key) == ("NPS fra Rambøll", "nps")
    waves = {w.import_key: w for w in db.session.scalars(select(Wave))}
    assert set(waves) == {"2024-03", "2024-04", "Kundeundersøgelse forår"}
    assert {w.status for w in waves.values()} == {"closed"}
    march = waves["2024-03"]
    # sent at its first sending, closed at its latest sending or answer (Copenhagen = UTC+1)
    assert march.sent_at == datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
    assert march.closed_at == march.closes_at == datetime(2024, 3, 20, 23, 0, tzinfo=UTC)
    assert march.outcomes_recorded_at is not None
    assert waves["2024-04"].closed_at == datetime(2024, 4, 2, 6, 30, tzinfo=UTC)

    invitations = {
        (i.wave.import_key, i.contact.email): i for i in db.session.scalars(select(Invitation))
    }
    silent = invitations["2024-03", "bo@tra.se"]
    assert (silent.state, silent.answered_at, silent.language) == ("delivered", None, "sv")
    assert invitations["2024-03", "cai@fisk.no"].language == "nb"
    assert invitations["Kundeundersøgelse forår", "dora@byg.dk"].language == "en"
    answered = invitations["2024-03", "anna@byg.dk"]
    assert (answered.state, answered.sent_at, answered.answered_at) == (
        "answered",
        datetime(2024, 3, 4, 8, 0, tzinfo=UTC),
        datetime(2024, 3, 5, 9, 15, tzinfo=UTC),
    )
    response = db.session.scalar(select(Response).where(Response.invitation_id == answered.id))
    assert (response.score, response.csi, response.comment, response.language) == (
        9,
        None,
        "Hurtig levering tak",
        "da",
    )
    assert [(a.question_key, a.score) for a in response.answers] == [("recommend", 9)]

    outcomes = {
        (o.wave_id, o.customer_id): o.outcome for o in db.session.scalars(select(WaveOutcome))
    }
    k1, k2, k3 = (contacts[k].id for k in ("K1", "K2", "K3"))
    assert outcomes == {
        (march.id, k1): "answered",
        (march.id, k2): "non_response",  # an empty score: the other tool delivered it
        (march.id, k3): "answered",
        (waves["2024-04"].id, k1): "answered",
        (waves["2024-04"].id, k2): "answered",
        (waves["Kundeundersøgelse forår"].id, k1): "answered",
    }


def test_dry_run_checks_and_counts_but_saves_nothing(contacts, history):
    result = history(GOOD, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "for survey 'NPS fra Rambøll' (it would be created)" in result.output
    assert "6 invitations would be created" in result.output
    assert "Dry run: nothing was saved." in result.output
    _nothing_saved()


def test_importing_again_adds_nothing_and_leaves_changed_rows_as_they_were(contacts, history):
    assert history(GOOD).exit_code == 0
    counts = [_count(m) for m in (Wave, Invitation, Response, WaveOutcome, RoutingDecision)]
    again = history(GOOD)
    assert again.exit_code == 0, again.output
    assert "0 waves were created; 0 invitations were created" in again.output
    assert "6 already imported, left as they are" in again.output
    changed = history(GOOD.replace(";9;Hurtig levering, tak", ";2;Elendig"))
    assert "0 invitations were created" in changed.output
    assert [_count(m) for m in (Wave, Invitation, Response, WaveOutcome, RoutingDecision)] == counts
    assert db.session.scalar(select(func.max(Response.score))) == 10
    assert db.session.scalar(select(Response.score).where(Response.comment.like("Hurtig%"))) == 9


def test_a_later_export_adds_its_new_rows_to_the_imported_wave(contacts, history):
    assert history(GOOD).exit_code == 0
    march = db.session.scalar(select(Wave).where(Wave.import_key == "2024-03"))
    later = GOOD + "dora@byg.dk;2024-03-25 09:00;;;;;\r\n"
    result = history(later)
    assert result.exit_code == 0, result.output
    assert "0 waves were created, 1 extended; 1 invitation was created" in result.output
    db.session.expire_all()
    assert march.closed_at == datetime(2024, 3, 25, 8, 0, tzinfo=UTC)
    # K1 answered through Anna: Dora's silence does not make the customer silent
    outcome = db.session.scalar(
        select(WaveOutcome.outcome).where(
            WaveOutcome.wave_id == march.id, WaveOutcome.customer_id == contacts["K1"].id
        )
    )
    assert outcome == "answered"
    assert _count(WaveOutcome) == 6


def test_two_rows_of_one_contact_in_one_wave_keep_the_latest_answer(contacts, history):
    result = history(
        _lines(
            "anna@byg.dk;2024-03-04 09:00;2024-03-05 10:00;4;Først sur;;",
            "anna@byg.dk;2024-03-04 09:00;2024-03-09 10:00;8;Nu glad;;",
            "anna@byg.dk;2024-03-18 09:00;;;;;",
        )
    )
    assert result.exit_code == 0, result.output
    assert "line 2: anna@byg.dk is also in wave 2024-03 on line 3; kept line 3" in result.output
    assert "line 4: anna@byg.dk is also in wave 2024-03 on line 3; kept line 3" in result.output
    assert "2 duplicate rows left out" in result.output
    assert db.session.scalars(select(Response.score)).all() == [8]


def test_each_bad_row_is_named_by_line_and_nothing_is_saved(contacts, create_customer, history):
    other = create_customer(external_id="K9")
    db.session.add(Contact(customer_id=other.id, email="dora@byg.dk", language="da"))
    db.session.commit()
    result = history(
        _lines(
            "anna@byg.dk;2024-03-04 09:00;2024-03-05;9;God;;",  # good
            "nobody@byg.dk;2024-03-04;;;;;",
            "anna@byg.dk;2024-03-04;2024-03-05;ti;;;",
            "anna@byg.dk;2024-03-04;2024-03-05;11;;;",
            "anna@byg.dk;32-13-2024;;;;;",
            "anna@byg.dk;2024-03-04 12:00;2024-03-03 12:00;5;;;",
            "anna@byg.dk;2024-03-04;2024-03-05;;;;",
            "anna@byg.dk;2024-03-04;;;Ingen score;;",
            "anna@byg.dk;2024-03-04;;7;;;",
            "anna@byg.dk;2024-03-04;;;;;klingon",
            "anna@byg.dk;2099-03-04;;;;;",
            "dora@byg.dk;2024-03-04;;;;;",
            "not-an-address;2024-03-04;;;;;",
            "anna@byg.dk;2024-03-04 25:00;;;;;",
            "anna@byg.dk;2024-03-04;;;;;extra;field",
        )
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    problems = [line.split(": ", 1)[1] for line in result.output.splitlines() if "line " in line]
    expected = {
        "line 3, column email": "unknown e-mail nobody@byg.dk",
        "line 4, column score": "'ti' is not a whole number from 0 to 10",
        "line 5, column score": "11 is outside the survey's scale 0-10",
        "line 6, column sent_at": "32-13-2024 is not a real date",
        "line 7, column answered_at": "answered_at is before sent_at",
        "line 8, column score": "answered_at is set but the score is empty",
        "line 9, column comment": "a comment without a score",
        "line 10, column answered_at": "the row has a score but no answered_at",
        "line 11, column language": "unknown language 'klingon'",
        "line 12, column sent_at": "2099-03-04 is in the future",
        "line 13, column email": "dora@byg.dk is a contact of several customers (K1, K9)",
        "line 14, column email": "'not-an-address' is not a valid e-mail address",
        "line 15, column sent_at": "'2024-03-04 25:00' is not a real time of day",
        "line 16": "the row has 8 fields but the header has 7",
    }
    for where, message in expected.items():
        assert any(p.startswith(where) and message in p for p in problems), "\n".join(problems)
    assert len(problems) == len(expected)
    assert "history: 14 problems in 15 rows; nothing was saved." in result.output
    _nothing_saved()


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "the file is empty"),
        ("email;sent_at;score;comment\r\nanna@byg.dk;2024-03-04;9;\r\n",
         "line 1, column answered_at: required column is missing"),
        ("Response ID,Email,Score,Comment,Response timestamp,Survey type\r\n"
         "1,anna@byg.dk,5,,1710000000,csat\r\n",
         "line 2, column survey_type: a Delighted csat response"),
        ("Email,Score,Created at\r\nanna@byg.dk,,1710000000\r\n",
         "line 2, column score: a Delighted response without a score"),
    ],
)  # fmt: skip
def test_a_file_that_cannot_be_history_says_why(contacts, history, text, message):
    result = history(text)
    assert result.exit_code == 1
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    _nothing_saved()


DELIGHTED = (
    "Response ID,Email,Name,Score,Comment,Response timestamp,Survey type,Company\r\n"
    # Unix seconds: 1709805600 = 2024-03-07 10:00 UTC
    "101,anna@byg.dk,Anna,10,Altid til tiden,1709805600,nps,Byg A/S\r\n"
    '102,bo@tra.se,Bo,4,"Leveransen kom för sent, igen",2024-03-28T16:45:00Z,nps,Trä AB\r\n'
    "103,cai@fisk.no,Cai,8,,2024-04-03 09:30:00 +0200,nps,Fisk AS\r\n"
    "104,dora@byg.dk,Dora,6,,2024-04-05 14:00,NPS,Byg A/S\r\n"
)


def test_a_delighted_export_as_it_comes(contacts, history):
    result = history(DELIGHTED, survey="Delighted NPS")
    assert result.exit_code == 0, result.output
    assert "as a Delighted export (UTF-8, comma)" in result.output
    assert "Ignored columns: response id, name, company" in result.output
    assert "4 invitations were created (4 answered, 0 not answered)" in result.output
    rows = db.session.execute(
        select(Wave.import_key, Contact.email, Invitation.sent_at, Response.answered_at,
               Response.score, Response.comment)
        .join(Invitation, Invitation.wave_id == Wave.id)
        .join(Contact, Contact.id == Invitation.contact_id)
        .join(Response, Response.invitation_id == Invitation.id)
        .order_by(Response.answered_at)
    ).all()  # fmt: skip
    assert rows == [
        ("2024-03", "anna@byg.dk", datetime(2024, 3, 7, 10, tzinfo=UTC),
         datetime(2024, 3, 7, 10, tzinfo=UTC), 10, "Altid til tiden"),
        ("2024-03", "bo@tra.se", datetime(2024, 3, 28, 16, 45, tzinfo=UTC),
         datetime(2024, 3, 28, 16, 45, tzinfo=UTC), 4, "Leveransen kom för sent, igen"),
        ("2024-04", "cai@fisk.no", datetime(2024, 4, 3, 7, 30, tzinfo=UTC),
         datetime(2024, 4, 3, 7, 30, tzinfo=UTC), 8, ""),
        # no offset: Copenhagen summer time
        ("2024-04", "dora@byg.dk", datetime(2024, 4, 5, 12, tzinfo=UTC),
         datetime(2024, 4, 5, 12, tzinfo=UTC), 6, ""),
    ]  # fmt: skip
    again = history(DELIGHTED, survey="Delighted NPS")
    assert "0 invitations were created (0 answered, 0 not answered); 4 already" in again.output
    assert _count(Response) == 4


def test_a_delighted_export_goes_only_into_an_nps_survey(contacts, history):
    result = history(DELIGHTED, "--template", "csi", survey="Tilfredshed")
    assert result.exit_code == 1
    assert "a Delighted export holds NPS answers (0-10)" in result.output
    _nothing_saved()


def test_a_csi_history_scores_overall_satisfaction_1_to_10(contacts, history):
    text = _lines("anna@byg.dk;2024-03-04;2024-03-05;10;;;", "bo@tra.se;2024-03-04;2024-03-06;1;;;")
    result = history(text, "--template", "csi", survey="KTI 2024")
    assert result.exit_code == 0, result.output
    scores = db.session.execute(select(Response.score, Response.csi).order_by(Response.score)).all()
    assert scores == [(1, 0.0), (10, 100.0)]
    assert set(db.session.scalars(select(Answer.question_key))) == {"satisfaction"}
    bad = history(_lines("cai@fisk.no;2024-03-04;2024-03-05;0;;;"), survey="KTI 2024")
    assert "0 is outside the survey's scale 1-10" in bad.output


def test_a_survey_with_another_template_is_a_clear_error(contacts, history):
    assert history(_lines("anna@byg.dk;2024-03-04;;;;;"), survey="KTI").exit_code == 0
    result = history(_lines("anna@byg.dk;2024-03-04;;;;;"), "--template", "csi", survey="KTI")
    assert result.exit_code == 1
    assert "survey 'KTI' uses the nps template, not csi" in result.output
    assert "Traceback" not in result.output


def test_imported_answers_are_not_routed_into_cases(contacts, history):
    run = SegmentRun(as_of=datetime(2024, 5, 1).date(), thresholds="50,30,15",
                     base_currency="EUR")  # fmt: skip
    db.session.add(run)
    db.session.flush()
    db.session.add(CustomerSegment(run_id=run.id, customer_id=contacts["K2"].id,
                                   revenue_12m=Decimal("900000"), abc_class="A",
                                   programme="grow", rank=1))  # fmt: skip
    db.session.commit()
    result = history(_lines("bo@tra.se;2024-03-04;2024-03-05;1;Altid forsinket;;"))
    assert result.exit_code == 0, result.output
    response_id = db.session.scalar(select(Response.id))
    rules = load_rules()
    # the rules would make a case of a detractor at an A customer...
    assert first_match(rules, subjects([response_id])[0].facts).rule.key == "a_detractor"
    # ...but history is history: it was decided at import, so the router passes it by
    report = route_pending(rules)
    assert (report.decided, report.cases, _count(Case)) == (0, 0, 0)
    decision = db.session.get(RoutingDecision, response_id)
    assert (decision.rule_key, decision.reason) == (None, NOT_ROUTED)


def test_imported_answers_appear_in_the_export_with_their_sentiment_and_themes(
    contacts, history, runner
):
    assert history(GOOD).exit_code == 0
    result = runner.invoke(responses_cli, ["export", "--format", "json"])
    assert result.exit_code == 0, result.output
    exported = json.loads(result.stdout)
    assert len(exported) == 5
    by_comment = {row["comment"]: row for row in exported}
    late = by_comment["Leveringen var for sen og alt for dyr"]
    assert (late["customer_external_id"], late["score"], late["language"]) == ("K3", 3, "nb")
    assert late["answers"] == {"recommend": 3}
    # the comment and its language are stored as a live answer's are, so it reads alike
    assert analyse_sentiment(late["comment"], late["language"]).label == "negative"
    assert {"delivery", "price"} <= set(tag_themes(late["comment"], late["language"]))
    happy = by_comment["Hurtig levering, tak"]
    assert "delivery" in tag_themes(happy["comment"], happy["language"])
