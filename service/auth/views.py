"""Staff sign-in (password, then a second factor), enrolment, sign-out, account and
people administration, and the audit log."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from service import audit
from service.auth import services, sessions, totp
from service.auth.access import (
    any_staff,
    cookie_name,
    current_staff,
    current_staff_session,
    open_to_anyone,
    requires_roles,
)
from service.auth.forms import (
    CodeForm,
    ConfirmForm,
    EnrolForm,
    InviteForm,
    PasswordChangeForm,
    RolesForm,
    SignInForm,
)
from service.auth.models import ROLES, StaffMember
from service.clock import clock
from service.db import db
from service.privacy import client_fingerprint
from service.routing import number_in_query
from service.security import rate_limit
from service.words import zone_choices

blueprint = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates")

ACCOUNT_CEILING_PERIOD = dt.timedelta(minutes=15)
SIGN_IN_FAILED = "Sign-in failed. Check your username and password. After several failures, wait 15 minutes."


def _account_key() -> str:
    """Throttle per account name, known or not, so unknown names behave the same."""
    name = services.normalise_username(request.form.get("username", ""))
    secret = current_app.config["SECRET_KEY"].encode()
    return "account:" + hmac.new(secret, name.encode(), hashlib.sha256).hexdigest()[:24]


def _account_and_client_key() -> str:
    """Five failures lock an account name for one client only: a colleague (or anyone)
    typing wrong passwords elsewhere cannot lock the owner out."""
    return _account_key() + ":" + client_fingerprint()


def _account_ceiling_reached(_limit) -> None:
    """Very many failures for one account, from any number of clients: the account is
    refused for a while for everyone, and the admins are told (once per period)."""
    with db.transaction() as session:
        services.account_ceiling_reached(session, request.form.get("username", ""), ACCOUNT_CEILING_PERIOD)


def _pending_key() -> str:
    return "code:" + sessions.digest(request.cookies.get(cookie_name(), ""))[:24]


def _failed(response) -> bool:
    return response.status_code != 302


def _set_session_cookie(response, token: str):
    response.set_cookie(cookie_name(), token, httponly=True, secure=current_app.config["PAUSE"].is_production,
                        samesite="Strict", path="/")
    return response


@blueprint.get("/login")
@open_to_anyone
def login():
    if current_staff() is not None:
        return redirect(url_for(".home"))
    return render_template("staff/login.html", form=SignInForm())


@blueprint.post("/login")
@open_to_anyone
@rate_limit("20 per minute", key_func=client_fingerprint)
@rate_limit("5 per 15 minutes", key_func=_account_and_client_key, deduct_when=_failed)
@rate_limit("50 per 15 minutes", key_func=_account_key, deduct_when=_failed, on_breach=_account_ceiling_reached)
def login_submit():
    form = SignInForm()
    if form.validate_on_submit():
        with db.transaction() as session:
            staff = services.check_password(session, form.username.data, form.password.data)
            token = sessions.start(session, staff, sessions.PASSWORD_STAGE) if staff else None
        if token:
            return _set_session_cookie(redirect(url_for(".code")), token)
    form.password.data = ""
    return render_template("staff/login.html", form=form, failed=_(SIGN_IN_FAILED)), 401


def _pending_sign_in():
    found = sessions.find(db.session, request.cookies.get(cookie_name()))
    if found is None or found[0].stage != sessions.PASSWORD_STAGE:
        return None
    return found


@blueprint.get("/login/code")
@open_to_anyone
def code():
    if _pending_sign_in() is None:
        return redirect(url_for(".login"))
    return render_template("staff/code.html", form=CodeForm())


@blueprint.post("/login/code")
@open_to_anyone
@rate_limit("5 per 5 minutes", key_func=_pending_key, deduct_when=_failed)
def code_submit():
    pending = _pending_sign_in()
    if pending is None:
        flash(_("Your sign-in took too long. Please start again."), "info")
        return redirect(url_for(".login"))
    form = CodeForm()
    if form.validate_on_submit():
        with db.transaction() as session:
            pending_session, staff = pending
            staff = session.merge(staff)
            if services.check_second_factor(session, staff, form.code.data):
                sessions.end(session, pending_session.id)
                token = sessions.start(session, staff, sessions.SIGNED_IN)
                audit.record(session, staff, "signin.succeeded", "staff", staff.id)
                left = services.unused_recovery_codes(session, staff)
            else:
                token = None
        if token:
            if left < 3:
                flash(_("You have %(count)d recovery codes left. Make new ones from your account page.",
                        count=left), "info")
            from service.auth import held

            # Back to the page whose text was held when the last session ran out, if any.
            return _set_session_cookie(redirect(held.waiting_path(db.session, staff.id) or url_for(".home")), token)
    return render_template("staff/code.html", form=form,
                           failed=_("That code is not right. Try the newest code from your app.")), 401


@blueprint.post("/logout")
@open_to_anyone
def logout():
    if ConfirmForm().validate_on_submit():
        found = sessions.find(db.session, request.cookies.get(cookie_name()))
        if found is not None:
            with db.transaction() as session:
                sessions.end(session, found[0].id)
                audit.record(session, found[1], "signout", "staff", found[1].id)
    response = make_response(redirect(url_for(".login")))
    response.delete_cookie(cookie_name(), path="/")
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@blueprint.route("/enrol/<token>", methods=["GET", "POST"])
@open_to_anyone
def enrol(token: str):
    opened = services.open_invite(db.session, token)
    if opened is None:
        return render_template("staff/enrol_expired.html"), 410
    _invite, staff = opened
    form = EnrolForm()
    if request.method == "GET" or not totp.is_secret(form.secret.data):
        # A secret that is not one we made (the hidden field was changed) is replaced:
        # the code typed cannot match the new one, so the page asks to scan again.
        form.secret.data = totp.new_secret()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            with db.transaction() as session:
                enrolment = services.complete_enrolment(session, token, form.password.data, form.secret.data,
                                                        form.code.data)
        except services.AccountError as error:
            problems.append(str(error))
        else:
            # Enrolment proved both factors: the person is signed in at once.
            with db.transaction() as session:
                signed_in = session.merge(enrolment.staff)
                token = sessions.start(session, signed_in, sessions.SIGNED_IN)
                audit.record(session, signed_in, "signin.succeeded", "staff", signed_in.id)
            response = make_response(render_template("staff/recovery_codes.html", codes=enrolment.recovery_codes,
                                                      staff=enrolment.staff, just_enrolled=True))
            return _set_session_cookie(response, token)
    uri = totp.provisioning_uri(form.secret.data, staff.username)
    form.password.data = form.confirm.data = ""
    return render_template("staff/enrol.html", form=form, staff=staff, problems=problems,
                           qr_svg=totp.qr_code_svg(uri, _("QR code for your authenticator app")),
                           secret_groups=" ".join(form.secret.data[i:i + 4] for i in range(0, totp.SECRET_LENGTH, 4))), \
        (422 if problems or form.errors else 200)


@blueprint.get("/")
@any_staff
def home():
    from flask import session as browser_session

    from service import workspace

    staff = current_staff()
    # Refreshing by itself is the staff member's choice (WCAG 2.2.1, timing adjustable):
    # once chosen it works with JavaScript off too, and it is remembered for the visit.
    chosen = request.args.get("refresh")
    if chosen in ("on", "off"):
        browser_session["home_refresh"] = chosen == "on"
    sections = workspace.attention_for(db.session, clock.now(), staff)
    return render_template("staff/home.html", staff=staff, sections=sections, attention=workspace.count(sections),
                           refresh_seconds=60 if browser_session.get("home_refresh") else None)


def _staff_session_key() -> str:
    return "account-code:" + sessions.digest(request.cookies.get(cookie_name(), ""))[:24]


@blueprint.route("/account", methods=["GET", "POST"])
@any_staff
@rate_limit("5 per 5 minutes", key_func=_staff_session_key, methods=["POST"], deduct_when=_failed)
def account():
    staff = current_staff()
    form = PasswordChangeForm()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            with db.transaction() as session:
                services.change_password(session, session.merge(staff), form.current.data, form.password.data,
                                         form.code.data)
        except services.CodeRefused as error:
            # The change is refused as a whole; the wrong code still counts for the account.
            with db.transaction() as session:
                services.count_refused_code(session, session.merge(staff))
            problems.append(str(error))
        except services.AccountError as error:
            problems.append(str(error))
        else:
            flash(_("Your password is changed."), "success")
            return redirect(url_for(".account"))
    return render_template("staff/account.html", form=form, problems=problems,
                           recovery_left=services.unused_recovery_codes(db.session, staff),
                           confirm_form=ConfirmForm(), zones=zone_choices(), my_zone=staff.time_zone), \
        (422 if problems or form.errors else 200)


@blueprint.post("/account/time-zone")
@any_staff
def set_time_zone():
    """Times on staff pages are shown in this zone."""
    from service.words import is_zone

    if not ConfirmForm().validate_on_submit():
        abort(400)
    chosen = request.form.get("time_zone", "")[:64]
    if not is_zone(chosen):
        flash(_("Please choose a time zone from the list."), "error")
        return redirect(url_for(".account"))
    with db.transaction() as session:
        staff = session.merge(current_staff())
        staff.time_zone = chosen
        audit.record(session, staff, "staff.time_zone_changed", "staff", staff.id, zone=chosen)
    flash(_("Times are now shown in %(zone)s.", zone=chosen), "success")
    return redirect(url_for(".account"))


@blueprint.post("/account/recovery-codes")
@any_staff
def new_recovery_codes():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with db.transaction() as session:
        staff = session.merge(current_staff())
        codes = services.replace_recovery_codes(session, staff)
        audit.record(session, staff, "staff.recovery_codes_replaced", "staff", staff.id)
    return render_template("staff/recovery_codes.html", codes=codes, staff=staff)


# People -----------------------------------------------------------------------------------


def _roles_from(form) -> set[str]:
    return {role for role in ROLES if getattr(form, role).data}


@blueprint.get("/people")
@requires_roles("admin")
def people():
    return render_template("staff/people.html", people=services.all_staff(db.session), invite_form=InviteForm(),
                           confirm_form=ConfirmForm(), roles=ROLES,
                           summaries=services.people_summaries(db.session), reset_pending=services.reset_pending)


@blueprint.post("/people")
@requires_roles("admin")
def invite():
    form = InviteForm()
    problems = []
    if form.validate_on_submit():
        try:
            with db.transaction() as session:
                actor = session.merge(current_staff())
                staff = services.create_staff(session, form.username.data, form.display_name.data, form.email.data,
                                              _roles_from(form), actor)
                token = services.invite(session, staff, actor)
                link = _enrolment_link(token)
                mailed = services.mail_invitation(session, staff, link)
        except services.AccountError as error:
            problems.append(str(error))
        else:
            return render_template("staff/invited.html", staff=staff, link=link, mailed=mailed)
    return render_template("staff/people.html", people=services.all_staff(db.session), invite_form=form,
                           confirm_form=ConfirmForm(), roles=ROLES, problems=problems,
                           summaries=services.people_summaries(db.session), reset_pending=services.reset_pending), 422


def _person_or_404(staff_id: int, session) -> StaffMember:
    staff = session.get(StaffMember, staff_id)
    if staff is None:
        abort(404)
    return staff


@blueprint.post("/people/<int:staff_id>/roles")
@requires_roles("admin")
def change_roles(staff_id: int):
    form = RolesForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with db.transaction() as session:
            services.set_roles(session, _person_or_404(staff_id, session), _roles_from(form),
                               session.merge(current_staff()))
    except services.AccountError as error:
        flash(str(error), "error")
    else:
        flash(_("Roles saved."), "success")
    return redirect(url_for(".people"))


@blueprint.post("/people/<int:staff_id>/disable")
@requires_roles("admin")
def disable(staff_id: int):
    from service.confirm import confirmation_page, confirmed

    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not confirmed():
        person = _person_or_404(staff_id, db.session)
        return confirmation_page(_("Disable the account of %(name)s?", name=person.display_name),
                                 _("All their sessions end at once and they cannot sign in until it is enabled again."),
                                 _("Yes, disable the account"), url_for(".people"))
    try:
        with db.transaction() as session:
            services.disable(session, _person_or_404(staff_id, session), session.merge(current_staff()))
    except services.AccountError as error:
        flash(str(error), "error")
    else:
        flash(_("The account is disabled and all its sessions have ended."), "success")
    return redirect(url_for(".people"))


@blueprint.post("/people/<int:staff_id>/enable")
@requires_roles("admin")
def enable(staff_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with db.transaction() as session:
        services.enable(session, _person_or_404(staff_id, session), session.merge(current_staff()))
    flash(_("The account is enabled again."), "success")
    return redirect(url_for(".people"))


@blueprint.post("/people/<int:staff_id>/invite")
@requires_roles("admin")
def reinvite(staff_id: int):
    """A new link for someone who has not enrolled yet. An enrolled account is reset
    instead (below), by two admins."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with db.transaction() as session:
        staff = _person_or_404(staff_id, session)
        if staff.enrolled_at is not None:
            flash(_("This account is enrolled: reset it instead. A second administrator must approve."), "error")
            return redirect(url_for(".people"))
        token = services.invite(session, staff, session.merge(current_staff()))
        link = _enrolment_link(token)
        mailed = services.mail_invitation(session, staff, link) if staff.enrolled_at is None else False
    return render_template("staff/invited.html", staff=staff, link=link, mailed=mailed)


