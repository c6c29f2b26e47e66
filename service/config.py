"""Configuration, read once from the environment into a frozen object.

Every setting has one name, one default and one line in the README table. The app
reads `app.config["PAUSE"]` (a `Settings`) rather than loose keys, so a typo is an
AttributeError rather than a silent default.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography.fernet import Fernet

TRANSLATIONS = Path(__file__).parent / "translations"

DEVELOPMENT = "development"
PRODUCTION = "production"
TESTING = "testing"


class ConfigurationError(RuntimeError):
    """The app cannot start safely with the settings it was given."""


def shipped_locales() -> tuple[str, ...]:
    """English (the source language) and every language with a catalogue: adding a
    language is adding its files, not editing a list."""
    found = sorted(path.parent.parent.name for path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
    return ("en", *(code for code in found if code != "en"))


@dataclass(frozen=True)
class Settings:
    env: str = DEVELOPMENT
    database_url: str = ""
    secret_key: str = ""
    # Comma-separated Fernet keys; the first encrypts, all decrypt (rotation).
    data_keys: tuple[str, ...] = ()
    default_locale: str = "en"
    locales: tuple[str, ...] = field(default_factory=shipped_locales)
    quick_exit_url: str = "https://www.bbc.com/weather"
    redis_url: str = ""
    # The public address, for links made outside a request (enrolment links from the CLI).
    base_url: str = "http://127.0.0.1:5000"
    # How many proxies in front of the app set X-Forwarded-Proto (nginx: 1).
    trusted_proxies: int = 0
    # Days an anonymous key may go unused before it is erased with all it holds.
    anonymous_key_retention_days: int = 365
    # Rate limit for opening a key, checked before any hash is computed.
    key_open_rate_limit: str = "10 per minute;60 per hour"
    key_create_rate_limit: str = "10 per hour"
    max_content_length: int = 64 * 1024
    # Minutes without a request after which a visitor's session ends on the server.
    session_idle_minutes: int = 30
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    # Reminders reach visitors' own mailboxes, so the sender names nothing: a neutral
    # display name and an address that does not name the programme (see README).
    mail_from: str = "appointments@localhost"
    mail_sender_name: str = "Appointments"
    # Urgent contact: minutes before an unacknowledged case goes to the admins, then again.
    case_escalation_minutes: int = 10
    case_second_escalation_minutes: int = 20
    # Hours after closing before the way to reach the visitor and their message are erased.
    case_erasure_hours: int = 24
    # Hours before an appointment after which a visitor can no longer move or cancel it online.
    booking_change_cutoff_hours: int = 24
    # Live text sessions: hours after a session ends before its transcript is erased,
    # minutes a walk-in waits before being offered a thread, and flood limits (per
    # participant of a session, and per client).
    live_transcript_hours: int = 24
    walk_in_wait_minutes: int = 10
    live_message_rate_limit: str = "20 per minute"
    live_client_rate_limit: str = "60 per minute"
    # Message threads: the promised reply time in working days (shown as "within 3 working
    # days"), hours before it when counsellors are reminded, and days a closed thread is kept.
    conversation_reply_promise_days: int = 3
    conversation_reminder_hours: int = 24
    conversation_retention_days: int = 30
    # Floods: messages a key (and a client) may send.
    conversation_message_rate_limit: str = "10 per minute;60 per hour"
    # The onion service's host name (deploy/tor/torrc); empty when there is none.
    onion_host: str = ""
    instance_path: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.env == PRODUCTION

    @property
    def is_testing(self) -> bool:
        return self.env == TESTING


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def from_environment(environ: os._Environ | dict | None = None, instance_path: str = "") -> Settings:
    environ = os.environ if environ is None else environ
    env = environ.get("PAUSE_ENV", DEVELOPMENT)
    if env not in (DEVELOPMENT, PRODUCTION, TESTING):
        raise ConfigurationError(f"PAUSE_ENV must be development, production or testing, not {env!r}")
    defaults = Settings()
    return Settings(
        env=env,
        database_url=environ.get("PAUSE_DATABASE_URL", ""),
        secret_key=environ.get("PAUSE_SECRET_KEY", ""),
        data_keys=_split(environ.get("PAUSE_DATA_KEY", "")),
        default_locale=environ.get("PAUSE_DEFAULT_LOCALE", defaults.default_locale),
        locales=_split(environ.get("PAUSE_LOCALES", ",".join(defaults.locales))),
        quick_exit_url=environ.get("PAUSE_QUICK_EXIT_URL", defaults.quick_exit_url),
        redis_url=environ.get("PAUSE_REDIS_URL", ""),
        base_url=environ.get("PAUSE_BASE_URL", defaults.base_url).rstrip("/"),
        trusted_proxies=int(environ.get("PAUSE_TRUSTED_PROXIES", "0")),
        anonymous_key_retention_days=int(
            environ.get("PAUSE_ANONYMOUS_KEY_RETENTION_DAYS", defaults.anonymous_key_retention_days)
        ),
        session_idle_minutes=int(environ.get("PAUSE_SESSION_IDLE_MINUTES", defaults.session_idle_minutes)),
        smtp_host=environ.get("PAUSE_SMTP_HOST", defaults.smtp_host),
        smtp_port=int(environ.get("PAUSE_SMTP_PORT", defaults.smtp_port)),
        mail_from=environ.get("PAUSE_MAIL_FROM", defaults.mail_from),
        mail_sender_name=environ.get("PAUSE_MAIL_SENDER_NAME", defaults.mail_sender_name),
        case_escalation_minutes=int(environ.get("PAUSE_CASE_ESCALATION_MINUTES", defaults.case_escalation_minutes)),
        case_second_escalation_minutes=int(
            environ.get("PAUSE_CASE_SECOND_ESCALATION_MINUTES", defaults.case_second_escalation_minutes)),
        case_erasure_hours=int(environ.get("PAUSE_CASE_ERASURE_HOURS", defaults.case_erasure_hours)),
        booking_change_cutoff_hours=int(
            environ.get("PAUSE_BOOKING_CHANGE_CUTOFF_HOURS", defaults.booking_change_cutoff_hours)),
        live_transcript_hours=int(environ.get("PAUSE_LIVE_TRANSCRIPT_HOURS", defaults.live_transcript_hours)),
        walk_in_wait_minutes=int(environ.get("PAUSE_WALK_IN_WAIT_MINUTES", defaults.walk_in_wait_minutes)),
        live_message_rate_limit=environ.get("PAUSE_LIVE_MESSAGE_RATE_LIMIT", defaults.live_message_rate_limit),
        live_client_rate_limit=environ.get("PAUSE_LIVE_CLIENT_RATE_LIMIT", defaults.live_client_rate_limit),
        conversation_reply_promise_days=_working_days(
            environ.get("PAUSE_CONVERSATION_REPLY_PROMISE", str(defaults.conversation_reply_promise_days))),
        conversation_reminder_hours=int(
            environ.get("PAUSE_CONVERSATION_REMINDER_HOURS", defaults.conversation_reminder_hours)),
        conversation_retention_days=int(
            environ.get("PAUSE_CONVERSATION_RETENTION_DAYS", defaults.conversation_retention_days)),
        conversation_message_rate_limit=environ.get("PAUSE_CONVERSATION_MESSAGE_RATE_LIMIT",
                                                    defaults.conversation_message_rate_limit),
        onion_host=environ.get("PAUSE_ONION_HOST", "").strip().lower(),
        instance_path=instance_path,
    )


def _working_days(value: str) -> int:
    """PAUSE_CONVERSATION_REPLY_PROMISE: "3", or as the README says it, "within 3 working
    days". The words shown to visitors are translated, so only the number is read."""
    import re

    match = re.search(r"\d+", value or "")
    if match is None or int(match.group()) < 1:
        raise ConfigurationError("PAUSE_CONVERSATION_REPLY_PROMISE is a number of working days, for example 3")
    return int(match.group())


