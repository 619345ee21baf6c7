"""The package as a user installs it: a wheel, installed outside the checkout, renders SOPs and runs the console."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # real processes, loads or restarts: `-m "not slow"` skips them

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "\n".join(
    [
        "/patchpolicy new Acme",
        "",  # client name
        "Europe/London",
        "@tess",
        "Jo Bloggs, IT manager",
        "",  # channel
        "1",  # Cyber Essentials
        *["rest"] * 14,
        "finish",
        "/patchpolicy publish acme",
        "/patchpolicy show acme reboot",
        "",
    ]
)


def test_a_wheel_installed_outside_the_checkout_renders_the_sop_from_its_own_templates(tmp_path):
    source, dist, site, work = tmp_path / "src", tmp_path / "dist", tmp_path / "site", tmp_path / "work"
    work.mkdir()
    junk = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", ".pytest_cache*", "*.db")
    shutil.copytree(ROOT, source, ignore=junk)  # a clean tree: nothing left over from another build
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(dist), str(source)], check=True, timeout=300)
    (wheel,) = dist.glob("patchpolicy-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True, timeout=300)
    shipped = {p.relative_to(site / "templates").as_posix() for p in (site / "templates").rglob("*.j2")}
    assert shipped == {p.relative_to(ROOT / "templates").as_posix() for p in (ROOT / "templates").rglob("*.j2")}

    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(PYTHONPATH=str(site), DATABASE_URL=f"sqlite:///{work / 'pp.db'}", CONSOLE_USER="tess", TZ="")
    where = subprocess.run(
        [sys.executable, "-c", "import bot.sop, templates; print(bot.sop.__file__); print(templates.__path__[0])"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(path.startswith(str(site)) for path in where), where  # not the checkout's copies

    done = subprocess.run(
        [sys.executable, "-m", "bot"], input=SCRIPT, cwd=work, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "TemplateNotFound" not in done.stderr
    assert "Published Acme's SOP v1" in done.stdout
    shown = done.stdout.split("# Acme: patch management SOP v1\n", 1)[1]  # `show acme reboot`: one section
    assert shown.startswith("## Deployment, reboots and user notice\n")
    assert "| Servers | Patch Tuesday + 5 days, 22:00 for 4h | Only if an update requires it |" in shown
