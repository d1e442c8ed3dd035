"""Compiling botocore's SES models: coverage, constraints and refusals."""

from __future__ import annotations

import copy
from typing import Any

import botocore.session
import pytest
from botocore.loaders import create_loader

from emulator.protocols import models
from emulator.ses.errors import Api

SESSION = botocore.session.get_session()


@pytest.mark.parametrize(("api", "service"), [("v1", "ses"), ("v2", "sesv2")])
def test_every_operation_of_the_bundled_model_is_compiled(api: Api, service: str) -> None:
    spec = models.load(api)
    assert set(spec.operations) == set(SESSION.get_service_model(service).operation_names)


def test_every_model_pattern_compiles_with_python_re() -> None:
    # Java-style patterns Python cannot compile would be skipped (not enforced) and listed here.
    assert models.load("v1").skipped_patterns == ()
    assert models.load("v2").skipped_patterns == ()


def test_v1_result_wrappers_come_from_the_model() -> None:
    spec = models.load("v1")
    assert spec.operations["SendEmail"].result_wrapper == "SendEmailResult"
    assert spec.operations["VerifyEmailAddress"].output is None
    assert spec.xml_namespace == "http://ses.amazonaws.com/doc/2010-12-01/"


def test_patterns_match_the_whole_value_with_ascii_classes() -> None:
    spec = models.load("v2")
    name = spec.operations["CreateMultiRegionEndpoint"].input
    assert name is not None
    pattern = name.members["EndpointName"].shape.pattern
    assert pattern is not None
    assert pattern.fullmatch("endpoint_1")
    assert pattern.fullmatch("endpoint 1") is None
    assert pattern.fullmatch("endpoint\u00e9") is None  # Java's \\w is ASCII-only


def _model() -> dict[str, Any]:
    return copy.deepcopy(create_loader().load_service_model("sesv2", "service-2"))


def test_unsupported_wire_features_fail_loudly_at_compile_time() -> None:
    model = _model()
    model["shapes"]["SendEmailRequest"]["members"]["FromEmailAddress"]["location"] = "header"
    with pytest.raises(models.UnsupportedModelFeatureError) as caught:
        models.compile_service(model, service="sesv2", api="v2")
    assert caught.value.where == "SendEmailRequest.FromEmailAddress"
    assert caught.value.feature == "location header"


def test_greedy_uri_labels_are_refused() -> None:
    model = _model()
    model["operations"]["GetEmailIdentity"]["http"]["requestUri"] = "/v2/email/x/{EmailIdentity+}"
    with pytest.raises(models.UnsupportedModelFeatureError, match="requestUri"):
        models.compile_service(model, service="sesv2", api="v2")


def test_a_pattern_python_cannot_compile_is_skipped_and_recorded() -> None:
    model = _model()
    model["shapes"]["EmailAddress"]["pattern"] = "\\p{Alpha}+"
    spec = models.compile_service(model, service="sesv2", api="v2")
    assert spec.skipped_patterns == (("EmailAddress", "\\p{Alpha}+"),)
