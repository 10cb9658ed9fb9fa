"""Survey templates: the shipped ones are complete in four languages; broken ones are
refused with a message naming file and field."""

import shutil
from pathlib import Path

import pytest
import yaml

from feedback.surveys.templates import TemplateError, default_directory, load_templates, render

LANGS = ("en", "da", "sv", "nb")


@pytest.fixture
def template_dir(tmp_path):
    """A writable copy of the shipped templates."""
    target = tmp_path / "templates"
    shutil.copytree(default_directory(), target)
    return target


def edit(directory: Path, name: str, change) -> None:
    path = directory / f"{name}.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


def problems_of(directory) -> list[str]:
    with pytest.raises(TemplateError) as caught:
        load_templates(directory)
    return [str(p) for p in caught.value.problems]


def test_shipped_templates_are_complete():
    templates = load_templates()
    assert set(templates) >= {"nps", "csi", "relationship"}
    for template in templates.values():
        for question in template.questions:
            assert set(question.text) == set(LANGS)
        assert set(template.email["subject"]) == set(LANGS)
    nps = templates["nps"]
    assert nps.primary.key == "recommend" and nps.primary.scale == (0, 10)
    assert [q.kind for q in nps.questions] == ["nps", "comment"]
    csi = templates["csi"]
    assert [q.key for q in csi.questions if q.csi] == ["satisfaction", "expectations", "ideal"]
    relationship = templates["relationship"]
    drivers = [q.driver for q in relationship.questions if q.driver]
    assert 3 <= len(drivers) <= 5
    assert relationship.primary.key == "recommend"
    # Nordic letters survive loading.
    assert (
        "sandsynligt" in nps.primary.text["da"]
        and "nöjd" in csi.question("satisfaction").text["sv"]
    )


def test_csi_index_is_weighted_mean_of_rescaled_items():
    csi = load_templates()["csi"]
    assert csi.csi_index({"satisfaction": 10, "expectations": 10, "ideal": 10}) == 100
    assert csi.csi_index({"satisfaction": 1, "expectations": 1, "ideal": 1}) == 0
    assert csi.csi_index({"satisfaction": 10, "expectations": 1, "ideal": 4}) == pytest.approx(
        (100 + 0 + 100 / 3) / 3
    )
    assert csi.csi_index({"satisfaction": 7}) == pytest.approx(600 / 9)  # answered items only
    assert csi.csi_index({}) is None


def test_csi_weights_from_the_template(template_dir):
    def weigh(doc):
        doc["questions"][0]["weight"] = 2

    edit(template_dir, "csi", weigh)
    csi = load_templates(template_dir)["csi"]
    assert csi.csi_index({"satisfaction": 10, "expectations": 1, "ideal": 1}) == pytest.approx(50)


def test_render_fills_placeholders_and_blanks_missing_ones():
    assert (
        render("Hej {contact_name}, tak fra {company}", company="Nordlys")
        == "Hej , tak fra Nordlys"
    )


def test_content_hash_changes_with_a_text(template_dir):
    before = load_templates(template_dir)["nps"].content_hash()
    assert before == load_templates(template_dir)["nps"].content_hash()

    def reword(doc):
        doc["questions"][1]["text"]["sv"] = "Varför gav du det betyget?"

    edit(template_dir, "nps", reword)
    assert load_templates(template_dir)["nps"].content_hash() != before


def _drop_swedish(doc):
    del doc["questions"][0]["text"]["sv"]


def _typo(doc):
    doc["questions"][0]["lowlabel"] = doc["questions"][0].pop("low_label")


def _bad_kind(doc):
    doc["questions"][0]["kind"] = "stars"


def _placeholder_mismatch(doc):
    doc["email"]["subject"]["nb"] = "Si din mening"


def _unknown_placeholder(doc):
    doc["email"]["intro"]["da"] = "Hej {kontakt}"


def _duplicate_key(doc):
    doc["questions"][1]["key"] = "recommend"


def _two_primaries(doc):
    doc["questions"].insert(1, {**doc["questions"][0], "key": "again", "primary": True})


def _no_scored_question(doc):
    doc["questions"] = [doc["questions"][1]]


def _weight_without_csi(doc):
    doc["questions"][0]["weight"] = 2


def _unknown_language(doc):
    doc["name"]["de"] = "Weiterempfehlung"


@pytest.mark.parametrize(
    "change, expected",
    [
        (_drop_swedish, "nps.yaml: questions[0].text.sv: missing text"),
        (_typo, "nps.yaml: questions[0].lowlabel: unknown field"),
        (_bad_kind, "nps.yaml: questions[0].kind: must be one of nps, rating, comment"),
        (_placeholder_mismatch, "nps.yaml: email.subject: languages use different placeholders"),
        (_unknown_placeholder, "nps.yaml: email.intro.da: unknown placeholder {kontakt}"),
        (_duplicate_key, "nps.yaml: questions[1].key: 'recommend' is used twice"),
        (_two_primaries, "nps.yaml: questions: only one question can be primary"),
        (_no_scored_question, "nps.yaml: questions: needs at least one nps or rating question"),
        (_weight_without_csi, "nps.yaml: questions[0].weight: a weight needs csi: true"),
        (_unknown_language, "nps.yaml: name.de: unknown language"),
    ],
)
def test_broken_template_names_file_and_field(template_dir, change, expected):
    edit(template_dir, "nps", change)
    problems = problems_of(template_dir)
    assert any(p.startswith(expected) for p in problems), problems


def test_bad_yaml_key_mismatch_and_bad_reference(template_dir):
    (template_dir / "broken.yaml").write_text("key: broken\nname: [unclosed\n", encoding="utf-8")
    (template_dir / "other.yaml").write_text(
        (template_dir / "nps.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )

    def bad_use(doc):
        doc["questions"][0] = {"use": "nps.nothing"}

    edit(template_dir, "relationship", bad_use)
    problems = problems_of(template_dir)
    assert any(p.startswith("broken.yaml: line 3: not valid YAML") for p in problems), problems
    assert "other.yaml: key: must be 'other' (the file name)" in problems
    assert any(
        p.startswith("relationship.yaml: questions[0].use: no question 'nps.nothing'")
        for p in problems
    )


def test_missing_folder_and_non_mapping(tmp_path):
    assert "templates folder not found" in problems_of(tmp_path / "nowhere")[0]
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n", encoding="utf-8")
    assert problems_of(tmp_path) == ["list.yaml: -: must be a mapping with key, name, questions"]


def test_cli_check_good_and_bad(runner, template_dir):
    result = runner.invoke(args=["templates", "check", "--dir", str(template_dir)])
    assert result.exit_code == 0, result.output
    assert "nps.yaml: OK" in result.output and "relationship.yaml: OK" in result.output

    edit(template_dir, "nps", _drop_swedish)
    result = runner.invoke(args=["templates", "check", "--dir", str(template_dir)])
    assert result.exit_code == 1
    assert "nps.yaml: questions[0].text.sv: missing text" in result.output
    assert "Traceback" not in result.output


def test_stored_content_rebuilds_the_same_template():
    for template in load_templates().values():
        rebuilt = type(template).from_content(template.content)
        assert rebuilt.content_hash() == template.content_hash()
        assert rebuilt.primary.key == template.primary.key
