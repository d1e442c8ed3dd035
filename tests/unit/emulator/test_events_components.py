"""tests.components.require_component: skip locally, fail under CI, pass when present."""

from __future__ import annotations

import pytest

from tests.components import in_ci, require_component


def test_a_present_component_lets_the_test_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")

    require_component("django-anymail", True, "unused")  # neither skips nor fails


def test_a_missing_component_skips_locally_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.skip.Exception) as skipped:
        require_component("chromium", False, "apt-get install chromium")

    assert not in_ci()
    assert str(skipped.value) == "component 'chromium' unavailable: apt-get install chromium"


def test_a_missing_component_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception) as failed:
        require_component("node", False, "npm is missing")

    assert in_ci()
    assert "component 'node' unavailable: npm is missing" in str(failed.value)
    assert "CI=true" in str(failed.value)
