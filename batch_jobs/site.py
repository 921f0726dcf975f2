"""Render the static web client for one world build.

The site is plain files: `index.html` and the operators' `status.html` (rendered
by Jinja), the build pages under `builds/`, content-hashed client assets and
three.js under `static/`, and the build's star tile under `data/<build_id>/`.
Hashed names let a CDN cache the assets for ever while the small HTML pages,
which name them, stay short-lived. The build is strict: a template error or any
Python warning raised while rendering fails it (`SiteBuildError`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import shutil
import struct
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
import markupsafe

from batch_jobs import site_data, templates
from batch_jobs.build_pages import PublishedBuild
from batch_jobs.compare import histogram_figure

# The site's errors live with the template environment; callers import them here.
from batch_jobs.templates import SiteBuildError
from batch_jobs.templates import SiteTemplateError as SiteTemplateError

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_CARD = REPO_ROOT / "docs" / "model-card.md"
SITE_DIR = REPO_ROOT / "site"
NODE_MODULES = REPO_ROOT / "node_modules"

PAGE_TEMPLATE = "index.html.j2"
API_TEMPLATE = "api.html.j2"
OPENAPI_COPY = "openapi.json"
STAR_RECORD = struct.Struct("<3f4B")
HASH_LENGTH = 8
BUILD_MARKER = ".local-bubble-site"
_BUILD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True)
class VendorFile:
    """A three.js file copied from node_modules, and the import-map key naming it."""

    source: str
    import_key: str | None


CLIENT_ASSETS = ("style.css", "app.js", "system.js", "skychart.js")
# Client modules that other modules import by a bare name through the import map.
CLIENT_MODULES = {"system.js": "local-bubble/system"}
# The build pages: an index of published builds and one folder per build.
BUILDS_INDEX_TEMPLATE = "builds.html.j2"
BUILD_TEMPLATE = "build.html.j2"
COMPARISON_TEMPLATE = "comparison.html.j2"
PAGES_ASSET = "pages.css"
# The status dashboard: its own page and assets, fed by the API's ops routes.
STATUS_TEMPLATE = "status.html.j2"
MODEL_CARD_TEMPLATE = "model_card.html.j2"
STATUS_ASSETS = ("status.css", "status.js")
STATUS_POLL_MS = 2000
THREE_FILES = (
    VendorFile("build/three.core.js", None),
    VendorFile("build/three.module.js", "three"),
    VendorFile(
        "examples/jsm/controls/OrbitControls.js",
        "three/addons/controls/OrbitControls.js",
    ),
)


class SiteAssetMissingError(SiteBuildError):
    """A file the site needs is not where the build expects it."""

    code = "site_asset_missing"


class NodeModulesMissingError(SiteAssetMissingError):
    """three.js is not installed in node_modules."""

    code = "node_modules_missing"


def build_site(
    out_dir: Path,
    *,
    build_id: str,
    api_url: str,
    tile: bytes,
    tile_ids: list[str],
    layers: Mapping[str, bytes] | None = None,
    builds: Sequence[PublishedBuild] = (),
    site_dir: Path = SITE_DIR,
    node_modules: Path = NODE_MODULES,
    model_card: Path = MODEL_CARD,
) -> Path:
    """Render the client for `build_id` into `out_dir` and return its index page.

    `builds` are the published builds the build pages show (newest first);
    `layers` are the star map's extra data (`site_data.LAYER_FILES`). The site
    is assembled in a sibling folder and swapped in at the end, so a failed
    build leaves the previous site untouched. `site_dir` and `node_modules`
    exist for tests; callers leave them alone. `model_card` is the inference
    model's card (Markdown), rendered as `model-card.html`.
    """
    out_dir = Path(out_dir)
    _check_inputs(build_id, api_url, tile, tile_ids)
    layers = dict(layers or {})
    try:
        site_data.check_layers(len(tile_ids), layers)
    except site_data.SiteLayerError as exc:
        raise SiteBuildError(str(exc)) from exc
    vendor = _vendor_sources(Path(node_modules))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        with warnings.catch_warnings():
            # A warning while rendering is a bug in a template or its data: stop.
            warnings.simplefilter("error")
            try:
                # One environment for every page of the build (batch_jobs.templates).
                env = templates.environment(Path(site_dir) / "templates")
                _assemble(
                    staging, Path(site_dir), env, vendor, build_id, api_url,
                    tile, tile_ids, layers,
                )  # fmt: skip
                _render_builds(staging, Path(site_dir), env, list(builds))
                _render_model_card(staging, Path(site_dir), env, Path(model_card))
            except Warning as warning:
                raise SiteBuildError(
                    f"site build stopped on a warning: {type(warning).__name__}: "
                    f"{warning}"
                ) from warning
        site_data.precompress(staging)
        _replace_dir(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info(
        "site built: build_id=%s stars=%d out_dir=%s", build_id, len(tile_ids), out_dir
    )
    return out_dir / "index.html"


def hashed_name(name: str, content: bytes) -> str:
    """`app.js` -> `app.3f2a9c1b.js`: the first hex digits of the content's sha256."""
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{digest}.{suffix}" if dot else f"{name}.{digest}"


