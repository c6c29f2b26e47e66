"""Staff write, review, publish and roll back content; four eyes; every step audited."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from content import publishing
from content.models import ContentVersion
from service.auth.models import AuditEntry
from service.db import db
from tests.conftest import csrf_token_from, sign_in

MODULE = "understanding-your-thoughts"
STEP = "thoughts-are-not-actions"
ITEM = f"/staff/content/module/{MODULE}"


def editor_form_data(html: str) -> dict:
    """Every field of the editor as the browser would send it."""
    data = {"csrf_token": csrf_token_from(html)}
    for name, value in re.findall(r'<input type="(?:text|hidden)"[^>]* name="([^"]+)" value="([^"]*)"', html):
        data[name] = value
    for name, value in re.findall(r'<textarea[^>]* name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        data[name] = value.replace("&#39;", "'").replace("&quot;", '"').replace("&lt;", "<").replace(
            "&gt;", ">").replace("&amp;", "&")
    for name, selected in re.findall(r'<select id="[^"]+" name="([^"]+)">.*?<option value="([^"]+)" selected', html,
                                     re.S):
        data[name] = selected
    return data


@pytest.fixture
def team(seeded, make_staff):
    accounts = {"editor": make_staff("eve", roles=("editor",)), "publisher": make_staff("pat", roles=("publisher",))}
    clients = {}
    for role, account in accounts.items():
        clients[role] = seeded.test_client()
        sign_in(clients[role], account)
    return seeded, clients


def start_and_edit(client, changes: dict, action: str = "save"):
    page = client.get(ITEM).get_data(as_text=True)
    response = client.post(f"{ITEM}/draft", data={"csrf_token": csrf_token_from(page)})
    edit_url = response.headers["Location"]
    data = editor_form_data(client.get(edit_url).get_data(as_text=True))
    data.update(changes)
    data["action"] = action
    return edit_url, client.post(edit_url, data=data)


def test_an_editor_drafts_in_both_languages_and_a_publisher_publishes(team, make_staff):
    app, clients = team
    edit_url, response = start_and_edit(clients["editor"], {
        "steps-0-en-title": "Thoughts are not actions (revised)",
        "steps-0-fr-title": "Les pensées ne sont pas des actes (révisé)",
    }, action="submit")
    assert response.status_code == 302
    number = int(edit_url.split("/versions/")[1].split("/")[0])
    public = app.test_client()
    assert "(revised)" not in public.get(f"/self-help/{MODULE}/{STEP}").get_data(as_text=True)

    # The editor cannot publish at all; the publisher can.
    page = clients["editor"].get(ITEM).get_data(as_text=True)
    assert clients["editor"].post(f"{ITEM}/versions/{number}/publish",
                                  data={"csrf_token": csrf_token_from(page)}).status_code == 403
    page = clients["publisher"].get(ITEM).get_data(as_text=True)
    assert clients["publisher"].post(f"{ITEM}/versions/{number}/publish",
                                     data={"csrf_token": csrf_token_from(page)}).status_code == 302

    assert "(revised)" in public.get(f"/self-help/{MODULE}/{STEP}").get_data(as_text=True)
    assert "(révisé)" in public.get(f"/self-help/{MODULE}/{STEP}", headers={"Accept-Language": "fr"}).get_data(
        as_text=True)

    # Roll back to version 1: a new version in review; a second person makes the old text live again.
    page = clients["publisher"].get(ITEM).get_data(as_text=True)
    asked = clients["publisher"].post(f"{ITEM}/versions/1/restore", data={"csrf_token": csrf_token_from(page)})
    assert asked.status_code == 200 and 'id="confirm-question"' in asked.get_data(as_text=True), "asked first"
    assert "(revised)" in public.get(f"/self-help/{MODULE}/{STEP}").get_data(as_text=True), "nothing done yet"
    assert clients["publisher"].post(f"{ITEM}/versions/1/restore",
                                     data={"csrf_token": csrf_token_from(page), "confirmed": "yes"}).status_code == 302
    assert "(revised)" in public.get(f"/self-help/{MODULE}/{STEP}").get_data(as_text=True)
    admin = app.test_client()
    sign_in(admin, make_staff("ada", roles=("admin",)))
    page = admin.get(ITEM).get_data(as_text=True)
    assert admin.post(f"{ITEM}/versions/3/publish", data={"csrf_token": csrf_token_from(page)}).status_code == 302
    assert "(revised)" not in public.get(f"/self-help/{MODULE}/{STEP}").get_data(as_text=True)
    with app.app_context():
        states = [(v.number, v.state) for v in publishing.versions_of(db.session, "module", MODULE)]
        assert states == [(3, "published"), (2, "superseded"), (1, "superseded")]
        actions = [entry.action for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    for action in ("content.draft_started", "content.draft_saved", "content.submitted", "content.published",
                   "content.rolled_back"):
        assert action in actions


def test_four_eyes_a_publisher_cannot_publish_their_own_change(team):
    app, clients = team
    edit_url, _ = start_and_edit(clients["publisher"], {"texts-en-title": "Own change"}, action="submit")
    number = int(edit_url.split("/versions/")[1].split("/")[0])
    page = clients["publisher"].get(ITEM).get_data(as_text=True)
    response = clients["publisher"].post(f"{ITEM}/versions/{number}/publish",
                                         data={"csrf_token": csrf_token_from(page)}, follow_redirects=True)
    assert "Someone other than the author" in response.get_data(as_text=True)
    with app.app_context():
        assert publishing.version(db.session, "module", MODULE, number).state == "review"


def test_a_published_version_cannot_be_changed(seeded):
    with seeded.app_context():
        live = publishing.published_version(db.session, "module", MODULE)
        live.document = "{}"
        with pytest.raises(publishing.PublishedVersionIsImmutable):
            db.session.flush()


def test_an_invalid_draft_is_refused_with_a_list_and_nothing_typed_is_lost(team):
    app, clients = team
    _, response = start_and_edit(clients["editor"], {"texts-en-title": "", "steps-1-slug": "Not A Slug",
                                                     "steps-2-en-body": "kept text 123"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The title in the default language (en) is required." in page
    assert "Step 2: the address (slug)" in page
    assert "kept text 123" in page and 'value="Not A Slug"' in page


def test_adding_and_removing_steps_keeps_the_other_fields(team):
    _, clients = team
    edit_url, response = start_and_edit(clients["editor"], {"texts-en-summary": "typed summary"}, action="add-step")
    page = response.get_data(as_text=True)
    assert 'name="steps-5-slug" value="step-6"' in page and "typed summary" in page
    data = editor_form_data(page)
    data["action"] = "remove-step-5"
    asked = clients["editor"].post(edit_url, data=data).get_data(as_text=True)
    assert 'id="confirm-question"' in asked and 'value="typed summary"' in asked, "asked on a page of its own"
    page = clients["editor"].post(edit_url, data={**data, "confirmed": "yes"}).get_data(as_text=True)
    assert 'name="steps-5-slug"' not in page and "typed summary" in page


def test_markup_written_by_staff_is_removed_before_it_is_stored(team):
    app, clients = team
    start_and_edit(clients["editor"], {"steps-0-en-body": "Hello <script>alert(1)</script> [x](javascript:alert(2))"})
    with app.app_context():
        draft = db.session.scalar(select(ContentVersion).where(ContentVersion.state == "draft"))
        body = publishing.document_of(draft)["steps"][0]["texts"]["en"]["body"]
    assert "<script>" not in body and "javascript:" not in body and "Hello" in body


def test_a_missing_translation_is_flagged_and_the_public_site_falls_back_with_a_note(team):
    app, clients = team
    edit_url, response = start_and_edit(clients["editor"], {"steps-0-fr-title": "", "steps-0-fr-body": ""},
                                        action="submit")
    assert response.status_code == 302
    assert "fr" in clients["editor"].get("/staff/content/").get_data(as_text=True).split("content-items")[1]
    number = int(edit_url.split("/versions/")[1].split("/")[0])
    page = clients["publisher"].get(ITEM).get_data(as_text=True)
    clients["publisher"].post(f"{ITEM}/versions/{number}/publish", data={"csrf_token": csrf_token_from(page)})
    french = app.test_client().get(f"/self-help/{MODULE}/{STEP}", headers={"Accept-Language": "fr"})
    html = french.get_data(as_text=True)
    assert 'class="note" lang="fr"' in html and "Thoughts are not actions" in html


def test_diff_between_two_versions_shows_what_changed(team):
    _, clients = team
    edit_url, _ = start_and_edit(clients["editor"], {"texts-en-title": "A new module title"})
    number = int(edit_url.split("/versions/")[1].split("/")[0])
    page = clients["editor"].get(f"{ITEM}/diff?from=1&to={number}").get_data(as_text=True)
    assert "<ins>" in page and "A new module title" in page and "<del>" in page


def test_preview_shows_the_draft_as_the_public_would_see_it(team):
    _, clients = team
    edit_url, _ = start_and_edit(clients["editor"], {"steps-0-en-title": "Previewed step title"})
    number = int(edit_url.split("/versions/")[1].split("/")[0])
    page = clients["editor"].get(f"{ITEM}/versions/{number}/preview/{STEP}").get_data(as_text=True)
    assert "Previewed step title" in page and "Preview of version" in page
    assert f'href="{ITEM}/versions/{number}/preview/where-thoughts-come-from"' in page


def test_a_new_page_is_written_reviewed_and_published_at_its_own_address(team):
    app, clients = team
    page = clients["editor"].get("/staff/content/").get_data(as_text=True)
    response = clients["editor"].post("/staff/content/pages", data={
        "csrf_token": csrf_token_from(page), "slug": "for-families", "title": "For families"})
    edit_url = response.headers["Location"]
    data = editor_form_data(clients["editor"].get(edit_url).get_data(as_text=True))
    data.update({"texts-en-body": "Information for **families**.", "texts-fr-title": "Pour les familles",
                 "texts-fr-body": "Des informations pour les **familles**.", "action": "submit"})
    assert clients["editor"].post(edit_url, data=data).status_code == 302
    page = clients["publisher"].get("/staff/content/page/for-families").get_data(as_text=True)
    clients["publisher"].post("/staff/content/page/for-families/versions/1/publish",
                              data={"csrf_token": csrf_token_from(page)})
    assert "<strong>families</strong>" in app.test_client().get("/pages/for-families").get_data(as_text=True)


def test_a_recommendation_to_a_module_that_does_not_exist_is_refused(seeded, make_staff):
    import tomllib

    from content import documents, publishing
    from service.auth.models import StaffMember
    from service.db import db

    editor = make_staff("eddie", roles=("editor",))
    with seeded.app_context(), db.transaction() as session:
        staff = session.get(StaffMember, editor.id)
        draft = publishing.start_draft(session, staff, "assessment", "wellbeing")
        document = tomllib.loads(documents.as_toml(publishing.document_of(draft)))
        document["bands"][0]["recommendations"] = ["module:no-such-module"]
        problems = publishing.save_draft(session, staff, draft, document, "", "en")
    assert any("no-such-module" in problem and "does not exist" in problem for problem in problems)


def test_a_publisher_chooses_a_time_and_the_scheduled_job_publishes_then(seeded, make_staff):
    import datetime as dt
    import re

    from service.clock import clock
    from service.jobs import run_all
    from tests.conftest import sign_in

    clock.freeze(dt.datetime(2026, 12, 1, 9, 0))
    editor, publisher = seeded.test_client(), seeded.test_client()
    sign_in(editor, make_staff("eddie", roles=("editor",)))
    sign_in(publisher, make_staff("pia", roles=("publisher",)))
    item = "/staff/content/page/about"
    token = csrf_token_from(editor.get(item).get_data(as_text=True))
    editor.post(f"{item}/draft", data={"csrf_token": token})
    edit = re.search(r'href="(/staff/content/page/about/versions/(\d+)/edit)"', editor.get(item).get_data(as_text=True))
    page = editor.get(edit.group(1)).get_data(as_text=True)
    editor.post(edit.group(1), data={**editor_form_data(page), "texts-en-title": "About Pause, from Monday",
                                     "action": "submit"})
    number = edit.group(2)
    token = csrf_token_from(publisher.get(item).get_data(as_text=True))
    publisher.post(f"{item}/versions/{number}/publish", data={"csrf_token": token, "day": "2026-12-01", "time": "08:00"})
    assert "Choose a time in the future" in publisher.get(item).get_data(as_text=True)
    publisher.post(f"{item}/versions/{number}/publish", data={"csrf_token": token, "day": "2026-12-07", "time": "08:00"})
    assert "To be published on Mon 7 Dec 2026, 08:00 (chosen by pia)" in publisher.get(item).get_data(as_text=True)
    public = seeded.test_client()
    assert "About Pause, from Monday" not in public.get("/about").get_data(as_text=True)
    clock.advance(dt.timedelta(days=5, hours=22))  # Monday 07:00 UTC = 08:00 in Brussels
    with seeded.app_context():
        assert run_all()["publish-scheduled"] == 1
    assert "About Pause, from Monday" in public.get("/about").get_data(as_text=True)


def test_a_page_of_our_own_can_be_unpublished_after_confirming_but_the_privacy_page_cannot(seeded, make_staff):
    from content import publishing
    from service.auth.models import StaffMember
    from service.db import db

    author, publisher = make_staff("eddie", roles=("editor",)), make_staff("pia", roles=("publisher",))
    with seeded.app_context(), db.transaction() as session:
        draft = publishing.new_page(session, session.get(StaffMember, author.id), "opening-hours", "Opening hours", "en")
        document = publishing.document_of(draft)
        document["texts"]["fr"] = {"title": "Horaires", "body": "Du lundi au vendredi."}
        document["texts"]["en"]["body"] = "Monday to Friday."
        assert publishing.save_draft(session, session.get(StaffMember, author.id), draft, document, "", "en") == []
        publishing.submit_for_review(session, session.get(StaffMember, author.id), draft)
        publishing.publish(session, session.get(StaffMember, publisher.id), draft)
    from tests.conftest import sign_in

    client = seeded.test_client()
    sign_in(client, publisher)
    public = seeded.test_client()
    assert public.get("/pages/opening-hours").status_code == 200
    item = "/staff/content/page/opening-hours"
    token = csrf_token_from(client.get(item).get_data(as_text=True))
    asked = client.post(f"{item}/unpublish", data={"csrf_token": token})
    assert asked.status_code == 200 and 'id="confirm-question"' in asked.get_data(as_text=True)
    assert client.post(f"{item}/unpublish", data={"csrf_token": token, "confirmed": "yes"}).status_code == 302
    assert public.get("/pages/opening-hours").status_code == 404
    client.post("/staff/content/page/privacy/unpublish", data={"csrf_token": token, "confirmed": "yes"})
    assert public.get("/privacy").status_code == 200


def test_the_compare_view_shows_each_changed_field_rendered_with_its_label(seeded, make_staff):
    from content import publishing
    from service.auth.models import StaffMember
    from service.db import db
    from tests.conftest import sign_in

    author, publisher = make_staff("eddie", roles=("editor",)), make_staff("pia", roles=("publisher",))
    with seeded.app_context(), db.transaction() as session:
        writer = session.get(StaffMember, author.id)
        draft = publishing.start_draft(session, writer, "page", "about")
        document = publishing.document_of(draft)
        document["texts"]["fr"]["body"] = "Un **nouveau** paragraphe."
        assert publishing.save_draft(session, writer, draft, document, "", "en") == []
        number = draft.number
    client = seeded.test_client()
    sign_in(client, publisher)
    page = client.get(f"/staff/content/page/about/diff?from=1&to={number}", headers={"Accept-Language": "fr"})
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    section = body.split('class="field-change"')[1].split("</section>")[0]
    assert "Texte (Français)" in section or "Texte (français)" in section
    assert "<strong>nouveau</strong>" in section, "rendered as the public reads it"
    assert body.count('class="field-change"') == 1, "only the changed field"


def test_crisis_resources_are_edited_in_a_structured_form_and_toml_stays(seeded, make_staff):
    import re

    from tests.conftest import sign_in

    client = seeded.test_client()
    sign_in(client, make_staff("eddie", roles=("editor",)))
    item = "/staff/content/resources/crisis-resources"
    client.post(f"{item}/draft", data={"csrf_token": csrf_token_from(client.get(item).get_data(as_text=True))})
    edit = re.search(r'href="(/staff/content/resources/crisis-resources/versions/\d+/edit)"',
                     client.get(item).get_data(as_text=True)).group(1)
    page = client.get(edit).get_data(as_text=True)
    assert 'name="resources-0-en-name"' in page and "Emergency services (112)" in page
    data = editor_form_data(page)
    for name, value in re.findall(r'<input type="checkbox" name="([^"]+)" value="([^"]+)" id="[^"]+" checked>', page):
        data.setdefault(name, []).append(value)
    data.update({"resources-0-en-hours": "Day and night, free of charge", "resources-0-verify_now": "y",
                 "resources-1-phone": "call me", "action": "save"})
    refused = client.post(edit, data=data)
    assert refused.status_code == 422 and 'value="Day and night, free of charge"' in refused.get_data(as_text=True)
    data["resources-1-phone"] = "999"
    assert client.post(edit, data=data).status_code == 302
    toml = client.get(edit + "?as=toml").get_data(as_text=True)
    assert "Day and night, free of charge" in toml and 'name="definition"' in toml
    assert re.search(r"verified_on = &#34;\d{4}-\d\d-\d\d&#34;|verified_on = \"\d{4}-\d\d-\d\d\"|verified_on = \d{4}-", toml)


def test_a_module_is_unpublished_after_confirming_and_comes_back_with_its_readers_progress(team, make_staff):
    """Unpublishing a module takes it off the site in every language and out of the list,
    keeps what readers did in it, is audited, and restoring a version (published by a
    second person) puts it back. A module a live self-check recommends cannot go."""
    app, clients = team
    module, step = "if-the-police-contact-you", "first-stay-safe"
    item = f"/staff/content/module/{module}"
    reader = app.test_client()
    page = reader.get(f"/self-help/{module}/{step}").get_data(as_text=True)
    assert reader.post(f"/self-help/{module}/{step}/done",
                       data={"csrf_token": csrf_token_from(page)}).status_code in (302, 303)

    publisher = clients["publisher"]
    token = csrf_token_from(publisher.get(item).get_data(as_text=True))
    asked = publisher.post(f"{item}/unpublish", data={"csrf_token": token})
    assert asked.status_code == 200 and 'id="confirm-question"' in asked.get_data(as_text=True)
    assert reader.get(f"/self-help/{module}").status_code == 200, "asking is not doing"
    assert publisher.post(f"{item}/unpublish", data={"csrf_token": token, "confirmed": "yes"}).status_code == 302

    for language in ("en", "fr", "nl"):
        headers = {"Accept-Language": language}
        for address in (f"/self-help/{module}", f"/self-help/{module}/{step}", f"/self-help/{module}/one-page"):
            gone = reader.get(address, headers=headers)
            assert gone.status_code == 404, (address, language)
        assert f"/self-help/{module}" not in reader.get("/self-help/", headers=headers).get_data(as_text=True)
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "content.unpublished")).all()
        assert [entry.object_id.split()[0] for entry in entries] == [module]
    staff_page = publisher.get(item).get_data(as_text=True)
    assert 'id="not-public"' in staff_page

    # Restoring needs a second person to publish, as any change does.
    assert publisher.post(f"{item}/versions/1/restore", data={"csrf_token": token, "confirmed": "yes"}).status_code == 302
    assert reader.get(f"/self-help/{module}").status_code == 404, "in review is not public"
    second = make_staff("quinn", roles=("publisher",))
    other = app.test_client()
    sign_in(other, second)
    with app.app_context():
        number = db.session.scalar(select(ContentVersion.number).where(
            ContentVersion.slug == module, ContentVersion.state == publishing.REVIEW))
    token = csrf_token_from(other.get(item).get_data(as_text=True))
    assert other.post(f"{item}/versions/{number}/publish", data={"csrf_token": token}).status_code == 302
    back = reader.get(f"/self-help/{module}").get_data(as_text=True)
    assert "1 of" in back, "the reader's progress survived"

    # A module that a live self-check recommends stays, with the reason in words.
    recommended = f"/staff/content/module/{MODULE}"
    token = csrf_token_from(publisher.get(recommended).get_data(as_text=True))
    refused = publisher.post(f"{recommended}/unpublish", data={"csrf_token": token, "confirmed": "yes"},
                             follow_redirects=True)
    assert "Self-reflection check" in refused.get_data(as_text=True)
    assert reader.get(f"/self-help/{MODULE}").status_code == 200


def test_a_self_check_cannot_recommend_a_module_that_was_unpublished(seeded, make_staff):
    from self_help.models import Module

    with seeded.app_context(), db.transaction() as session:
        session.scalar(select(Module).where(Module.slug == "if-the-police-contact-you")).withdrawn = True
        problems = publishing.recommendations_to_missing_modules(
            session, {"bands": [{"min": 0, "max": 3, "recommendations": ["module:if-the-police-contact-you"]}]})
    assert problems and "if-the-police-contact-you" in problems[0]


def form_fields(html_text: str) -> list[tuple[str, str]]:
    """Every field a browser would send from the page's one editor form, checkboxes and
    selects included, as (name, value) pairs."""
    import html

    fields = []
    for tag in re.findall(r"<input [^>]*>", html_text):
        name, value = re.search(r' name="([^"]+)"', tag), re.search(r' value="([^"]*)"', tag)
        if name is None or ' type="submit"' in tag:
            continue
        if ' type="checkbox"' in tag and " checked" not in tag:
            continue
        fields.append((name.group(1), html.unescape(value.group(1) if value else "")))
    for name, value in re.findall(r'<textarea[^>]* name="([^"]+)"[^>]*>(.*?)</textarea>', html_text, re.S):
        fields.append((name, html.unescape(value)))
    for name, body in re.findall(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', html_text, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body) or re.search(r'<option value="([^"]*)"', body)
        fields.append((name, html.unescape(chosen.group(1))))
    return fields


def _normalised(definition: dict) -> dict:
    """What a definition means, without the spellings that mean the same (a score of 0
    written or left out, crisis = false written or left out)."""
    import copy

    definition = copy.deepcopy(definition)
    for question in definition["questions"]:
        for option in question["options"]:
            option["scores"] = {scale: points for scale, points in option.get("scores", {}).items() if points}
            option["crisis"] = bool(option.get("crisis"))
    for band in definition["bands"]:
        band["reassuring"] = bool(band.get("reassuring"))
    return definition


def test_a_self_check_is_edited_in_a_structured_form_that_keeps_every_answer_score_and_crisis_flag(seeded,
                                                                                                    make_staff):
    """The structured form, sent back as shown, saves the same self-check (crisis flags
    and points included); buttons add questions and answers without losing what was
    typed; a wrong number is named and stays typed; TOML stays one click away."""
    client = seeded.test_client()
    sign_in(client, make_staff("eddie", roles=("editor",)))
    item = "/staff/content/assessment/self-reflection"
    client.post(f"{item}/draft", data={"csrf_token": csrf_token_from(client.get(item).get_data(as_text=True))})
    with seeded.app_context():
        draft = publishing.open_version(db.session, "assessment", "self-reflection")
        edit, original = f"{item}/versions/{draft.number}/edit", publishing.document_of(draft)
    page = client.get(edit).get_data(as_text=True)
    assert 'name="questions-0-en-text"' in page and 'name="definition"' not in page
    assert 'id="edit-as-toml"' in page
    fields = form_fields(page)
    assert sum(1 for name, _value in fields if name.endswith("-crisis")) == sum(
        1 for question in original["questions"] for option in question["options"] if option.get("crisis"))

    # Add a question (the text typed into question 1 stays), then an answer to it.
    typed = [(name, "How are you, in a word?" if name == "questions-0-en-text" else value) for name, value in fields]
    added = client.post(edit, data=MultiDict(typed + [("action", "add-question")]))
    assert added.status_code == 200
    body = added.get_data(as_text=True)
    count = len(original["questions"])
    assert f'name="questions-{count}-en-text"' in body and "How are you, in a word?" in body
    more = client.post(edit, data=MultiDict(form_fields(body) + [("action", f"add-option-{count}")]))
    assert f'name="questions-{count}-options-2-id"' in more.get_data(as_text=True)

    # A score that is not a number: refused, named, and what was typed is shown back.
    wrong = [(name, "three" if name == "questions-0-options-1-score-concern" else value) for name, value in fields]
    refused = client.post(edit, data=MultiDict(wrong + [("action", "save")]))
    assert refused.status_code == 422
    assert 'value="three"' in refused.get_data(as_text=True)
    assert "whole numbers" in refused.get_data(as_text=True)

    # Sent back as shown, with one changed word: the same self-check, crisis flags and all.
    changed = [(name, "Check-in: how things are" if name == "texts-en-title" else value) for name, value in fields]
    saved = client.post(edit, data=MultiDict(changed + [("action", "save")]))
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    with seeded.app_context():
        after = publishing.document_of(publishing.open_version(db.session, "assessment", "self-reflection"))
    assert after["title"]["en"] == "Check-in: how things are"
    after["title"]["en"] = original["title"]["en"]
    assert _normalised(after) == _normalised(original)

    toml = client.get(edit + "?as=toml").get_data(as_text=True)
    assert 'name="definition"' in toml and "Check-in: how things are" in toml
