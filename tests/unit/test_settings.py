"""Settings are validated once, with messages that say what to change."""

from __future__ import annotations

import pytest

from chalicelib.errors import ConfigurationError
from chalicelib.settings import load_settings


def test_local_stage_defaults_to_loopback_endpoints():
    settings = load_settings({"LB_STAGE": "local"})
    assert settings.dynamodb_endpoint == "http://127.0.0.1:8701"
    assert settings.s3_endpoint == "http://127.0.0.1:8702"
    assert settings.table_name("builds") == "localbubble-local-builds"


def test_ports_come_from_the_environment():
    settings = load_settings({"LB_DYNAMODB_PORT": "9001", "LB_S3_PORT": "9002"})
    assert settings.dynamodb_endpoint.endswith(":9001")
    assert settings.s3_endpoint.endswith(":9002")


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"LB_STAGE": "staging"}, "LB_STAGE"),
        ({"LB_STAGE": "local", "LB_DYNAMODB_ENDPOINT": "localhost"}, "http"),
        (
            {
                "LB_STAGE": "prod",
                "LB_S3_ENDPOINT": "http://127.0.0.1:1",
                "LB_CURSOR_SECRET": "x" * 32,
            },
            "only the local stage",
        ),
        ({"LB_STAGE": "prod"}, "LB_CURSOR_SECRET"),
        ({"LB_SOURCES_BUCKET": "Bad_Bucket"}, "LB_SOURCES_BUCKET"),
        ({"LB_TABLE_PREFIX": "has space"}, "LB_TABLE_PREFIX"),
    ],
)
def test_invalid_settings_are_refused_with_the_variable_named(env, says):
    with pytest.raises(ConfigurationError, match=says):
        load_settings(env)


def test_cloud_stage_uses_aws_endpoints():
    settings = load_settings({"LB_STAGE": "dev", "LB_CURSOR_SECRET": "s" * 32})
    assert settings.dynamodb_endpoint is None
    assert settings.s3_endpoint is None


def test_a_port_that_is_not_a_number_is_refused_by_name():
    with pytest.raises(ConfigurationError, match="LB_DYNAMODB_PORT"):
        load_settings({"LB_DYNAMODB_PORT": "abc"})