def _check_inputs(
    build_id: str, api_url: str, tile: bytes, tile_ids: list[str]
) -> None:
    """Refuse inputs that would produce a broken or unsafe site, before any work."""
    if not isinstance(build_id, str) or not _BUILD_ID.fullmatch(build_id):
        raise SiteBuildError(
            f"build_id {build_id!r} is not usable in a path: use letters, digits, "
            "'.', '_' or '-', starting with a letter or digit"
        )
    parts = urlsplit(api_url) if isinstance(api_url, str) else None
    absolute = parts is not None and parts.scheme in ("http", "https") and parts.netloc
    if not (absolute or (isinstance(api_url, str) and api_url.startswith("/"))):
        raise SiteBuildError(
            f"api_url {api_url!r} must be an http(s) URL or a path starting with '/'"
        )
    if len(tile) % STAR_RECORD.size:
        raise SiteBuildError(
            f"tile is {len(tile)} bytes, not a whole number of "
            f"{STAR_RECORD.size}-byte star records"
        )
    count = len(tile) // STAR_RECORD.size
    if len(tile_ids) != count:
        raise SiteBuildError(
            f"tile holds {count} stars but tile_ids names {len(tile_ids)}"
        )
    for index, record in enumerate(STAR_RECORD.iter_unpack(tile)):
        if not all(math.isfinite(value) for value in record[:3]):
            raise SiteBuildError(
                f"tile star {index} ({tile_ids[index]!r}) has a non-finite position"
            )
    bad = next((i for i, sid in enumerate(tile_ids) if not isinstance(sid, str)), None)
    if bad is not None:
        raise SiteBuildError(f"tile_ids[{bad}] is {tile_ids[bad]!r}, not a string")


def _vendor_sources(node_modules: Path) -> list[tuple[VendorFile, Path]]:
    """Locate the three.js files, or say how to install them."""
    found = []
    for vendor in THREE_FILES:
        path = node_modules / "three" / vendor.source
        if not path.is_file():
            raise NodeModulesMissingError(
                f"three.js is not installed: {path} is missing. Run `npm ci` in "
                f"{REPO_ROOT} to install the client libraries, then build again."
            )
        found.append((vendor, path))
    return found


def _assemble(
    root: Path,
    site_dir: Path,
    env: jinja2.Environment,
    vendor: list[tuple[VendorFile, Path]],
    build_id: str,
    api_url: str,
    tile: bytes,
    tile_ids: list[str],
    layers: Mapping[str, bytes],
) -> None:
    """Write every file of the site under `root`."""
    static = root / "static"
    static.mkdir()
    assets = {
        name: _publish(site_dir / "static" / name, static) for name in CLIENT_ASSETS
    }
    import_map: dict[str, dict[str, str]] = {"imports": {}}
    for item, path in vendor:
        url = _publish(path, static)
        key = item.import_key or f"./static/{path.name}"
        import_map["imports"][key] = url
        assets[path.name] = url
    for name, key in CLIENT_MODULES.items():
        import_map["imports"][key] = assets[name]
    data_url = f"data/{build_id}/"
    context: dict[str, object] = {
        "build_id": build_id,
        "api_url": api_url,
        "assets": assets,
        "import_map": import_map,
        "preload": [url for url in assets.values() if url.endswith(".js")],
        "stars_url": data_url + "stars.bin",
        "ids_url": data_url + "stars_ids.json",
        "star_count": len(tile_ids),
        "layer_urls": {
            name: data_url + file if name in layers else ""
            for name, file in site_data.LAYER_FILES.items()
        },
    }
    page = templates.render(env, PAGE_TEMPLATE, context)
    (root / "index.html").write_text(page, encoding="utf-8")
    document = _read_openapi(site_dir / OPENAPI_COPY)
    api_page = templates.render(
        env, API_TEMPLATE, {**context, "api": api_reference(document)}
    )
    (root / "api.html").write_text(api_page, encoding="utf-8")
    (root / OPENAPI_COPY).write_text(
        json.dumps(document, indent=2, sort_keys=True), encoding="utf-8"
    )
    _render_status(root, site_dir, env, api_url)
    data = root / "data" / build_id
    data.mkdir(parents=True)
    (data / "stars.bin").write_bytes(tile)
    ids = json.dumps(tile_ids, separators=(",", ":"))
    (data / "stars_ids.json").write_text(ids, encoding="utf-8")
    site_data.write_layers(data, layers)
    (root / BUILD_MARKER).write_text(build_id + "\n", encoding="utf-8")


