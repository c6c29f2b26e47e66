"""A therapist with a working week, and a clock set to a known Monday morning."""

from __future__ import annotations

import datetime as dt

import pytest

from booking import services
from booking.models import TherapistProfile
from service.auth.models import StaffMember
from service.clock import clock
from service.db import db

# Monday 23 November 2026, 08:00 UTC (09:00 in Brussels).
MONDAY_MORNING = dt.datetime(2026, 11, 23, 8, 0)


class Therapist:
    def __init__(self, account, profile_id: int) -> None:
        self.account, self.profile_id = account, profile_id


@pytest.fixture
def therapist(seeded, make_staff):
    return make_therapist(seeded, make_staff)


def make_therapist(seeded, make_staff) -> Therapist:
    """Theo, who sees people by phone and video on weekdays from 9 to 5 (Brussels); the
    clock stops on Monday morning."""
    clock.freeze(MONDAY_MORNING)
    account = make_staff("theo", roles=("therapist",))
    with seeded.app_context(), db.transaction() as session:
        profile = services.profile_for_staff(session, session.get(StaffMember, account.id))
        profile.display_name, profile.languages, profile.modalities = "Theo", "en fr", "phone video"
        profile.active = True
        services.set_windows(session, profile, [(weekday, dt.time(9), dt.time(17)) for weekday in range(5)])
        profile_id = profile.id
    return Therapist(account, profile_id)


def first_free_slot(app, therapist: Therapist):
    with app.app_context():
        profile = db.session.get(TherapistProfile, therapist.profile_id)
        return services.free_slots_for(db.session, profile)[0]
