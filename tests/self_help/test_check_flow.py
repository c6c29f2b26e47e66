"""The self-assessment as a visitor takes it: one question per page, back and forward,
crisis help first, answers dropped at the result, counters only in the database."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from sqlalchemy import select, text

from self_help.models import AssessmentCount, AssessmentResult
from service.clock import clock
from service.db import db
from service.models import metadata
from tests.conftest import csrf_token_from
from tests.self_help.test_scoring import SHIPPED, crisis_cases, load
from tests.service.test_anonymous_keys import create_key_through_the_page

# Tables that hold only what staff published; everything else could hold visitor data.
CONTENT_TABLES = {"modules", "module_texts", "steps", "step_texts", "exercises", "exercise_texts", "pages",
                  "page_texts", "assessments", "content_versions", "crisis_resources"}


def definition(slug: str) -> dict:
    return load(next(path for path in SHIPPED if path.stem == slug))


def answer(client, slug: str, number: int, option: str, go: str = "next", language: str = "en"):
    page = client.get(f"/check/{slug}/{number}", headers={"Accept-Language": language}).get_data(as_text=True)
    return client.post(f"/check/{slug}/{number}", data={"csrf_token": csrf_token_from(page), "answer": option,
                                                        "go": go}, headers={"Accept-Language": language})


def calm_answers(slug: str) -> list[str]:
    """For each question, the option that scores least and raises no crisis."""
    chosen = []
    for question in definition(slug)["questions"]:
        options = [option for option in question["options"] if not option.get("crisis")]
        chosen.append(min(options, key=lambda option: sum(option.get("scores", {}).values()))["id"])
    return chosen


def complete(client, slug: str, answers: list[str], language: str = "en"):
    response = None
    for number, option in enumerate(answers, start=1):
        response = answer(client, slug, number, option, language=language)
    return response


def session_of(client) -> dict:
    with client.session_transaction() as session:
        return dict(session)


def test_index_lists_the_shipped_assessments(seeded):
    page = seeded.test_client().get("/check/").get_data(as_text=True)
    assert 'href="/check/self-reflection/"' in page and 'href="/check/wellbeing/"' in page


def test_a_visitor_completes_the_check_and_the_answers_are_dropped(seeded):
    client = seeded.test_client()
    slug = "wellbeing"
    response = complete(client, slug, calm_answers(slug))
    assert response.headers["Location"] == f"/check/{slug}/result"
    assert "check" not in session_of(client), "no answers stay in the session"
    result = client.get(f"/check/{slug}/result").get_data(as_text=True)
    low_band = definition(slug)["bands"][0]["title"]["en"]
    assert low_band in result
    stored = json.dumps(session_of(client))
    for option_id in ("never", "sometimes", "often"):
        assert f'"{option_id}"' not in stored


def test_the_database_keeps_only_day_assessment_version_and_band(seeded):
    client = seeded.test_client()
    clock.freeze(dt.datetime(2026, 11, 22, 15, 30, 12))
    complete(client, "wellbeing", calm_answers("wellbeing"))
    complete(seeded.test_client(), "wellbeing", calm_answers("wellbeing"))
    with seeded.app_context():
        counts = db.session.scalars(select(AssessmentCount)).all()
        assert [(c.day, c.assessment_slug, c.version, c.scale, c.band, c.count) for c in counts] == [
            (dt.date(2026, 11, 22), "wellbeing", 1, "wellbeing", 0, 2)]
        columns = {column.name for column in AssessmentCount.__table__.columns}
        assert columns == {"id", "day", "assessment_slug", "version", "scale", "band", "count"}
        assert db.session.scalars(select(AssessmentResult)).all() == []
        with db.engine.connect() as connection:
            dump = "\n".join(repr(tuple(row)) for table in metadata.sorted_tables
                             if table.name not in CONTENT_TABLES
                             for row in connection.execute(text(f'SELECT * FROM "{table.name}"')))
    assert "15:30" not in dump and "never" not in dump


def test_back_and_forward_keep_the_answers(seeded):
    client = seeded.test_client()
    slug = "self-reflection"
    answers = calm_answers(slug)
    answer(client, slug, 1, answers[0])
    response = answer(client, slug, 2, answers[1], go="back")
    assert response.headers["Location"] == f"/check/{slug}/1"
    page = client.get(f"/check/{slug}/1").get_data(as_text=True)
    assert f'value="{answers[0]}" checked' in page
    page = client.get(f"/check/{slug}/2").get_data(as_text=True)
    assert f'value="{answers[1]}" checked' in page


def test_no_answer_or_a_made_up_answer_gets_a_clear_message(seeded):
    client = seeded.test_client()
    for option in ("", "not-an-option"):
        response = answer(client, "wellbeing", 1, option, language="fr")
        assert response.status_code == 422
        assert 'id="answer-error"' in response.get_data(as_text=True)
    assert client.get("/check/wellbeing/99").status_code == 404
    assert client.get("/check/nope/").status_code == 404


def test_a_crisis_answer_shows_help_before_any_score(seeded):
    client = seeded.test_client()
    slug = "self-reflection"
    questions = definition(slug)["questions"]
    crisis_number = next(number for number, question in enumerate(questions, start=1)
                         if any(option.get("crisis") for option in question["options"]))
    answers = calm_answers(slug)
    for number in range(1, crisis_number):
        answer(client, slug, number, answers[number - 1])
    response = answer(client, slug, crisis_number, "yes")
    assert response.headers["Location"] == f"/check/{slug}/help?after={crisis_number}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'href="tel:112"' in page and 'href="/help-now/contact"' in page
    assert "out of" not in page, "no score on the help page"
    for number in range(crisis_number + 1, len(questions) + 1):
        answer(client, slug, number, answers[number - 1])
    result = client.get(f"/check/{slug}/result").get_data(as_text=True)
    assert result.index('id="crisis-first"') < result.index("out of")


@pytest.mark.parametrize(("path", "question_id", "option_id", "answers"), crisis_cases())
def test_every_crisis_answer_leads_with_help_and_never_shows_the_least_worried_band(seeded, path, question_id,
                                                                                   option_id, answers):
    """Each crisis answer of each shipped assessment, every other answer at its least
    worried, taken through the pages as a visitor would."""
    client = seeded.test_client()
    slug = path.stem
    questions = definition(slug)["questions"]
    for number, question in enumerate(questions, start=1):
        response = answer(client, slug, number, answers[question["id"]])
        if question["id"] == question_id:
            assert response.headers["Location"] == f"/check/{slug}/help?after={number}"
            help_page = client.get(response.headers["Location"]).get_data(as_text=True)
            assert 'href="tel:112"' in help_page and "out of" not in help_page
            if number == len(questions):
                client.post(f"/check/{slug}/finish", data={"csrf_token": csrf_token_from(help_page)})
    result = html.unescape(client.get(f"/check/{slug}/result").get_data(as_text=True))
    assert result.index('id="crisis-first"') < result.index("out of"), "help comes first"
    for scale in definition(slug)["scales"]:
        bands = sorted((band for band in definition(slug)["bands"] if band["scale"] == scale["id"]),
                       key=lambda band: band["min"])
        assert bands[0]["title"]["en"] not in result
        assert bands[scale["crisis_minimum_band"] - 1]["title"]["en"] in result


def test_a_crisis_answer_changed_on_the_way_back_still_leads_with_help(seeded):
    client = seeded.test_client()
    slug = "wellbeing"
    answers = calm_answers(slug)
    complete(client, slug, answers[:-1])
    answer(client, slug, len(answers), "yes")
    answer(client, slug, len(answers), "no")  # changes the answer after seeing help
    result = html.unescape(client.get(f"/check/{slug}/result").get_data(as_text=True))
    assert 'id="crisis-first"' in result
    assert definition(slug)["bands"][0]["title"]["en"] not in result


def test_shipped_assessments_work_in_french(seeded):
    client = seeded.test_client()
    page = client.get("/check/wellbeing/1", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert definition("wellbeing")["questions"][0]["text"]["fr"] in page.replace("&#39;", "'")
    complete(client, "wellbeing", calm_answers("wellbeing"), language="fr")
    result = client.get("/check/wellbeing/result", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert definition("wellbeing")["bands"][0]["title"]["fr"] in result.replace("&#39;", "'")


def test_a_key_holder_keeps_a_result_sees_it_charted_and_deletes_it(seeded):
    client = seeded.test_client()
    create_key_through_the_page(client)
    for _ in range(2):
        complete(client, "wellbeing", calm_answers("wellbeing"))
        page = client.get("/check/wellbeing/result").get_data(as_text=True)
        client.post("/check/wellbeing/result/keep", data={"csrf_token": csrf_token_from(page)})
    page = client.get("/check/my-results").get_data(as_text=True)
    assert page.count("<circle") == 2 and "<script" not in page.split("<svg")[1].split("</svg>")[0]
    with seeded.app_context():
        rows = db.session.scalars(select(AssessmentResult)).all()
        assert len(rows) == 2 and all(b"wellbeing" not in row.sealed_result for row in rows)
    client.post("/check/my-results/delete", data={"csrf_token": csrf_token_from(page)})
    with seeded.app_context():
        assert db.session.scalars(select(AssessmentResult)).all() == []


def test_validated_definition_errors_are_listed_to_staff(seeded, make_staff):
    from tests.conftest import sign_in

    client = seeded.test_client()
    sign_in(client, make_staff("ed", roles=("editor",)))
    page = client.get("/staff/content/assessment/wellbeing").get_data(as_text=True)
    edit_url = client.post("/staff/content/assessment/wellbeing/draft",
                           data={"csrf_token": csrf_token_from(page)}).headers["Location"]
    page = client.get(edit_url + "?as=toml").get_data(as_text=True)
    broken = re.sub(r"max = 27", "max = 30", page.split('name="definition"')[1].split(">", 1)[1].split("</textarea>")[0])
    import html

    response = client.post(edit_url, data={"csrf_token": csrf_token_from(page), "definition": html.unescape(broken),
                                           "action": "save"})
    assert response.status_code == 422
    assert "the highest band must end at 27" in response.get_data(as_text=True)
    bad_syntax = client.post(edit_url, data={"csrf_token": csrf_token_from(page), "definition": "slug = ",
                                             "action": "save"})
    assert "not valid TOML" in bad_syntax.get_data(as_text=True)
    too_long = client.post(edit_url, data={"csrf_token": csrf_token_from(page), "action": "save",
                                           "definition": "# " + "x" * 50_000})
    assert too_long.status_code == 422
    assert "The text is too long (" in too_long.get_data(as_text=True)


def test_staff_cannot_save_an_assessment_whose_crisis_answer_reaches_a_reassuring_band(seeded, make_staff):
    from tests.conftest import sign_in

    client = seeded.test_client()
    sign_in(client, make_staff("ed", roles=("editor",)))
    page = client.get("/staff/content/assessment/wellbeing").get_data(as_text=True)
    edit_url = client.post("/staff/content/assessment/wellbeing/draft",
                           data={"csrf_token": csrf_token_from(page)}).headers["Location"]
    page = client.get(edit_url + "?as=toml").get_data(as_text=True)
    text = html.unescape(page.split('name="definition"')[1].split(">", 1)[1].split("</textarea>")[0])
    assert "crisis_minimum_band = 3" in text
    response = client.post(edit_url, data={"csrf_token": csrf_token_from(page), "action": "save",
                                           "definition": text.replace("crisis_minimum_band = 3", "crisis_minimum_band = 1")})
    assert response.status_code == 422
    shown = html.unescape(response.get_data(as_text=True))
    assert ("the crisis answer 'yes' to question 9 (ending-life-or-self-harm) can end in the reassuring band 0–7"
            in shown)


def test_an_editor_reading_in_french_gets_the_problems_of_a_draft_in_french(seeded, make_staff):
    from tests.conftest import sign_in

    client = seeded.test_client()
    french = {"Accept-Language": "fr"}
    sign_in(client, make_staff("ed", roles=("editor",)))
    page = client.get("/staff/content/assessment/wellbeing", headers=french).get_data(as_text=True)
    edit_url = client.post("/staff/content/assessment/wellbeing/draft", headers=french,
                           data={"csrf_token": csrf_token_from(page)}).headers["Location"]
    page = client.get(edit_url + "?as=toml", headers=french).get_data(as_text=True)
    text = html.unescape(page.split('name="definition"')[1].split(">", 1)[1].split("</textarea>")[0])
    refused = client.post(edit_url, headers=french, data={"csrf_token": csrf_token_from(page), "action": "save",
                                                          "definition": text.replace("max = 27", "max = 30")})
    shown = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert "le résultat le plus haut doit finir à 27" in shown and "must end at" not in shown
    syntax = client.post(edit_url, headers=french, data={"csrf_token": csrf_token_from(page), "action": "save",
                                                         "definition": "slug = "})
    assert "TOML valide" in html.unescape(syntax.get_data(as_text=True))