def _read_openapi(path: Path) -> dict:
    """The committed OpenAPI document (`python -m devenv.openapi_doc` writes it)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SiteAssetMissingError(
            f"{path} is missing: run `python -m devenv.openapi_doc` to write it"
        ) from exc
    except ValueError as exc:
        raise SiteBuildError(f"{path} is not JSON: {exc}") from exc


_BOUNDS = (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="))


def _format(schema: dict) -> str:
    """A parameter's wire format in a few words: type, enum, bounds or example."""
    if "enum" in schema:
        return " | ".join(str(value) for value in schema["enum"])
    if schema.get("examples"):
        return f"{schema.get('type', 'string')}, e.g. {schema['examples'][0]}"
    bounds = [f"{word} {schema[key]}" for key, word in _BOUNDS if key in schema]
    return ", ".join([schema.get("type", "string"), *bounds])


def api_reference(document: dict) -> dict:
    """What the API page shows of an OpenAPI document, ready for the template."""
    info = document.get("info", {})
    notes = [
        line.lstrip("- ").strip()
        for line in info.get("description", "").split("\n-")[1:]
    ]
    operations = []
    for path, methods in document.get("paths", {}).items():
        for method, op in methods.items():
            parameters = [
                {
                    "name": p["name"],
                    "where": p["in"],
                    "required": p.get("required", False),
                    "format": _format(p.get("schema", {})),
                    "description": p.get("description", ""),
                }
                for p in op.get("parameters", [])
            ]
            responses = [
                (code, answer.get("description", ""))
                for code, answer in op.get("responses", {}).items()
            ]
            operations.append(
                {
                    "method": method,
                    "path": path,
                    "operation_id": op.get("operationId", f"{method}-{path}"),
                    "summary": op.get("summary", ""),
                    "parameters": parameters,
                    "responses": responses,
                }
            )
    return {
        "title": info.get("title", "API"),
        "version": info.get("version", ""),
        "notes": [" ".join(note.split()) for note in notes],
        "operations": operations,
    }


def _render_status(
    root: Path, site_dir: Path, env: jinja2.Environment, api_url: str
) -> None:
    """Write `status.html`, the operators' dashboard, with its hashed assets."""
    assets = {
        name: _publish(site_dir / "static" / name, root / "static")
        for name in STATUS_ASSETS
    }
    context = {"api_url": api_url, "assets": assets, "poll_ms": STATUS_POLL_MS}
    page = templates.render(env, STATUS_TEMPLATE, context)
    (root / "status.html").write_text(page, encoding="utf-8")


def _render_model_card(
    root: Path, site_dir: Path, env: jinja2.Environment, card: Path
) -> None:
    """Write `model-card.html`: the inference model's card, from its Markdown file.

    The card is the project's own file, so its HTML is trusted; a missing card
    stops the build rather than publishing a site without it.
    """
    import markdown

    from batch_jobs.inference import MODEL_VERSION

    try:
        text = card.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise SiteAssetMissingError(
            f"the model card {card} is missing: it is part of the site; restore "
            "docs/model-card.md from the repository"
        ) from err
    body = markdown.markdown(text, extensions=["tables", "toc"], output_format="html")
    css = _publish(site_dir / "static" / PAGES_ASSET, root / "static")
    page = templates.render(
        env,
        MODEL_CARD_TEMPLATE,
        {
            # The repository's own card, rendered by Markdown: trusted HTML.
            "card_html": markupsafe.Markup(body),  # noqa: S704
            "model_version": MODEL_VERSION,
            "css": css,
            "root": "",
        },
    )
    (root / "model-card.html").write_text(page, encoding="utf-8")