def _enrolment_link(token: str) -> str:
    return current_app.config["PAUSE"].base_url + url_for(".enrol", token=token)


@blueprint.post("/people/<int:staff_id>/reset")
@requires_roles("admin")
def reset(staff_id: int):
    """Asks for a reset, or approves one another admin asked for. Only the approval
    changes the account (and gives the new enrolment link)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    token = None
    try:
        with db.transaction() as session:
            staff, actor = _person_or_404(staff_id, session), session.merge(current_staff())
            if services.reset_pending(staff) and staff.reset_requested_by != actor.id:
                token = services.approve_reset(session, staff, actor)
            elif services.reset_pending(staff):
                raise services.AccountError(_("You asked for this reset: a second administrator must approve it."))
            else:
                services.request_reset(session, staff, actor)
    except services.AccountError as error:
        flash(str(error), "error")
        return redirect(url_for(".people"))
    if token is None:
        flash(_("The reset is asked for. Nothing changes until a second administrator approves it."), "success")
        return redirect(url_for(".people"))
    flash(_("The account is reset: its sessions have ended and its owner is told."), "success")
    return render_template("staff/invited.html", staff=staff, link=url_for(".enrol", token=token, _external=True))


# Audit log --------------------------------------------------------------------------------


def _day(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(value, "%Y-%m-%d")
    except (TypeError, ValueError):
        return None


def _audit_query() -> tuple[dict, dict]:
    """The filters of the audit log; days are the reader's own (their time zone)."""
    from service.words import from_local

    filters = {name: request.args.get(name, "").strip()[:64] for name in ("actor", "action", "object_type")}
    since, until = _day(request.args.get("since", "")), _day(request.args.get("until", ""))
    bounds = {"since": from_local(since) if since else None,
              "until": from_local(until + dt.timedelta(days=1)) if until else None}
    return filters, bounds


