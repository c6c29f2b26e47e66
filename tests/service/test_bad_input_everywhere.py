"""Bad input at every door, found rather than listed by hand.

The portal is put in a state where nearly every form shows: a visitor holding a key, a
booking and an assessment under way; a therapist with that appointment; staff with every
role, an urgent request to act on and drafts at each stage. Every form those pages show
then gets every kind of hostile value in every field; every POST address gets a post
without a CSRF token, an oversize body and NUL characters; every address with a variable
part gets traversal and junk in it. Each answer is below 500 and, when it refuses, a page
in the visitor's language (French here) that changed nothing stored. A test checks that
the forms reached cover every POST address of the app, so a new form cannot be missed."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest

from booking import services as booking_services
from booking.models import TherapistProfile
from service.auth import services as auth_services
from service.db import db
from tests.booking.conftest import make_therapist
from tests.booking.test_booking import book_through_the_pages
from tests.conftest import app_on_empty_database, csrf_token_from, every_row_as_tuples, seed, sign_in, staff_maker
from tests.service.forms import Form, forms_in
from tests.service.test_crawl import LINK, STAFF_CALENDAR, crawl
from tests.service.test_urgent_contact import request_contact

FRENCH = {"Accept-Language": "fr"}
EVERY_ROLE = ("admin", "editor", "publisher", "therapist", "duty", "counsellor")
HOSTILE = [
    "' OR 1=1 --",
    "'; DROP TABLE anonymous_keys; --",
    "{{ 7*7 }}",
    "{% for x in range(99) %}x{% endfor %}",
    "<script>alert(1)</script>",
    "../../../etc/passwd",
    "\u202e\u0007\u001b[31m\r\n",
    "A" * 5000,
    "😀" * 300,
    "-1",
    "99999999999999999999",
    "1e309",
    "NaN",
    "2026-02-30",
    "25:61",
    "Mars/Olympus",
    "",
    " ",
]
# Rows that a refused post may still write, each for a reason of its own.
WRITTEN_WHEN_REFUSED = {
    "audit_entries": "a refused sign-in step or staff action is itself audited",
    "staff_sessions": "any request of a signed-in colleague keeps the session alive (its last-seen time)",
    "staff_members": "a wrong second-factor code counts for the account even when the change it came with is refused",
    "outbox_messages": "the admins are told when wrong codes lock an account's second factor",
    "visitor_sessions": "a visitor's session keeps what the form showed back (a message, the key left open) "
                        "and moves its idle expiry on",
}


@dataclass
class Portal:
    app: object
    forms: list[tuple[object, Form]]  # each form with the client that saw it
    visitor: object  # a client with a key open and a booking open
    staff: object  # a client signed in with every role
    addresses: set[str]  # every address the pages linked to, with its query


def post_form(client, form: Form, **changes):
    return client.post(form.action, data={**form.defaults(), **changes})


def form_on(client, page: str, action_part: str) -> Form:
    return next(form for form in forms_in(page, client.get(page).get_data(as_text=True))
                if action_part in form.action)


def answer_until_the_end(client, slug: str) -> str:
    """Answers each question with its first option, going on after crisis help in the
    middle; returns the address after the last (the result, or help with a finish)."""
    address = f"/check/{slug}/1"
    for _ in range(100):
        if re.fullmatch(rf"/check/{slug}/\d+", address):
            response = post_form(client, form_on(client, address, address), answer=first_answer(client, address),
                                 go="next")
            assert response.status_code == 302, response.status_code
            address = response.headers["Location"]
        elif (after := re.fullmatch(rf"/check/{slug}/help\?after=(\d+)", address)) and not any(
                form.action.endswith("/finish") for form in forms_in(address, client.get(address).get_data(as_text=True))):
            address = f"/check/{slug}/{int(after.group(1)) + 1}"
        else:
            return address
    raise AssertionError("the assessment never ended")


def first_answer(client, address: str) -> str:
    form = form_on(client, address, address)
    return next(item for item in form.fields if item.name == "answer").options[0]


def new_key(client) -> None:
    assert post_form(client, form_on(client, "/key/", "/key/new")).status_code in (200, 302)


@pytest.fixture(scope="module")
def portal(tmp_path_factory, postgres_schema):
    """One portal for the whole module: exploring it takes seconds, and each test here
    only checks answers and that refused posts change nothing."""
    with app_on_empty_database(tmp_path_factory.mktemp("portal"), postgres_schema) as app:
        seed(app)
        make_staff = staff_maker(app)
        yield explored_portal(app, make_therapist(app, make_staff), make_staff)


def explored_portal(app, therapist, make_staff) -> Portal:
    with app.app_context(), db.transaction() as session:
        # No notice, so that an appointment can start within the hour (the therapist may
        # then reveal the visitor's phone number).
        session.get(TherapistProfile, therapist.profile_id).notice_hours = 0
        free = booking_services.free_slots_for(session, session.get(TherapistProfile, therapist.profile_id))
    pages: list[tuple[object, str, str]] = []  # client, address, page as that client saw it

    def look(client, *addresses: str) -> None:
        pages.extend((client, address, client.get(address).get_data(as_text=True)) for address in addresses)

    def crawled(client, *arguments, **options) -> None:
        pages.extend((client, address, body) for address, body in crawl(app, client, *arguments, **options).items())

    # A visitor with a key, an appointment three days ahead (open), answers under way,
    # a result to keep, results kept, and crisis help before the last result.
    visitor = app.test_client()
    new_key(visitor)
    assert book_through_the_pages(visitor, therapist, free[0].starts_at).status_code == 200
    later = next(slot for slot in free if slot.starts_at > free[0].starts_at + dt.timedelta(days=3))
    assert book_through_the_pages(visitor, therapist, later.starts_at, use_my_key="y").status_code == 200
    look(visitor, "/booking/manage")
    # A message thread, and an exercise answer that can be sent for feedback.
    assert post_form(visitor, form_on(visitor, "/talk/", "/talk/"), body="A first message.").status_code == 302
    exercise = "/self-help/understanding-your-thoughts/noticing-patterns"
    assert post_form(visitor, form_on(visitor, exercise, "/answer"), text="An answer.").status_code == 302
    assert post_form(visitor, form_on(visitor, "/booking/manage", "/manage/open/")).status_code == 302
    look(visitor, "/booking/manage", "/booking/manage/move")
    result = answer_until_the_end(visitor, "self-reflection")
    if "/help" in result:
        result = post_form(visitor, form_on(visitor, result, "/finish")).headers["Location"]
    assert post_form(visitor, form_on(visitor, result, "/keep")).status_code == 302
    look(visitor, "/check/my-results")
    help_first = answer_until_the_end(visitor, "wellbeing")
    look(visitor, help_first)
    look(visitor, post_form(visitor, form_on(visitor, help_first, "/finish")).headers["Location"])
    answer_until_the_end(visitor, "wellbeing")  # under way again, so that finishing stays possible
    crawled(visitor, "/", "en", once=("/booking/book?", "/booking/?"))

    assert request_contact(app.test_client()).status_code == 200

    # Staff with every role: drafts being written, in review and superseded; a disabled
    # colleague; an urgent request to act on.
    staff = app.test_client()
    sign_in(staff, make_staff("warden", roles=EVERY_ROLE))
    for slug in ("about", "privacy", "confidentiality"):
        assert post_form(staff, form_on(staff, f"/staff/content/page/{slug}", "/draft")).status_code == 302
    for slug in ("privacy", "confidentiality"):
        assert post_form(staff, form_on(staff, f"/staff/content/page/{slug}", "/submit")).status_code == 302
    second_pair_of_eyes = app.test_client()
    sign_in(second_pair_of_eyes, make_staff("reviewer", roles=("publisher",)))
    assert post_form(second_pair_of_eyes, form_on(second_pair_of_eyes, "/staff/content/page/confidentiality",
                                                  "/publish")).status_code == 302
    # A duty shift on the roster (so its removal shows), and a request held by a colleague
    # (so taking it over shows).
    from service.clock import clock as the_clock

    assert post_form(staff, form_on(staff, "/staff/duty/roster", "/staff/duty/roster"),
                     day=the_clock.today().isoformat(), start="00:00", end="23:30").status_code == 302
    colleague = app.test_client()
    sign_in(colleague, make_staff("colleague", roles=("duty",)))
    assert request_contact(app.test_client(), channel="message", contact="").status_code == 200
    held = re.findall(r'href="(/staff/duty/[0-9A-F]{6})"', colleague.get("/staff/duty/").get_data(as_text=True))[-1]
    assert post_form(colleague, form_on(colleague, held, "/acknowledge")).status_code == 302
    publish_a_page_of_our_own(app, make_staff)
    retired = make_staff("retired", roles=("editor",))
    assert post_form(staff, form_on(staff, "/staff/people", f"/{retired.id}/disable"),
                     confirmed="yes").status_code == 302
    # Someone invited who has not enrolled yet (a new link is for them; enrolled
    # colleagues get the reset that two admins agree to instead).
    with app.app_context(), db.transaction() as session:
        newcomer = auth_services.create_staff(session, "newcomer", "Newcomer", "newcomer@example.org", {"editor"}, None)
        invitation = auth_services.invite(session, newcomer, None)
    with app.app_context(), db.transaction() as session:  # mail set aside, for /staff/mail's forms
        from service.clock import clock
        from service.crypto import seal
        from service.outbox import UNUSABLE_ADDRESS, OutboxMessage

        session.add(OutboxMessage(sealed_recipient=seal("john.doe@[gmail.com"), subject="Pause: a reminder",
                                  body="Reminder", created_at=clock.now(), next_attempt_at=clock.now(), attempts=1,
                                  urgent=False, failures=1, failure=UNUSABLE_ADDRESS, set_aside_at=clock.now()))
    crawled(staff, "/staff/", "en", prefix="/staff", once=STAFF_CALENDAR)

    theo = app.test_client()
    sign_in(theo, therapist.account)
    crawled(theo, "/staff/appointments/", "en", prefix="/staff/appointments", once=STAFF_CALENDAR)

    # First visits: opening a key or a booking, signing in, enrolling from an invitation.
    stranger = app.test_client()
    look(stranger, "/key/", "/booking/manage", "/staff/login")
    halfway = app.test_client()
    gatekeeper = make_staff("gatekeeper", roles=("editor",))
    assert post_form(halfway, form_on(halfway, "/staff/login", "/staff/login"), username=gatekeeper.username,
                     password=gatekeeper.password).status_code == 302
    look(halfway, "/staff/login/code")
    look(stranger, f"/staff/enrol/{invitation}")

    look_at_live_sessions(app, therapist, make_staff, staff, look)

    # A form shown many times (a button for each free time, each colleague's roles, the
    # same form on several pages) is tried once: by its endpoint and its fields.
    forms = {}
    for client, address, body in pages:
        for form in forms_in(address, body):
            shape = (endpoint_of(app, form.action), tuple((item.name, item.kind) for item in form.fields))
            forms.setdefault(shape, (client, form))
    addresses = {html.unescape(link).split("#")[0] for _client, _address, body in pages
                 for attribute, link in LINK.findall(body) if attribute.lower() == "href" and link.startswith("/")}
    addresses |= {address for _client, address, _body in pages}
    return Portal(app, list(forms.values()), visitor, staff, addresses)


def look_at_live_sessions(app, therapist, make_staff, staff, look) -> None:
    """Live text sessions (issue 17): a walk-in waiting (write, leave, keep as a thread),
    one the warden picked up (write, end), one ended (transcript, erase, close), a text
    chat about to start (open it from both sides), the queue and the chat hours."""
    from service.clock import clock
    from service.conversations import live

    with app.app_context(), db.transaction() as session:
        live.set_staffed_hours(session, "en", [(day, dt.time(0), dt.time(23, 59)) for day in range(7)])
        session.get(TherapistProfile, therapist.profile_id).modalities = "phone video chat"
    visitors = []
    for words in ("waiting", "picked up", "ended"):
        visitor = app.test_client()
        assert post_form(visitor, form_on(visitor, "/live/walk-in", "/live/walk-in"), body=words).status_code == 302
        visitors.append(visitor)
    queue = form_on(staff, "/staff/live/", "/pick-up")
    assert post_form(staff, queue).status_code == 302
    post_form(visitors[2], form_on(visitors[2], "/live/", "/live/end"))
    look(visitors[0], "/live/", "/live/walk-in")
    look(visitors[1], "/live/")
    look(visitors[2], "/live/")
    look(staff, "/staff/live/", "/staff/live/hours", queue.action.rsplit("/", 1)[0])
    before = clock.now()
    with app.app_context(), db.transaction() as session:
        profile = session.get(TherapistProfile, therapist.profile_id)
        slot = booking_services.free_slots_for(session, profile)[-1]
        booking, key = booking_services.book(session, profile.id, slot.starts_at, {
            "modality": "chat", "language": "en", "note": "", "contact": "", "reminder_email": ""})
        reference = booking.reference
    clock.freeze(slot.starts_at - dt.timedelta(minutes=5))
    chatter = app.test_client()
    assert post_form(chatter, form_on(chatter, "/booking/manage", "/booking/manage"), key=key).status_code == 302
    look(chatter, "/booking/manage")
    theo = app.test_client()
    sign_in(theo, therapist.account)
    look(theo, f"/staff/appointments/{reference}")
    clock.freeze(before)
def publish_a_page_of_our_own(app, make_staff) -> None:
    """A published page that is not one of the required ones, so that unpublishing shows."""
    from content import publishing
    from service.auth.models import StaffMember

    author, publisher = make_staff("page-author", roles=("editor",)), make_staff("page-publisher", roles=("publisher",))
    with app.app_context(), db.transaction() as session:
        writer = session.get(StaffMember, author.id)
        draft = publishing.new_page(session, writer, "opening-hours", "Opening hours", "en")
        document = publishing.document_of(draft)
        document["texts"] = {"en": {"title": "Opening hours", "body": "Monday to Friday."},
                             "fr": {"title": "Horaires", "body": "Du lundi au vendredi."}}
        assert publishing.save_draft(session, writer, draft, document, "", "en") == []
        publishing.submit_for_review(session, writer, draft)
        publishing.publish(session, session.get(StaffMember, publisher.id), draft)


def endpoint_of(app, address: str, method: str = "POST") -> str:
    parts = urlsplit(address)
    return app.url_map.bind("localhost").match(parts.path, method=method)[0]


def post_rules(app):
    return [rule for rule in app.url_map.iter_rules() if "POST" in rule.methods]


def stored(app) -> list:
    return every_row_as_tuples(app, skip=WRITTEN_WHEN_REFUSED)


def assert_clear_refusal_or_success(response, where: str, language: str = "fr") -> None:
    assert response.status_code < 500, where
    body = response.get_data(as_text=True)
    assert "Traceback" not in body, where
    if response.status_code >= 400:
        assert f'<html lang="{language}"' in body, f"{where}: {response.status_code} not in {language}"


def fields_of_each_kind(form: Form) -> list:
    """The form's fields, one of each run of numbered twins (the availability form's
    window-0-start ... window-6-start are read by the same code)."""
    kinds = {}
    for item in form.fillable():
        kinds.setdefault((item.kind, re.sub(r"\d+", "#", item.name)), item)
    return list(kinds.values())


def test_the_explored_forms_reach_every_post_address(portal):
    reached = {endpoint_of(portal.app, form.action) for _client, form in portal.forms}
    every = {rule.endpoint for rule in post_rules(portal.app)}
    missing = sorted(every - reached)
    assert not missing, " ".join(missing)


# Every field of every form times every value, each checked against a dump of every
# table: minutes on a loaded two-core machine, and more with each new staff form.
@pytest.mark.timeout(1800)
def test_hostile_values_in_every_field_of_every_form(portal):
    tried = 0
    before = stored(portal.app)
    for client, form in portal.forms:
        for field in fields_of_each_kind(form):
            for value in HOSTILE:
                # Each post from another address, so that the per-address throttles let the
                # values through to the checks behind them.
                response = client.post(form.action, data={**form.defaults(), field.name: value}, headers=FRENCH,
                                       environ_base={"REMOTE_ADDR": f"10.0.{tried // 250}.{tried % 250}"})
                where = f"{form.action} {field.name}={value[:20]!r}"
                assert_clear_refusal_or_success(response, where)
                after = stored(portal.app)
                if response.status_code >= 400:
                    assert after == before, f"{where}: refused, yet something was stored"
                # The dump after this post is the one before the next: one dump per post.
                before = after
                tried += 1
    assert tried > 500


# Junk for the variable parts of addresses and for query values, as sent on the wire.
JUNK_IN_ADDRESSES = [
    "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "..", "%27%20OR%201%3D1%20--", "%7B%7B7*7%7D%7D", "-1",
    "99999999999999999999", "%00", "%FF%FE", "%F0%9F%98%80", "A" * 300, "%E2%80%AE", "2026-02-30", "25%3A61",
]


def each_post_address(app):
    """Every POST address of the app, with "1" in each variable part."""
    return sorted(re.sub(r"<[^>]+>", "1", rule.rule) for rule in post_rules(app))


def token_of(client, page: str) -> str:
    return csrf_token_from(client.get(page).get_data(as_text=True))


def assert_refused(portal, response, status: int, before, where: str) -> None:
    assert response.status_code == status, f"{where}: {response.status_code}"
    assert '<html lang="fr"' in response.get_data(as_text=True), f"{where}: not in French"
    assert stored(portal.app) == before, f"{where}: refused, yet something was stored"


def test_every_post_address_refuses_a_post_without_its_token(portal):
    # Each refusal is checked to store nothing, so what is stored stays as it was first.
    before = stored(portal.app)
    for client in (portal.app.test_client(), portal.visitor, portal.staff):
        for address in each_post_address(portal.app):
            response = client.post(address, data={"anything": "x"}, headers=FRENCH)
            assert_refused(portal, response, 400, before, f"{address} without a token")


def test_every_post_address_refuses_an_oversize_body(portal):
    for client, page in ((portal.visitor, "/key/"), (portal.staff, "/staff/account")):
        token = token_of(client, page)
        before = stored(portal.app)
        for address in each_post_address(portal.app):
            response = client.post(address, data={"csrf_token": token, "note": "x" * 100_000}, headers=FRENCH)
            assert_refused(portal, response, 413, before, f"{address} oversize")


def test_every_post_address_refuses_nul_characters_wherever_they_are(portal):
    for client, page in ((portal.visitor, "/key/"), (portal.staff, "/staff/account")):
        token = token_of(client, page)
        before = stored(portal.app)
        for address in each_post_address(portal.app):
            for data in ({"note": "a\x00b"}, [("note", "fine"), ("note", "a\x00b")], {"no\x00te": "b"}):
                fields = [("csrf_token", token), *(data.items() if isinstance(data, dict) else data)]
                response = client.post(address, data=urlencode(fields), headers=FRENCH,
                                       content_type="application/x-www-form-urlencoded")
                assert_refused(portal, response, 400, before, f"{address} {data!r}")


def test_junk_in_every_variable_part_of_every_address(portal):
    tried = 0
    for rule in portal.app.url_map.iter_rules():
        if "GET" not in rule.methods or not rule.arguments or rule.endpoint == "static":
            continue
        for junk in JUNK_IN_ADDRESSES:
            address = re.sub(r"<[^>]+>", junk, rule.rule)
            for client in (portal.visitor, portal.staff):
                assert_clear_refusal_or_success(client.get(address, headers=FRENCH), address)
                tried += 1
    assert tried > 200


def test_junk_in_every_query_value_the_pages_link_to(portal):
    # One address for each query field of each endpoint.
    fields = {}
    for address in sorted(portal.addresses):
        parts = urlsplit(address)
        for name, _value in parse_qsl(parts.query):
            fields.setdefault((endpoint_of(portal.app, parts.path, "GET"), name), parts)
    tried = 0
    for (endpoint, name), parts in sorted(fields.items()):
        # The language switch answers in the language it switches to; it is tried with
        # clients of its own so that the others keep asking in French.
        switching = endpoint.startswith("i18n") or parts.path.startswith("/language/")
        language = parts.path.rsplit("/", 1)[-1] if switching else "fr"
        clients = (portal.app.test_client(),) if switching else (portal.visitor, portal.staff)
        for junk in JUNK_IN_ADDRESSES:
            query = "&".join(f"{quote(other)}={junk if other == name else quote(value)}"
                             for other, value in parse_qsl(parts.query))
            for client in clients:
                where = f"{parts.path}?{query}"
                assert_clear_refusal_or_success(client.get(where, headers=FRENCH), where, language)
                tried += 1
    assert tried > 100


# Codes that must never reach a staff page as they are: each has a word (service/words.py).
RAW_CODES = (
    "call-line", "no-answer", "wrong-number", "emergency-services", "no-contact", "in-person", "no-show",
    "acknowledged", "superseded", "unrecorded", "withdrawn", "talked", "referred", "afternoon", "evening",
    "case.closed", "case.acknowledged", "case.contact_viewed", "content.published", "content.sent_back",
    "signin.succeeded", "staff.created", "staff.invited", "staff.roles_changed", "row deleted", "columns erased",
    "reduced to aggregate", "kept while in use",
)
NOT_TEXT = re.compile(r"<(script|style|svg|textarea|code)\b.*?</\1>|<[^>]+>", re.S | re.I)


def visible_text(body: str) -> str:
    return html.unescape(NOT_TEXT.sub(" ", body))


def test_no_raw_code_on_any_staff_page_in_french(portal):
    checked, problems = 0, []
    for address in sorted(portal.addresses):
        if not address.startswith("/staff") or address.startswith("/staff/appointments/calendar"):
            continue
        response = portal.staff.get(address, headers=FRENCH)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        text = visible_text(response.get_data(as_text=True))
        found = sorted(code for code in RAW_CODES if re.search(rf"(?<![\w.-]){re.escape(code)}(?![\w.-])", text))
        if found:
            problems.append(f"{address}: {found}")
        checked += 1
    assert not problems, "\n".join(problems)
    assert checked >= 15