def _render_builds(
    root: Path, site_dir: Path, env: jinja2.Environment, builds: list[PublishedBuild]
) -> None:
    """Write `builds/index.html` and, per published build, its folder of pages."""
    css = _publish(site_dir / "static" / PAGES_ASSET, root / "static")
    folder = root / "builds"
    folder.mkdir()
    index = templates.render(
        env,
        BUILDS_INDEX_TEMPLATE,
        {"builds": builds, "css": "." + css, "root": "../"},
    )
    (folder / "index.html").write_text(index, encoding="utf-8")
    for published in builds:
        _render_build(folder, env, published, css)
    logger.debug("build pages written for %d builds", len(builds))


def _render_build(
    folder: Path, env: jinja2.Environment, published: PublishedBuild, css: str
) -> None:
    """One build's page, its comparison page and its quality page, if any."""
    build_id = published.build_id
    if not _BUILD_ID.fullmatch(build_id):
        raise SiteBuildError(f"registry build id {build_id!r} is not usable in a path")
    page_dir = folder / build_id
    page_dir.mkdir()
    comparison = published.comparison
    figures = {}
    if comparison is not None:
        figures = {
            name: histogram_figure(dist)
            for name, dist in comparison["distributions"].items()
        }
        report = templates.render(
            env, COMPARISON_TEMPLATE, {"report": comparison, "figures": figures}
        )
        (page_dir / "comparison.html").write_text(report, encoding="utf-8")
    if published.quality_html is not None:
        (page_dir / "quality.html").write_bytes(published.quality_html)
    context = {
        "published": published,
        "build": published.build,
        "comparison": comparison,
        "figures": figures,
        "count_bars": count_bars(comparison["counts"]) if comparison else None,
        "quality_rows": quality_rows(published.quality),
        "css": "../." + css,
        "root": "../../",
    }
    page = templates.render(env, BUILD_TEMPLATE, context)
    (page_dir / "index.html").write_text(page, encoding="utf-8")


def quality_rows(report: dict) -> list[dict]:
    """A quality report's top-level entries as rows: name, count, description.

    An entry that is not a `{count, description}` pair is shown as its value,
    so a report with new kinds of entries still renders.
    """
    rows = []
    for name, entry in sorted(report.items()):
        if isinstance(entry, dict) and "count" in entry:
            rows.append(
                {
                    "name": name,
                    "count": entry["count"],
                    "description": entry.get("description", ""),
                }
            )
        else:
            rows.append({"name": name, "count": None, "description": entry})
    return rows


_BAR_CHART = {"width": 560, "left": 170, "right": 70, "row": 26, "top": 8}


def count_bars(counts: dict) -> dict:
    """Geometry of a horizontal bar chart of a comparison's counts, old against new."""
    chart = _BAR_CHART
    inner = chart["width"] - chart["left"] - chart["right"]
    names = list(counts["old"])
    peak = max([1, *counts["old"].values(), *counts["new"].values()])
    rows = []
    for i, name in enumerate(names):
        y = chart["top"] + i * chart["row"]
        row = {"label": name.replace("_", " "), "y": y, "bars": []}
        for side, offset in (("old", 2), ("new", 12)):
            value = counts[side][name]
            row["bars"].append(
                {
                    "side": side,
                    "y": y + offset,
                    "width": round(inner * value / peak, 2),
                    "value": value,
                }
            )
        rows.append(row)
    height = chart["top"] * 2 + len(names) * chart["row"]
    return {**chart, "inner_width": inner, "height": height, "rows": rows}


def _publish(source: Path, static: Path) -> str:
    """Copy one asset under its content-hashed name; return its page-relative URL."""
    try:
        content = source.read_bytes()
    except FileNotFoundError as exc:
        raise SiteAssetMissingError(f"site asset {source} does not exist") from exc
    name = hashed_name(source.name, content)
    (static / name).write_bytes(content)
    logger.debug("asset %s -> static/%s", source, name)
    return f"./static/{name}"


def _replace_dir(staging: Path, out_dir: Path) -> None:
    """Put the finished site at `out_dir`, removing what a previous build left."""
    if out_dir.exists():
        if not out_dir.is_dir():
            raise SiteBuildError(f"{out_dir} exists and is not a folder")
        if any(out_dir.iterdir()) and not (out_dir / BUILD_MARKER).is_file():
            raise SiteBuildError(
                f"{out_dir} holds files that build_site did not write; refusing to "
                "replace it. Choose an empty or new folder."
            )
        trash = Path(
            tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent)
        )
        out_dir.rename(trash / out_dir.name)
        staging.rename(out_dir)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        staging.rename(out_dir)
