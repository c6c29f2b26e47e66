"""Every staff route, with every role and with none, answers exactly as declared."""

from __future__ import annotations

import pytest

from service.auth.access import ROUTE_ROLES, UndeclaredStaffRoute, check_every_staff_route_is_declared
from service.auth.models import ROLES
from tests.conftest import sign_in

# Routes open without a session, and what they answer to someone who is not signed in.
OPEN_ROUTES = {
    ("staff.login", "GET"): 200,
    ("staff.login_submit", "POST"): 401,
    ("staff.code", "GET"): 302,
    ("staff.code_submit", "POST"): 302,
    ("staff.logout", "POST"): 302,
    ("staff.enrol", "GET"): 410,
    ("staff.enrol", "POST"): 410,
}


QUERY_STRINGS = {"staff_content.compare": "?from=1&to=2"}


def sample_values(rule, staff_id: int, case_reference: str = "NOCASE", booking_reference: str = "NOBOOKING",
                  thread_id: str = "NOTHREAD") -> dict:
    samples = {"public_id": thread_id, "staff_id": staff_id, "token": "not-a-real-token", "kind": "module",
               "slug": "understanding-your-thoughts", "number": 2, "step_slug": "thoughts-are-not-actions",
               "reference": booking_reference if rule.endpoint.startswith(("appointments.", "staff_live."))
               else case_reference,
               "action": "acknowledge", "message_id": 1, "live_id": 999999, "shift_id": 1}
    unknown = set(rule.arguments) - set(samples)
    assert not unknown, f"add sample values for {unknown} ({rule.rule})"
    return {name: samples[name] for name in rule.arguments}


def booking_for(app, therapist_staff_id: int) -> str:
    """A booking in the therapist's diary, written directly: this test is about access."""
    import datetime as dt

    from booking import services as booking_services
    from booking.models import Booking
    from service.auth.models import StaffMember
    from service.db import db

    with app.app_context(), db.transaction() as session:
        profile = booking_services.profile_for_staff(session, session.get(StaffMember, therapist_staff_id))
        start = dt.datetime(2030, 1, 7, 9)
        session.add(Booking(therapist_id=profile.id, reference="B00K1NG", key_digest=None, status="booked",
                            modality="video", language="en", starts_at=start, ends_at=start + dt.timedelta(minutes=50),
                            session_day=start.date(), created_at=start))
    return "B00K1NG"


def staff_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/staff"):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def test_every_staff_route_answers_as_declared_for_every_role_and_for_none(seeded, make_staff):
    from content import publishing
    from service.auth.models import StaffMember
    from service.crisis import services as crisis_services
    from service.db import db

    app = seeded
    target = make_staff("target", roles=("therapist",))
    author = make_staff("author", roles=("editor",))
    with app.app_context(), db.transaction() as session:
        publishing.start_draft(session, session.get(StaffMember, author.id), "module", "understanding-your-thoughts")
        case, _code = crisis_services.open_case(session, {"channel": "call-line", "contact": "", "message": "",
                                                         "time_window": "soon", "language": "en"}, "/staff/duty/")
        reference = case.reference
        from service import outbox

        outbox.queue(session, "someone@example.org", "Pause: a note", "A note.")  # message 1, for /staff/mail
        from service.conversations.services import open_conversation

        thread_id = open_conversation(session, key_id=None, body="A first message.", language="en",
                                      reply_promise_days=3).public_id
    clients, accounts = {None: app.test_client()}, {}
    for role in ROLES:
        clients[role] = app.test_client()
        accounts[role] = make_staff(f"as-{role}", roles=(role,))
        sign_in(clients[role], accounts[role])
    booking_reference = booking_for(app, accounts["therapist"].id)
    # Forms are posted empty: this test is about who gets in, not what they send.
    app.config["WTF_CSRF_ENABLED"] = False

    checked = 0
    for rule, method in staff_rules(app):
        url = rule.build(sample_values(rule, target.id, reference, booking_reference, thread_id))[1] + \
            QUERY_STRINGS.get(rule.endpoint, "")
        declared = ROUTE_ROLES[rule.endpoint]
        for role, client in clients.items():
            if declared is None:
                # Sign-in routes, tried without a session only (signing out would end the others).
                if role is None:
                    response = client.open(url, method=method)
                    assert response.status_code == OPEN_ROUTES[(rule.endpoint, method)], (url, method)
                continue
            response = client.open(url, method=method)
            if role is None:
                assert response.status_code == 302 and response.headers["Location"] == "/staff/login", (url, role)
            elif role in declared:
                expected = {200} if method == "GET" else {200, 302, 400, 422}
                if "live_id" in rule.arguments and method == "GET":
                    # A live session is found only by its own two participants, whatever the role.
                    expected = {404}
                elif "live_id" in rule.arguments:
                    expected = {302, 404}
                assert response.status_code in expected, (url, method, role, response.status_code)
            else:
                assert response.status_code == 403, (url, method, role, response.status_code)
            checked += 1
    assert checked >= 6 * 10


def test_open_routes_are_exactly_the_sign_in_ones(app):
    open_routes = {(rule.endpoint, method) for rule, method in staff_rules(app) if ROUTE_ROLES[rule.endpoint] is None}
    assert open_routes == set(OPEN_ROUTES)


def test_admin_only_routes(app):
    assert ROUTE_ROLES["staff.people"] == {"admin"}
    assert ROUTE_ROLES["staff.audit_log"] == {"admin"}
    assert ROUTE_ROLES["staff.disable"] == {"admin"}


def test_a_staff_route_without_declared_roles_stops_the_app(app):
    @app.get("/staff/forgotten-route")
    def forgotten_route():
        return "no check"

    with pytest.raises(UndeclaredStaffRoute, match="forgotten_route"):
        check_every_staff_route_is_declared(app)


def test_every_staff_form_refuses_a_post_without_its_csrf_token(seeded, make_staff):
    app = seeded
    target = make_staff("target", roles=("therapist",))
    client = app.test_client()
    sign_in(client, make_staff("all-roles", roles=ROLES))
    posts = [(rule, method) for rule, method in staff_rules(app) if method == "POST"]
    assert len(posts) >= 15
    for rule, _method in posts:
        url = rule.build(sample_values(rule, target.id))[1]
        response = client.post(url, data={"username": "x", "password": "y", "code": "123456"})
        assert response.status_code == 400, url
    assert client.get("/staff/").status_code == 200, "still signed in: nothing was done"
