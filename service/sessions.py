"""Visitor sessions on the server (Flask-Session), so a shared or inspected device gives
nothing away.

The cookie holds a random id and nothing else. What the session keeps (an open key's id,
progress, answers under way, a flash message) lives in Redis when PAUSE_REDIS_URL is set,
else in the `visitor_sessions` table, sealed with the data key and filed under a hash of
the id, so neither a copy of the store nor a copy of the cookie alone reads anything.

A first visit writes nothing: a session is stored only once it holds something to keep.
A page with a form still needs a CSRF token, so a session that holds nothing else gets a
token derived from its id (an HMAC under the secret key): the page sets the id cookie,
the server stores nothing, and the token checks out on the next request.

`end()` ends a session on the server at once (closing or forgetting a key, quick exit):
the stored record is deleted and a new id is used from then on, so a copied cookie opens
an empty session. Sessions idle for PAUSE_SESSION_IDLE_MINUTES expire the same way, by
the one clock; expired records are purged by a job (retention registry:
"visitor-sessions")."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets

import msgspec
from flask import Flask, Request, Response, current_app, g, session
from flask_session.base import ServerSideSession, ServerSideSessionInterface
from sqlalchemy import DateTime, LargeBinary, String, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from service import crypto
from service.clock import clock
from service.db import Base, db

CSRF_FIELD = "csrf_token"
# A stored session's expiry is moved on at most once a minute, not at each request, so
# a returning reader's pages cost a read of the store and no write.
REFRESH_AFTER = dt.timedelta(minutes=1)
REDIS_PREFIX = "pause:visitor-session:"
log = logging.getLogger(__name__)


class VisitorSession(Base):
    """A visitor's server-side session: the hash of its id, its data sealed, its expiry."""

    __tablename__ = "visitor_sessions"

    id_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    sealed_data: Mapped[bytes] = mapped_column(LargeBinary, info={"sealed": True})
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class DatabaseStore:
    # With the database away, a visitor reads on as a first visit and the answer keeps
    # nothing, as with Redis away: the page (the 503 that gives back an urgent request as
    # typed, say) must not fail on the session instead.
    def get(self, digest: str) -> tuple[bytes, dt.datetime] | None:
        try:
            with db.engine.connect() as connection:
                row = connection.execute(select(VisitorSession.sealed_data, VisitorSession.expires_at)
                                         .where(VisitorSession.id_digest == digest)).first()
        except SQLAlchemyError:
            log.warning("visitor sessions: the database cannot be reached")
            return None
        return (bytes(row[0]), row[1]) if row else None

    def put(self, digest: str, sealed: bytes, expires_at: dt.datetime) -> None:
        table = VisitorSession.__table__
        try:
            with db.engine.begin() as connection:
                updated = connection.execute(table.update().where(table.c.id_digest == digest)
                                             .values(sealed_data=sealed, expires_at=expires_at)).rowcount
                if not updated:
                    connection.execute(table.insert().values(id_digest=digest, sealed_data=sealed,
                                                             expires_at=expires_at))
        except SQLAlchemyError:
            log.warning("visitor sessions: the database cannot be reached; this answer keeps nothing")

    def delete(self, digest: str) -> None:
        with db.engine.begin() as connection:
            connection.execute(delete(VisitorSession).where(VisitorSession.id_digest == digest))

    def count(self) -> int:
        from sqlalchemy import func

        with db.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(VisitorSession)).scalar() or 0


