"""Staff accounts: invitation, enrolment, two-step sign-in, recovery codes, disabling.
Plain functions over a Session; the caller owns the transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit, crypto
from service.addresses import checked_address
from service.auth import passwords, sessions, totp
from service.auth.models import ROLES, EnrolmentInvite, RecoveryCode, StaffMember, StaffRole
from service.clock import clock

INVITE_LIFETIME = dt.timedelta(days=3)
# Wrong second-factor codes an account may get, across all its sign-ins and the account
# page, before the factor is locked for a while and the admins are told.
CODE_FAILURES_BEFORE_LOCK = 10
CODE_LOCK = dt.timedelta(minutes=30)
# A reset asked for by one admin waits this long for a second admin's approval.
RESET_REQUEST_LIFETIME = dt.timedelta(days=2)
RECOVERY_CODE_COUNT = 10
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")


class AccountError(ValueError):
    """A rule about accounts was broken; the message is for staff."""


class CodeRefused(AccountError):
    """The second-factor code was wrong (or the factor is locked): counted in its own
    transaction by the caller, so that refusing the rest does not undo the count."""


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def find_by_username(session: Session, username: str) -> StaffMember | None:
    return session.scalar(select(StaffMember).where(StaffMember.username == normalise_username(username)))


def create_staff(session: Session, username: str, display_name: str, email: str, roles: set[str],
                 actor: StaffMember | None) -> StaffMember:
    username = normalise_username(username)
    if not USERNAME.match(username):
        raise AccountError(_l("A username is 2 to 63 lowercase letters, digits, dots, hyphens or underscores."))
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise AccountError(_l("Choose at least one role among %(roles)s.", roles=", ".join(ROLES)))
    if find_by_username(session, username) is not None:
        raise AccountError(_l("That username is taken."))
    email = (email or "").strip()
    if email:
        try:
            email = checked_address(email)
        except ValueError as error:
            raise AccountError(_l("This does not look like an e-mail address.")) from error
    staff = StaffMember(username=username, display_name=display_name.strip() or username, email=email,
                        created_at=clock.now(), roles=[StaffRole(role=role) for role in sorted(roles)])
    session.add(staff)
    session.flush()
    audit.record(session, actor, "staff.created", "staff", staff.id, actor_name="cli", username=username,
                 roles=sorted(roles))
    return staff


def invite(session: Session, staff: StaffMember, actor: StaffMember | None) -> str:
    """A one-time enrolment token (for the link); older invitations stop working."""
    for old in session.scalars(select(EnrolmentInvite).where(EnrolmentInvite.staff_id == staff.id,
                                                             EnrolmentInvite.used_at.is_(None))):
        old.used_at = clock.now()
    token = secrets.token_urlsafe(32)
    session.add(EnrolmentInvite(staff_id=staff.id, token_digest=hashlib.sha256(token.encode()).hexdigest(),
                                created_at=clock.now(), expires_at=clock.now() + INVITE_LIFETIME))
    audit.record(session, actor, "staff.invited", "staff", staff.id, actor_name="cli")
    return token


def open_invite(session: Session, token: str) -> tuple[EnrolmentInvite, StaffMember] | None:
    digest = hashlib.sha256((token or "").encode()).hexdigest()
    invite_row = session.scalar(select(EnrolmentInvite).where(EnrolmentInvite.token_digest == digest))
    if invite_row is None or invite_row.used_at is not None or invite_row.expires_at < clock.now():
        return None
    staff = session.get(StaffMember, invite_row.staff_id)
    if staff is None or staff.disabled_at is not None:
        return None
    return invite_row, staff


@dataclass(frozen=True)
class Enrolment:
    staff: StaffMember
    recovery_codes: list[str]


def complete_enrolment(session: Session, token: str, password: str, totp_secret: str, code: str) -> Enrolment:
    """Sets the password and the second factor in one step; the invitation is spent."""
    opened = open_invite(session, token)
    if opened is None:
        raise AccountError(_l("This enrolment link has expired or was already used. Ask an administrator for a new one."))
    invite_row, staff = opened
    if staff.enrolled_at is not None:
        # An enrolled account changes hands only through a reset two admins agreed to.
        raise AccountError(_l("This enrolment link has expired or was already used. Ask an administrator for a new one."))
    problems = passwords.problems_with(password, staff.username)
    if problems:
        raise AccountError(" ".join(str(problem) for problem in problems))
    step = totp.accepted_step(totp_secret, code, clock.timestamp(), None)
    if step is None:
        raise AccountError(_l("That code is not right. Check the time on your phone and try the newest code."))
    staff.password_hash = passwords.hash_password(password)
    staff.totp_secret_sealed = crypto.seal(totp_secret)
    staff.totp_last_step = step
    staff.enrolled_at = clock.now()
    invite_row.used_at = clock.now()
    codes = replace_recovery_codes(session, staff)
    audit.record(session, staff, "staff.enrolled", "staff", staff.id)
    return Enrolment(staff, codes)


def replace_recovery_codes(session: Session, staff: StaffMember) -> list[str]:
    for old in session.scalars(select(RecoveryCode).where(RecoveryCode.staff_id == staff.id)):
        session.delete(old)
    codes = ["-".join(secrets.token_hex(3) for _ in range(3)) for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        session.add(RecoveryCode(staff_id=staff.id, code_hash=passwords.hash_password(code), used_at=None))
    return codes


# Sign-in --------------------------------------------------------------------------------


def check_password(session: Session, username: str, password: str) -> StaffMember | None:
    """The account if the password is right and the account may sign in. Unknown
    accounts cost one hash too, and every failure looks the same to the caller."""
    staff = find_by_username(session, username)
    usable = staff is not None and staff.is_active
    right = passwords.verify_password(staff.password_hash if usable else None, password)
    if not (usable and right):
        audit.record(session, None, "signin.failed", actor_name=normalise_username(username)[:64] if staff else "-",
                     stage="password")
        return None
    if passwords.needs_rehash(staff.password_hash):
        staff.password_hash = passwords.hash_password(password)
    return staff


def code_locked(staff: StaffMember) -> bool:
    return staff.code_locked_until is not None and staff.code_locked_until > clock.now()


def count_refused_code(session: Session, staff: StaffMember) -> None:
    """One more wrong code for this account, whichever sign-in or page it came from. At
    the limit the second factor is locked for CODE_LOCK and the admins are told. While
    it is locked nothing more is counted (the lock is not made longer, nor told again)."""
    if code_locked(staff):
        return
    staff.code_failures = (staff.code_failures or 0) + 1
    if staff.code_failures >= CODE_FAILURES_BEFORE_LOCK:
        staff.code_failures = 0
        staff.code_locked_until = clock.now() + CODE_LOCK
        audit.record(session, staff, "signin.code_locked", "staff", staff.id,
                     minutes=int(CODE_LOCK.total_seconds() // 60))
        tell_admins(session, "Pause: a staff account's second factor is locked",
                    f"The account {staff.username} had {CODE_FAILURES_BEFORE_LOCK} wrong codes in a row. Its "
                    f"second factor is locked for {int(CODE_LOCK.total_seconds() // 60)} minutes.\n\n"
                    "If its owner did not type them, someone may know the password: check the audit log.")


def tell_admins(session: Session, subject: str, body: str) -> None:
    from service import outbox

    addresses = sorted({row.email for row in session.scalars(
        select(StaffMember).join(StaffRole).where(StaffRole.role == "admin", StaffMember.disabled_at.is_(None),
                                                  StaffMember.enrolled_at.is_not(None))) if row.email})
    for address in addresses:
        outbox.queue(session, address, subject, body)


def account_ceiling_reached(session: Session, username: str, period: dt.timedelta) -> None:
    """Records, and tells the admins, that an account is refused for everyone after very
    many failed passwords: once per period, and only for an account that exists."""
    from service.auth.models import AuditEntry

    staff = find_by_username(session, username)
    if staff is None:
        return
    told = session.scalar(select(AuditEntry.id).where(AuditEntry.action == "signin.account_ceiling",
                                                      AuditEntry.object_id == str(staff.id),
                                                      AuditEntry.at > clock.now() - period).limit(1))
    if told is not None:
        return
    audit.record(session, None, "signin.account_ceiling", "staff", staff.id, actor_name="-")
    tell_admins(session, "Pause: many failed sign-ins for one staff account",
                f"The account {staff.username} had very many wrong passwords, from several places. Sign-in to it "
                f"is refused for everyone for {int(period.total_seconds() // 60)} minutes.\n\n"
                "Check the audit log; if its owner did not cause this, someone may be guessing the password.")


def check_second_factor(session: Session, staff: StaffMember, code: str) -> bool:
    """A TOTP code (once only) or an unused recovery code (spent by using it). Wrong
    codes are counted per account (see count_refused_code); while the factor is locked
    no code is even looked at."""
    if code_locked(staff):
        audit.record(session, staff, "signin.failed", "staff", staff.id, stage="code-locked")
        return False
    if _second_factor_matches(session, staff, code):
        staff.code_failures = 0
        return True
    audit.record(session, staff, "signin.failed", "staff", staff.id, stage="code")
    count_refused_code(session, staff)
    return False


def _second_factor_matches(session: Session, staff: StaffMember, code: str) -> bool:
    code = (code or "").strip().lower()
    if re.fullmatch(r"[\d\s]{6,8}", code):
        secret = crypto.unseal(staff.totp_secret_sealed)
        step = totp.accepted_step(secret, code, clock.timestamp(), staff.totp_last_step)
        if step is not None:
            staff.totp_last_step = step
            return True
    elif re.fullmatch(r"[0-9a-f]{6}-[0-9a-f]{6}-[0-9a-f]{6}", code):
        for recovery in session.scalars(select(RecoveryCode).where(RecoveryCode.staff_id == staff.id,
                                                                   RecoveryCode.used_at.is_(None))):
            if passwords.verify_password(recovery.code_hash, code):
                recovery.used_at = clock.now()
                audit.record(session, staff, "signin.recovery_code_used", "staff", staff.id)
                return True
    return False


def unused_recovery_codes(session: Session, staff: StaffMember) -> int:
    return len(session.scalars(select(RecoveryCode.id).where(RecoveryCode.staff_id == staff.id,
                                                             RecoveryCode.used_at.is_(None))).all())


def change_password(session: Session, staff: StaffMember, current: str, new: str, code: str) -> None:
    """Needs the current password and a second-factor code: a stolen session alone
    cannot take the account over."""
    if not passwords.verify_password(staff.password_hash, current):
        raise AccountError(_l("Your current password is not right."))
    if code_locked(staff):
        raise CodeRefused(_l("Too many wrong codes: codes are not accepted for a while. Try again later."))
    if not _second_factor_matches(session, staff, code):
        raise CodeRefused(_l("That code is not right."))
    staff.code_failures = 0
    problems = passwords.problems_with(new, staff.username)
    if problems:
        raise AccountError(" ".join(str(problem) for problem in problems))
    staff.password_hash = passwords.hash_password(new)
    audit.record(session, staff, "staff.password_changed", "staff", staff.id)


# Administration -------------------------------------------------------------------------


def set_roles(session: Session, staff: StaffMember, roles: set[str], actor: StaffMember) -> None:
    if set(roles) - set(ROLES) or not roles:
        raise AccountError(_l("Choose at least one role among %(roles)s.", roles=", ".join(ROLES)))
    if staff.id == actor.id and "admin" in staff.role_names and "admin" not in roles:
        raise AccountError(_l("You cannot remove your own admin role."))
    before = sorted(staff.role_names)
    staff.roles = [StaffRole(staff_id=staff.id, role=role) for role in sorted(roles)]
    audit.record(session, actor, "staff.roles_changed", "staff", staff.id, before=before, after=sorted(roles))


def disable(session: Session, staff: StaffMember, actor: StaffMember) -> None:
    if staff.id == actor.id:
        raise AccountError(_l("You cannot disable your own account."))
    staff.disabled_at = clock.now()
    ended = sessions.end_all_for(session, staff.id)
    audit.record(session, actor, "staff.disabled", "staff", staff.id, sessions_ended=ended)


def enable(session: Session, staff: StaffMember, actor: StaffMember) -> None:
    staff.disabled_at = None
    audit.record(session, actor, "staff.enabled", "staff", staff.id)


def request_reset(session: Session, staff: StaffMember, actor: StaffMember) -> None:
    """The first admin's half of a reset: nothing changes yet; a second admin approves."""
    if staff.id == actor.id:
        raise AccountError(_l("You cannot reset your own account; change your password on your account page."))
    staff.reset_requested_by, staff.reset_requested_at = actor.id, clock.now()
    audit.record(session, actor, "staff.reset_requested", "staff", staff.id)


