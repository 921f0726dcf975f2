"""Each deployed stage gets the per-client rate limits its Chalice config names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chalice.config import Config

from chalicelib.ratelimits import Limit
from chalicelib.settings import load_settings

CONFIG = Path(__file__).resolve().parents[2] / ".chalice" / "config.json"
# Deployed stages have no default cursor secret; the deployment supplies one.
SECRET = {"LB_CURSOR_SECRET": "a-deployed-secret-of-32-characters"}


def _stage_environment(stage: str) -> dict[str, str]:
    """The environment Chalice gives the stage's Lambda functions."""
    on_disk = json.loads(CONFIG.read_text())
    config = Config(chalice_stage=stage, config_from_disk=on_disk)
    return dict(config.environment_variables)


@pytest.mark.parametrize(
    ("stage", "per_minute", "burst"), [("dev", 60, 15), ("prod", 120, 30)]
)
def test_a_stage_gets_the_rate_limits_its_config_sets(stage, per_minute, burst):
    env = _stage_environment(stage)
    settings = load_settings({**env, **SECRET})
    assert settings.stage == stage
    assert Limit.from_settings(settings) == Limit(per_minute / 60.0, burst)


def test_every_deployed_stage_sets_both_limits_itself():
    for stage in ("dev", "prod"):
        env = _stage_environment(stage)
        for var in ("LB_RATE_LIMIT_PER_MINUTE", "LB_RATE_LIMIT_BURST"):
            assert env[var].isdigit(), (stage, var)
    assert _stage_environment("dev") != _stage_environment("prod")