class RedisStore:
    """The expiry is kept inside the sealed record (the one clock decides) and as Redis's
    own TTL a little later, which purges what nobody comes back for."""

    def __init__(self, url: str) -> None:
        import redis

        from service.security import redis_options

        # A Redis that hangs costs a request a fraction of a second, never the worker: the
        # same short timeouts and no retries as the rate limits (README, "Faults").
        self.redis = redis.Redis.from_url(url, **redis_options())
        self.errors = redis.RedisError

    def get(self, digest: str) -> tuple[bytes, dt.datetime] | None:
        try:
            value = self.redis.get(REDIS_PREFIX + digest)
        except self.errors:
            # Redis down: the visitor reads on as a first visit (forms still work, their
            # token needs no storage) rather than get an error page.
            log.warning("visitor sessions: Redis cannot be reached")
            return None
        if value is None:
            return None
        expires, _, sealed = value.partition(b" ")
        return sealed, dt.datetime.fromisoformat(expires.decode())

    def put(self, digest: str, sealed: bytes, expires_at: dt.datetime) -> None:
        seconds = max(int((expires_at - clock.now()).total_seconds()), 1) + 60
        try:
            self.redis.set(REDIS_PREFIX + digest, expires_at.isoformat().encode() + b" " + sealed, ex=seconds)
        except self.errors:
            log.warning("visitor sessions: Redis cannot be reached; this answer keeps nothing")

    def delete(self, digest: str) -> None:
        try:
            self.redis.delete(REDIS_PREFIX + digest)
        except self.errors:
            # The record then ends by its TTL; quick exit's Clear-Site-Data still drops the cookie.
            log.warning("visitor sessions: Redis cannot be reached; a session ends by its expiry")

    def count(self) -> int:
        return sum(1 for _ in self.redis.scan_iter(REDIS_PREFIX + "*", count=1000))


class VisitorSessionInterface(ServerSideSessionInterface):
    """Flask-Session's server-side session, with Pause's store, sealing, idle timeout and
    rule that nothing is stored before there is something to keep."""

    # Expiry is ours (the clock), purged by a job: Flask-Session registers no cleanup.
    ttl = True

    def __init__(self, app: Flask, store, idle: dt.timedelta) -> None:
        super().__init__(app, key_prefix="", use_signer=False, permanent=False, sid_length=32,
                         serialization_format="json")
        self.store, self.idle = store, idle
        self.decoder = msgspec.json.Decoder()

    # Under the onion address (service/onion.py) the cookie is one Tor Browser keeps on http.
    def get_cookie_name(self, app: Flask) -> str:
        from service import onion

        return onion.session_cookie_name(app)

    def get_cookie_secure(self, app: Flask) -> bool:
        from service import onion

        return onion.session_cookie_secure(app)

    # Flask-Session's storage hooks, used by `regenerate`.
    def _retrieve_session_data(self, store_id: str) -> dict | None:
        found = self.store.get(_digest(store_id))
        if found is None:
            return None
        sealed, expires_at = found
        if expires_at <= clock.now():
            self.store.delete(_digest(store_id))
            return None
        data = self.decoder.decode(crypto.keyring().open(sealed))
        data["_expires_at"] = expires_at
        return data

    def _delete_session(self, store_id: str) -> None:
        self.store.delete(_digest(store_id))

    def _upsert_session(self, _lifetime, session_: ServerSideSession, store_id: str) -> None:
        data = {key: value for key, value in session_.items() if key != "_expires_at"}
        sealed = crypto.keyring().seal(self.serializer.encode(data).decode())
        self.store.put(_digest(store_id), sealed, clock.now() + self.idle)

    def derived_token(self, sid: str) -> str:
        return hmac.new(current_app.secret_key.encode(), b"csrf:" + sid.encode(), hashlib.sha256).hexdigest()

    def open_session(self, app: Flask, request: Request) -> ServerSideSession:
        sid = request.cookies.get(self.get_cookie_name(app))
        data = self._retrieve_session_data(sid) if sid else None
        if data is None:
            # No stored session: the id from the cookie (if any) still carries its
            # derived token, so a form rendered on an earlier page checks out.
            opened = self.session_class(sid=sid or self._generate_sid(self.sid_length))
            opened.stored, opened.expires_at = False, None
        else:
            expires_at = data.pop("_expires_at")
            opened = self.session_class(data, sid=sid)
            opened.stored, opened.expires_at = True, expires_at
        opened.from_cookie = sid
        if CSRF_FIELD not in opened:
            dict.__setitem__(opened, CSRF_FIELD, self.derived_token(opened.sid))
        opened.modified = opened.accessed = False
        return opened

    def save_session(self, app: Flask, session_: ServerSideSession, response: Response) -> None:
        name, domain, path = self.get_cookie_name(app), self.get_cookie_domain(app), self.get_cookie_path(app)
        ended = getattr(session_, "ended", None)
        if ended:
            self.store.delete(_digest(ended))
        to_keep = {key for key in session_ if key != "_permanent"}
        if session_.get(CSRF_FIELD) == self.derived_token(session_.sid):
            to_keep.discard(CSRF_FIELD)
        if not to_keep:
            if session_.stored:
                self.store.delete(_digest(session_.sid))
            if g.get(CSRF_FIELD) and session_.from_cookie != session_.sid:
                # A page with a form: the id its token is derived from goes in the cookie.
                self._set_cookie(app, response, session_.sid)
            elif session_.from_cookie and (session_.stored or ended):
                response.delete_cookie(name, domain=domain, path=path, secure=self.get_cookie_secure(app),
                                       httponly=True, samesite=self.get_cookie_samesite(app))
            return
        if not session_.stored and session_.from_cookie == session_.sid:
            # The first time this id is stored: a new one, so an id someone else may have
            # seen (or planted) before there was anything to keep opens nothing.
            # The token already on this page is kept, now as a stored value.
            session_.sid = self._generate_sid(self.sid_length)
        due = session_.expires_at is None or session_.expires_at - clock.now() < self.idle - REFRESH_AFTER
        if session_.modified or due or not session_.stored:
            self._upsert_session(None, session_, session_.sid)
        if session_.from_cookie != session_.sid:
            self._set_cookie(app, response, session_.sid)

    def _set_cookie(self, app: Flask, response: Response, sid: str) -> None:
        # A browser-session cookie: no expiry date, gone when the browser closes.
        response.set_cookie(self.get_cookie_name(app), sid, httponly=True, domain=self.get_cookie_domain(app),
                            path=self.get_cookie_path(app), secure=self.get_cookie_secure(app),
                            samesite=self.get_cookie_samesite(app))
        response.vary.add("Cookie")


