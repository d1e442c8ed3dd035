"""The ``ses_emulator`` fixture, exercised the way users meet it: in a separate pytest run.

`pytester` writes a small test project and runs pytest on it; the plugin is found through the
package's ``pytest11`` entry point, exactly as after ``pip install``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

# The inner runs need neither pytest-asyncio nor a cache; leaving them out keeps them quiet.
QUIET = ("-p", "no:cacheprovider", "-p", "no:asyncio")


def test_fixture_gives_a_running_emulator_with_clients_and_resets_between_tests(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        from emulator.client import EmulatorClient

        def test_first(ses_emulator):
            assert ses_emulator.endpoint_url.startswith("http://127.0.0.1:")
            assert EmulatorClient(ses_emulator.endpoint_url).health().status == "ok"
            ses_emulator.ses.verify_email_identity(EmailAddress="first@example.com")
            ses_emulator.clock.set(1_000_000)
            ses_emulator.update_account(sandbox=True)
            assert ses_emulator.sesv2.get_account()["ProductionAccessEnabled"] is False

        def test_second_sees_a_fresh_emulator(ses_emulator):
            assert ses_emulator.ses.list_identities()["Identities"] == []
            assert ses_emulator.clock.state().virtual is False
            assert ses_emulator.account().sandbox is False
            assert ses_emulator.messages() == []

        def test_clients_have_retries_off(ses_emulator):
            for client in (ses_emulator.ses, ses_emulator.sesv2):
                assert client.meta.config.retries["total_max_attempts"] == 1
                assert client.meta.region_name == "us-east-1"

        def test_make_client_acts_as_another_account(ses_emulator):
            other = ses_emulator.make_client("ses", account="123456789012")
            other.verify_email_identity(EmailAddress="other@example.com")
            assert ses_emulator.ses.list_identities()["Identities"] == []
            [info] = ses_emulator.client.identities(account="123456789012")
            assert info.identity == "other@example.com"
            assert ses_emulator.make_client("ses", account="123456789012") is other
        """
    )
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(passed=4)


def test_command_line_options_configure_the_server(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_configured(ses_emulator):
            assert ses_emulator.region == "eu-west-1"
            assert ses_emulator.sesv2.meta.region_name == "eu-west-1"
            settings = ses_emulator.account()
            assert (settings.region, settings.sandbox, settings.max_24h_send) == (
                "eu-west-1", True, 200.0)
            names = ses_emulator.ses.list_identities()["Identities"]
            assert sorted(names) == ["example.org", "me@example.com"]
        """
    )
    result = pytester.runpytest(
        *QUIET,
        "--ses-emulator-profile=sandbox",
        "--ses-emulator-region=eu-west-1",
        "--ses-emulator-verified-identity=me@example.com",
        "--ses-emulator-verified-identity=example.org",
    )
    result.assert_outcomes(passed=1)


def test_ini_options_configure_the_server_and_the_command_line_wins(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(
        """
        [pytest]
        asyncio_default_fixture_loop_scope = function
        ses_emulator_profile = production
        ses_emulator_region = ap-south-1
        ses_emulator_verified_identities =
            a@example.com
            example.net
        """
    )
    pytester.makepyfile(
        """
        def test_configured(ses_emulator):
            settings = ses_emulator.account()
            # The ini's region and identities apply; the command line's profile beats the ini's.
            assert (settings.region, settings.sandbox, settings.max_send_rate) == (
                "ap-south-1", True, 1.0)
            assert sorted(i.identity for i in ses_emulator.client.identities()) == [
                "a@example.com", "example.net"]
        """
    )
    pytester.runpytest(*QUIET, "--ses-emulator-profile=sandbox").assert_outcomes(passed=1)


def test_bad_ini_profile_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        ses_emulator_profile = enterprise
        """
    )
    pytester.makepyfile("def test_x(ses_emulator):\n    pass\n")
    result = pytester.runpytest(*QUIET)
    result.stderr.fnmatch_lines(
        ["ERROR: ses_emulator_profile: one of unlimited, sandbox, production (got 'enterprise')"]
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_each_xdist_worker_gets_its_own_server(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import os
        import pytest

        @pytest.mark.parametrize("n", range(6))
        def test_record_port(ses_emulator, n, tmp_path_factory):
            worker = os.environ["PYTEST_XDIST_WORKER"]
            out = tmp_path_factory.getbasetemp().parent.parent / f"{worker}-{n}.port"
            out.write_text(ses_emulator.endpoint_url)
            # A worker's messages are its own: each test starts from an empty outbox.
            assert ses_emulator.messages() == []
        """
    )
    result = pytester.runpytest_subprocess("-p", "xdist", "-n", "2", *QUIET)
    result.assert_outcomes(passed=6)
    urls: dict[str, set[str]] = {}
    for path in pytester.path.rglob("gw*-*.port"):
        urls.setdefault(path.name.split("-")[0], set()).add(path.read_text())
    assert sorted(urls) == ["gw0", "gw1"]
    assert all(len(u) == 1 for u in urls.values())  # one server per worker, reused
    assert urls["gw0"] != urls["gw1"]


def test_the_recipes_in_docs_testing_md_pass_as_written(pytester: pytest.Pytester) -> None:
    docs = Path(__file__).parents[2] / "docs" / "testing.md"
    blocks = re.findall(r"```python\n(.*?)```", docs.read_text(encoding="utf-8"), flags=re.S)
    tests = [block for block in blocks if "def test_" in block]
    assert len(tests) >= 4
    pytester.makepyfile(**{f"test_recipe_{n}": block for n, block in enumerate(tests)})
    expected = sum(block.count("\ndef test_") + block.startswith("def test_") for block in tests)
    pytester.runpytest(*QUIET).assert_outcomes(passed=expected)