def reset_pending(staff: StaffMember) -> bool:
    return staff.reset_requested_at is not None and staff.reset_requested_at + RESET_REQUEST_LIFETIME > clock.now()


def approve_reset(session: Session, staff: StaffMember, actor: StaffMember) -> str:
    """The second admin's half: the account's sessions end, its password, authenticator
    and recovery codes go (it cannot be used until it is enrolled again), its owner is
    told, and a new enrolment token is returned for the link."""
    if not reset_pending(staff):
        raise AccountError(_l("No reset is waiting for approval on this account."))
    if actor.id in (staff.reset_requested_by, staff.id):
        raise AccountError(_l("A second administrator, not the one who asked for the reset, must approve it."))
    requested_by = staff.reset_requested_by
    ended = sessions.end_all_for(session, staff.id)
    staff.password_hash = staff.totp_secret_sealed = staff.totp_last_step = None
    staff.enrolled_at = None
    staff.code_failures, staff.code_locked_until = 0, None
    staff.reset_requested_by = staff.reset_requested_at = None
    for old in session.scalars(select(RecoveryCode).where(RecoveryCode.staff_id == staff.id)):
        session.delete(old)
    audit.record(session, actor, "staff.reset_approved", "staff", staff.id, requested_by=requested_by,
                 sessions_ended=ended)
    if staff.email:
        from service import outbox

        outbox.queue(session, staff.email, "Pause: your staff account was reset",
                     "Two administrators reset your staff account: your password and authenticator no longer "
                     "work, and every session of yours has ended. An administrator will give you a new "
                     "enrolment link.\n\nIf you did not expect this, tell the programme's lead at once.")
    return invite(session, staff, actor)


