"""The one Jinja environment of every page the project renders, and its errors.

The map page, the API page, the status dashboard, the build pages, the
comparison page and the quality page all come from `site/templates` through
`environment()`: autoescaped, `StrictUndefined`, the same whitespace rules and
filters. `render` turns any Jinja failure into a `SiteTemplateError` naming the
template and line, and turns a Python warning raised while rendering into an
error too, so a page the pipeline renders on its own (the quality and
comparison pages) is held to the site build's rules.
"""

from __future__ import annotations

import functools
import json
import logging
import warnings
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import jinja2

from chalicelib.errors import LocalBubbleError

logger = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "site" / "templates"


class SiteBuildError(LocalBubbleError):
    """The static site cannot be built; nothing in the output folder changed."""

    code = "site_build_error"


class SiteTemplateError(SiteBuildError):
    """A template is missing, malformed, or uses a variable it was not given."""

    code = "site_template_error"


def display_value(value: object) -> str:
    """A report value as short text: numbers to 6 digits, the rest as JSON."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def environment(templates_dir: Path = TEMPLATE_DIR) -> jinja2.Environment:
    """The strict environment over one template folder (made once per folder).

    Only tests pass a folder; every page of a real build uses `site/templates`.
    """
    return _environment(Path(templates_dir).resolve())


@functools.cache
def _environment(templates_dir: Path) -> jinja2.Environment:
    """Make the environment; cached by resolved folder, however it was named."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["value"] = display_value
    logger.debug("jinja environment made for %s", templates_dir)
    return env


def render(env: jinja2.Environment, name: str, context: Mapping[str, object]) -> str:
    """Render one template; a Jinja failure or a warning is a `SiteTemplateError`."""
    try:
        with warnings.catch_warnings():
            # A warning while rendering is a bug in a template or its data: stop.
            warnings.simplefilter("error")
            return env.get_template(name).render(context)
    except jinja2.TemplateNotFound as exc:
        raise SiteTemplateError(
            f"template {exc.name!r} not found under {_search_path(env)}"
        ) from exc
    except jinja2.TemplateSyntaxError as exc:
        where = f"{exc.filename or exc.name}, line {exc.lineno}"
        raise SiteTemplateError(f"{where}: {exc.message}") from exc
    except jinja2.TemplateError as exc:
        where = _template_location(exc.__traceback__) or name
        raise SiteTemplateError(f"{where}: {exc}") from exc
    except Warning as warning:
        where = _template_location(warning.__traceback__) or name
        raise SiteTemplateError(
            f"{where}: rendering stopped on a warning: "
            f"{type(warning).__name__}: {warning}"
        ) from warning


def render_page(name: str, context: Mapping[str, object]) -> str:
    """Render one template of `site/templates` in the shared environment."""
    return render(environment(), name, context)


def _template_location(tb: TracebackType | None) -> str | None:
    """`index.html.j2, line 12` for the innermost template frame of a traceback."""
    where = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            where = f"{Path(filename).name}, line {tb.tb_lineno}"
        tb = tb.tb_next
    return where


def _search_path(env: jinja2.Environment) -> str:
    """The template folders of `env`, for error messages."""
    loader = env.loader
    paths = getattr(loader, "searchpath", None)
    return ", ".join(str(p) for p in paths) if paths else repr(loader)