def end(keep: tuple[str, ...] = ()) -> None:
    """Ends the visitor's session on the server now; what follows in this request (a
    flash message, the fields in `keep`) goes into a new session with a new id."""
    current = session._get_current_object()
    kept = {name: current[name] for name in keep if name in current}
    if getattr(current, "ended", None) is None:
        current.ended = current.sid
    current.clear()
    current.pop("_permanent", None)
    current.sid = secrets.token_urlsafe(32)
    current.stored, current.expires_at = False, None
    current.update(kept)
    current.modified = True
    # A form on the page that follows gets a token derived from the new id, and nothing
    # is stored for it.
    dict.__setitem__(current, CSRF_FIELD, current_app.session_interface.derived_token(current.sid))
    g.pop(CSRF_FIELD, None)


def init_app(app: Flask) -> None:
    settings = app.config["PAUSE"]
    store = RedisStore(settings.redis_url) if settings.redis_url else DatabaseStore()
    app.extensions["pause_session_store"] = store
    app.session_interface = VisitorSessionInterface(app, store, dt.timedelta(minutes=settings.session_idle_minutes))


def store():
    return current_app.extensions["pause_session_store"]


def stored_count() -> int:
    """How many visitor sessions are stored (tests, the retention report)."""
    return store().count()


def purge_expired() -> int:
    """Deletes expired sessions from the table (Redis expires its own)."""
    from service.jobs import delete_in_batches

    if not isinstance(store(), DatabaseStore):
        return 0
    return delete_in_batches(VisitorSession.__table__, VisitorSession.expires_at <= clock.now())
