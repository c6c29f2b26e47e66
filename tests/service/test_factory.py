"""The app factory and its configuration rules."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from service import create_app
from service.config import ConfigurationError


def test_production_refuses_to_start_without_secret_and_data_keys(tmp_path):
    with pytest.raises(ConfigurationError, match="PAUSE_SECRET_KEY and PAUSE_DATA_KEY"):
        create_app({"env": "production", "database_url": "sqlite://", "instance_path": str(tmp_path),
                    "secret_key": "", "data_keys": ()})


def test_production_refuses_a_data_key_that_is_not_a_fernet_key(tmp_path):
    with pytest.raises(ConfigurationError, match="not a Fernet key"):
        create_app({"env": "production", "database_url": "sqlite://", "instance_path": str(tmp_path),
                    "secret_key": "s" * 64, "data_keys": ("not-a-key",)})


def test_production_starts_with_its_keys_and_uses_host_prefixed_secure_cookies(tmp_path):
    app = create_app({"env": "production", "database_url": f"sqlite:///{tmp_path / 'p.db'}",
                      "instance_path": str(tmp_path), "secret_key": "s" * 64,
                      "data_keys": (Fernet.generate_key().decode(),)})
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-pause"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert not (tmp_path / "secret.key").exists(), "production never writes keys to disk"


def test_development_generates_keys_once_into_the_instance_folder(tmp_path):
    first = create_app({"env": "development", "database_url": "", "secret_key": "", "data_keys": (),
                        "instance_path": str(tmp_path)})
    second = create_app({"env": "development", "database_url": "", "secret_key": "", "data_keys": (),
                         "instance_path": str(tmp_path)})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == (tmp_path / "secret.key").read_text()
    assert first.config["PAUSE"].data_keys == second.config["PAUSE"].data_keys
    assert first.config["PAUSE"].database_url == f"sqlite:///{tmp_path / 'pause.db'}"
    assert oct((tmp_path / "data.key").stat().st_mode & 0o777) == "0o600"


def test_testing_app_is_marked_testing(app):
    assert app.testing
