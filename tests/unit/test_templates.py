"""One strict Jinja environment for every page: the site, comparison and quality."""

from __future__ import annotations

import warnings

import pytest

from batch_jobs import compare, quality, site, templates
from batch_jobs.templates import SiteTemplateError


class WarnsWhenShown:
    """A value whose text raises a DeprecationWarning, as a stale helper might."""

    def __str__(self) -> str:
        warnings.warn("this value is deprecated", DeprecationWarning, stacklevel=2)
        return "shown"


def _quality_report(description: object) -> dict:
    return {
        "hip.duplicate_hip": {
            "count": 0,
            "rows": 3,
            "description": description,
            "action": quality.COUNTED,
        }
    }


def test_environment_is_strict_and_autoescaped(tmp_path):
    (tmp_path / "t.j2").write_text("{{ value }}")
    env = templates.environment(tmp_path)

    assert templates.render(env, "t.j2", {"value": "<b>"}) == "&lt;b&gt;"
    with pytest.raises(SiteTemplateError, match="'value' is undefined"):
        templates.render(env, "t.j2", {})
    with pytest.raises(SiteTemplateError, match="not found"):
        templates.render(env, "absent.j2", {})


def test_the_site_and_the_pipeline_pages_share_one_environment():
    env = templates.environment()

    assert templates.environment(site.SITE_DIR / "templates") is env
    assert env.autoescape is True
    assert env.undefined.__name__ == "StrictUndefined"
    assert env.filters["value"] is templates.display_value


def test_a_warning_while_rendering_the_quality_page_is_an_error():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the page must fail however callers set it
        with pytest.raises(SiteTemplateError, match="quality_report.html.j2, line "):
            quality.render_html(_quality_report(WarnsWhenShown()), "wb-x", [])


def test_the_comparison_page_escapes_build_ids():
    world = [{"system_id": "sol", "name": "Sun", "planets": []}]
    report = compare.compare_worlds(world, world, old_id="<i>old</i>", new_id="wb-new")

    page = compare.render_html(report)

    assert "&lt;i&gt;old&lt;/i&gt;" in page and "<i>old</i>" not in page
