"""Encryption at rest, ready for key rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from service.crypto import Keyring, UnreadableCiphertext


def test_sealed_text_opens_again_and_does_not_contain_the_plain_text():
    keyring = Keyring((Fernet.generate_key().decode(),))
    sealed = keyring.seal("a private reflection, été")
    assert b"private" not in sealed
    assert keyring.open(sealed) == "a private reflection, été"


def test_a_new_first_key_still_opens_old_text_and_reseals_it_under_the_new_key():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_before = Keyring((old,)).seal("kept across rotation")
    rotating = Keyring((new, old))
    assert rotating.open(sealed_before) == "kept across rotation"
    resealed = rotating.reseal(sealed_before)
    assert Keyring((new,)).open(resealed) == "kept across rotation"
    with pytest.raises(UnreadableCiphertext):
        Keyring((new,)).open(sealed_before)


def test_keys_rotate_reseals_every_sealed_value_under_the_new_key(tmp_path, runner, app):
    from dataclasses import replace

    from sqlalchemy import select

    from content.seeding import seed_all
    from self_help.models import ExerciseAnswer
    from service import crypto
    from service.db import db
    from tests.conftest import csrf_token_from
    from tests.service.test_anonymous_keys import create_key_through_the_page

    with app.app_context(), db.transaction() as session:
        seed_all(session)
    client = app.test_client()
    create_key_through_the_page(client)
    step = "/self-help/understanding-your-thoughts/noticing-patterns"
    page = client.get(step).get_data(as_text=True)
    client.post(f"{step}/answer", data={"csrf_token": csrf_token_from(page), "text": "kept through rotation"})

    old = app.config["PAUSE"].data_keys[0]
    new = Fernet.generate_key().decode()
    app.config["PAUSE"] = replace(app.config["PAUSE"], data_keys=(new, old))
    app.extensions["pause_keyring"] = crypto.Keyring((new, old))
    result = runner.invoke(args=["keys", "rotate", "--batch", "1"])
    # The answer, and the visitor's session on the server (it holds the open key's id).
    assert result.exit_code == 0 and "re-encrypted 2 values" in result.output
    with app.app_context():
        token = db.session.scalar(select(ExerciseAnswer.sealed_answer))
    assert "kept through rotation" in Keyring((new,)).open(token)
    with pytest.raises(UnreadableCiphertext):
        Keyring((old,)).open(token)