@blueprint.get("/audit")
@requires_roles("admin")
def audit_log():
    page = max(number_in_query("page", 1), 1)
    filters, bounds = _audit_query()
    rows = audit.entries(db.session, limit=51, offset=(page - 1) * 50, **bounds, **filters)
    return render_template("staff/audit.html", rows=rows[:50], more=len(rows) > 50, page=page, filters=filters,
                           since=request.args.get("since", ""), until=request.args.get("until", ""),
                           actions=audit.action_names(db.session), object_types=audit.object_types(db.session))


@blueprint.get("/audit.csv")
@requires_roles("admin")
def audit_export():
    """The filtered audit log as CSV, in words and the reader's time; the export is itself audited."""
    import csv
    import io

    from service.words import audit_detail, to_local, word

    filters, bounds = _audit_query()
    rows = audit.entries(db.session, limit=100_000, **bounds, **filters)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("When"), _("Who"), _("What"), _("Object"), _("Detail"), "action", "object_type", "object_id"])
    for row in rows:
        writer.writerow([_cell(value) for value in (
            to_local(row.at).strftime("%Y-%m-%d %H:%M:%S %Z"), row.actor_name, word(row.action, "audit-action"),
            word(row.object_type, "object-type"), audit_detail(row.detail), row.action, row.object_type,
            row.object_id)])
    with db.transaction() as session:
        audit.record(session, session.merge(current_staff()), "audit.exported", "audit", "", rows=len(rows))
    return current_app.response_class(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="pause-audit-{clock.today():%Y-%m-%d}.csv"'})


def _cell(text: str) -> str:
    """No cell starts like a formula when the file is opened in a spreadsheet."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@blueprint.get("/privacy")
@requires_roles("admin")
def privacy_inventory():
    """The retention registry with live counts: what is held now, and the oldest item."""
    from service.retention import report

    return render_template("staff/privacy.html", holdings=report(db.session))


@blueprint.app_context_processor
def staff_template_values() -> dict:
    if not request.path.startswith("/staff"):
        return {}
    staff_session = current_staff_session()
    return {
        "signed_in_staff": g.get("pause_staff"),
        "staff_session_ends_at": sessions.ends_at(staff_session) if staff_session else None,
        # Not read from the request: this also runs for error pages, such as the one
        # for a body too large to read.
        "staff_logout_form": ConfirmForm(formdata=None),
        "now": clock.now(),
    }
