"""The systemd units of deploy/README.md step 5 are valid for this machine's systemd:
every directive known, every command there and executable (with the app where the
units expect it, /opt/pause/app, replaced by this checkout)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "deploy" / "systemd").iterdir())
pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")


def test_every_unit_passes_systemd_analyze_verify(tmp_path):
    assert {unit.name for unit in UNITS} >= {"pause-web.service", "pause-scheduler.service", "pause-backup.service",
                                             "pause-backup.timer"}
    for unit in UNITS:
        (tmp_path / unit.name).write_text(unit.read_text().replace("/opt/pause/app", str(ROOT)))
    checked = subprocess.run(["systemd-analyze", "verify", *sorted(str(path) for path in tmp_path.glob("pause-*"))],
                             capture_output=True, text=True, cwd=tmp_path)
    assert checked.returncode == 0 and checked.stderr == "", checked.stderr


def test_the_web_unit_runs_the_shipped_gunicorn_configuration_hardened():
    web = (ROOT / "deploy" / "systemd" / "pause-web.service").read_text()
    assert "--config deploy/gunicorn.conf.py" in web and "EnvironmentFile=/etc/pause/pause.env" in web
    for hardening in ("NoNewPrivileges=true", "ProtectSystem=strict", "PrivateTmp=true", "User=pause"):
        assert hardening in web, hardening
