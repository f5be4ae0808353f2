"""The Lambda layer installs exactly the runtime dependencies pyproject declares."""

from __future__ import annotations

import tomllib

from tests.conftest import ROOT


def test_layer_requirements_are_the_pyproject_dependencies():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = (ROOT / "layers/core/requirements.txt").read_text().splitlines()
    required = [line for line in lines if line and not line.startswith("#")]
    assert sorted(required) == sorted(declared)


def test_package_data_ships_templates_rules_and_the_fixture():
    from importlib import resources

    package = resources.files("tidings")
    assert (package / "digest/templates/email.html.j2").is_file()
    assert (package / "digest/templates/email.txt.j2").is_file()
    assert (package / "feeds/rules.toml").is_file()
    assert (package / "local/fixtures/icmpd-news.xml").is_file()