def all_staff(session: Session) -> list[StaffMember]:
    return list(session.scalars(select(StaffMember).order_by(StaffMember.username)))


def mail_invitation(session: Session, staff: StaffMember, link: str) -> bool:
    """E-mails the enrolment link when a work address is known (through the outbox, in
    the caller's transaction). The mail says nothing about the programme's visitors."""
    from service import outbox

    if not staff.email:
        return False
    outbox.queue(session, staff.email, "Pause: your staff account",
                 f"Hello {staff.display_name},\n\nAn administrator has made you a staff account on Pause.\n"
                 f"Set your password and your second factor with this one-time link (it works for 3 days):\n\n"
                 f"{link}\n\nIf you did not expect this, ignore this message.")
    return True


@dataclass(frozen=True)
class PersonSummary:
    last_signed_in_at: dt.datetime | None
    has_second_factor: bool
    recovery_codes_left: int


def people_summaries(session: Session) -> dict[int, PersonSummary]:
    """Last sign-in (from the audit log) and second-factor status, per account."""
    from sqlalchemy import func

    from service.auth.models import AuditEntry

    last = dict(session.execute(select(AuditEntry.actor_id, func.max(AuditEntry.at)).where(
        AuditEntry.action == "signin.succeeded").group_by(AuditEntry.actor_id)).all())
    left = dict(session.execute(select(RecoveryCode.staff_id, func.count()).where(RecoveryCode.used_at.is_(None))
                                .group_by(RecoveryCode.staff_id)).all())
    return {person.id: PersonSummary(last.get(person.id), person.totp_secret_sealed is not None,
                                     left.get(person.id, 0)) for person in all_staff(session)}