def complete(settings: Settings, instance_path: str) -> Settings:
    """Fill in what development may generate, and refuse what production may not lack."""
    settings = replace(settings, instance_path=settings.instance_path or instance_path)
    if settings.default_locale not in settings.locales:
        raise ConfigurationError("PAUSE_DEFAULT_LOCALE must be one of PAUSE_LOCALES")
    if settings.is_production:
        missing = [
            name
            for name, value in (("PAUSE_SECRET_KEY", settings.secret_key), ("PAUSE_DATA_KEY", settings.data_keys))
            if not value
        ]
        if missing:
            raise ConfigurationError(f"Production needs {' and '.join(missing)}; see README.")
        if not settings.database_url:
            raise ConfigurationError("Production needs PAUSE_DATABASE_URL; see README.")
    else:
        folder = Path(settings.instance_path)
        folder.mkdir(parents=True, exist_ok=True)
        if not settings.secret_key:
            settings = replace(settings, secret_key=_generated_once(folder / "secret.key", secrets.token_hex(32)))
        if not settings.data_keys:
            settings = replace(
                settings, data_keys=(_generated_once(folder / "data.key", Fernet.generate_key().decode()),)
            )
        if not settings.database_url:
            settings = replace(settings, database_url=f"sqlite:///{folder / 'pause.db'}")
    for key in settings.data_keys:
        try:
            Fernet(key)
        except ValueError as error:
            raise ConfigurationError("PAUSE_DATA_KEY holds a key that is not a Fernet key") from error
    return settings


def _generated_once(path: Path, fresh_value: str) -> str:
    """Development keys live in instance/ so restarts keep sessions and data readable."""
    if not path.exists():
        path.write_text(fresh_value)
        path.chmod(0o600)
    return path.read_text().strip()
