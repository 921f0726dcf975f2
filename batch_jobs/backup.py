"""Back up the stage's DynamoDB tables to object storage, restore them, drill both.

A backup is one gzipped JSON-lines file per table (each line one item in
DynamoDB's typed JSON, lines sorted by key so the same data gives the same
bytes) and a manifest naming each file's item count and sha256; every object is
written once under `backups/<backup_id>/` and never replaced. A restore creates
fresh tables under a new prefix, refuses any table or item that already exists,
and checks the restored tables against the manifest's counts and digests. The
drill does both and compares every item, so a backup is known to restore.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import boto3
import botocore.exceptions

from chalicelib.errors import BadRequest, Conflict, LocalBubbleError, NotFound
from chalicelib.models import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY, TABLE_MODELS
from chalicelib.settings import Settings
from chalicelib.storage import ObjectStore

logger = logging.getLogger(__name__)

BACKUP_FORMAT = "local-bubble/table-backup/1"
BACKUP_PREFIX = "backups/"
Progress = Callable[[float, str], None]
# Conditional puts in flight at once: each is one round trip, so overlap them.
RESTORE_WRITERS = 8


class BackupError(LocalBubbleError):
    """A backup or restore cannot go on; the message says which table or file."""

    code = "backup_error"


class RestoreRefused(Conflict):
    """A restore would overwrite a table or an item that already exists."""

    code = "restore_refused"


class BackupCorrupt(BackupError):
    """A stored backup file does not match its manifest (count or sha256)."""

    code = "backup_corrupt"


@functools.lru_cache(maxsize=4)
def dynamodb_client(settings: Settings):
    """A low-level DynamoDB client for the stage (dynalite locally)."""
    kwargs: dict = {"region_name": settings.region}
    if settings.stage == "local":
        kwargs.update(
            endpoint_url=settings.dynamodb_endpoint,
            aws_access_key_id=LOCAL_ACCESS_KEY,
            aws_secret_access_key=LOCAL_SECRET_KEY,
        )
    return boto3.client("dynamodb", **kwargs)


def short_names() -> list[str]:
    """The short name of every table the product owns, in model order."""
    return [model.Meta.short_name for model in TABLE_MODELS]


def _hash_first(key_schema: list[dict]) -> list[dict]:
    # DynamoDB wants the HASH element first; PynamoDB lists attributes in any order.
    return sorted(key_schema, key=lambda part: part["KeyType"] != "HASH")


def _schema(short: str) -> dict:
    """The key schema, attributes and indexes of table `short`, from its model."""
    model = next(m for m in TABLE_MODELS if m.Meta.short_name == short)
    schema = model._get_schema()
    indexes = [
        {
            "IndexName": gsi["index_name"],
            "KeySchema": _hash_first(gsi["key_schema"]),
            "Projection": gsi["projection"],
        }
        for gsi in schema.get("global_secondary_indexes", [])
    ]
    return {
        "KeySchema": _hash_first(schema["key_schema"]),
        "AttributeDefinitions": schema["attribute_definitions"],
        "GlobalSecondaryIndexes": indexes,
    }


# --- items as canonical JSON lines ---------------------------------------------
# DynamoDB's typed JSON keeps numbers as text and sets as sets; binary values are
# base64 text, so a line round-trips byte for byte.


def _encode(value: dict) -> dict:
    ((kind, raw),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(raw).decode()}
    if kind == "BS":
        return {"BS": sorted(base64.b64encode(b).decode() for b in raw)}
    if kind in ("SS", "NS"):
        return {kind: sorted(raw)}
    if kind == "M":
        return {"M": {k: _encode(v) for k, v in raw.items()}}
    if kind == "L":
        return {"L": [_encode(v) for v in raw]}
    return {kind: raw}


def _decode(value: dict) -> dict:
    ((kind, raw),) = value.items()
    if kind == "B":
        return {"B": base64.b64decode(raw)}
    if kind == "BS":
        return {"BS": [base64.b64decode(b) for b in raw]}
    if kind == "M":
        return {"M": {k: _decode(v) for k, v in raw.items()}}
    if kind == "L":
        return {"L": [_decode(v) for v in raw]}
    return {kind: raw}


def item_line(item: dict) -> str:
    """One item as its canonical JSON line (sorted keys, no spaces)."""
    encoded = {name: _encode(value) for name, value in item.items()}
    return json.dumps(encoded, sort_keys=True, separators=(",", ":"))


def _key_of(line_item: dict, key_names: list[str]) -> tuple:
    return tuple(json.dumps(line_item[name], sort_keys=True) for name in key_names)


def scan_lines(client, table: str, key_names: list[str]) -> list[str]:
    """Every item of `table` (strongly consistent scan) as lines sorted by key."""
    paginator = client.get_paginator("scan")
    items = []
    for page in paginator.paginate(TableName=table, ConsistentRead=True):
        items.extend(page.get("Items", []))
    encoded = [{n: _encode(v) for n, v in item.items()} for item in items]
    encoded.sort(key=lambda item: _key_of(item, key_names))
    return [json.dumps(item, sort_keys=True, separators=(",", ":")) for item in encoded]


def _key_names(schema: dict) -> list[str]:
    return [part["AttributeName"] for part in schema["KeySchema"]]


def lines_body(lines: list[str]) -> bytes:
    """The gzipped file of `lines`; mtime 0 so equal lines give equal bytes."""
    text = "".join(line + "\n" for line in lines).encode()
    return gzip.compress(text, mtime=0)


def _sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# --- backup -------------------------------------------------------------------


@dataclass(frozen=True)
class BackupOutcome:
    """Where a backup went and what it holds."""

    backup_id: str
    manifest_key: str
    manifest: dict


def new_backup_id(now: datetime | None = None) -> str:
    """A backup id from the time it starts, like `backup-20260703T031500Z`."""
    return f"backup-{(now or datetime.now(UTC)):%Y%m%dT%H%M%SZ}"


def _check_id(backup_id: str) -> None:
    if not backup_id or "/" in backup_id or backup_id.startswith("."):
        raise BadRequest(
            f"backup id {backup_id!r} must be a plain name (no '/')", "backup_id"
        )


def backup(
    settings: Settings,
    backup_id: str,
    report: Progress | None = None,
    *,
    store: ObjectStore | None = None,
    client=None,
) -> BackupOutcome:
    """Export every table of the stage to `backups/<backup_id>/`, written once."""
    _check_id(backup_id)
    store = store or ObjectStore(settings)
    client = client or dynamodb_client(settings)
    bucket = settings.builds_bucket
    prefix = f"{BACKUP_PREFIX}{backup_id}"
    manifest_key = f"{prefix}/manifest.json"
    if store.exists(bucket, manifest_key):
        raise Conflict(
            f"backup {backup_id} already exists at s3://{bucket}/{manifest_key}; "
            "backups are written once, choose a new id"
        )
    tables = {}
    names = short_names()
    for done, short in enumerate(names):
        if report:
            report(done / (len(names) + 1), f"backing up {short}")
        schema = _schema(short)
        table = settings.table_name(short)
        started = time.perf_counter()
        lines = scan_lines(client, table, _key_names(schema))
        body = lines_body(lines)
        key = f"{prefix}/{short}.jsonl.gz"
        store.put_once(bucket, key, body, "application/gzip")
        tables[short] = {
            "table": table,
            "key": key,
            "items": len(lines),
            "bytes": len(body),
            "sha256": _sha256(body),
            "schema": schema,
            "seconds": round(time.perf_counter() - started, 3),
        }
        logger.info("backed up %s: %s items", table, len(lines))
    manifest = {
        "format": BACKUP_FORMAT,
        "backup_id": backup_id,
        "table_prefix": settings.table_prefix,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "consistency": "per-table strongly consistent scan",
        "tables": tables,
    }
    body = json.dumps(manifest, indent=1, sort_keys=True).encode()
    store.put_once(bucket, manifest_key, body)
    return BackupOutcome(backup_id, manifest_key, manifest)


def read_manifest(store: ObjectStore, bucket: str, backup_id: str) -> dict:
    """The manifest of `backup_id`; NotFound or BackupCorrupt when unusable."""
    _check_id(backup_id)
    key = f"{BACKUP_PREFIX}{backup_id}/manifest.json"
    try:
        manifest = json.loads(store.get(bucket, key))
    except NotFound as err:
        raise NotFound(
            f"no backup {backup_id}: s3://{bucket}/{key} does not exist; "
            "`jobctl list --type backup` shows the backups made"
        ) from err
    if manifest.get("format") != BACKUP_FORMAT:
        raise BackupCorrupt(
            f"s3://{bucket}/{key} has format {manifest.get('format')!r}, "
            f"expected {BACKUP_FORMAT}"
        )
    return manifest


def read_table_lines(store: ObjectStore, bucket: str, entry: dict) -> list[str]:
    """The lines of one backed-up table, after checking its sha256 and count."""
    body = store.get(bucket, entry["key"])
    digest = _sha256(body)
    if digest != entry["sha256"]:
        raise BackupCorrupt(
            f"s3://{bucket}/{entry['key']} has sha256 {digest}, but the manifest "
            f"says {entry['sha256']}; the backup is damaged, restore another one"
        )
    lines = gzip.decompress(body).decode().splitlines()
    if len(lines) != entry["items"]:
        raise BackupCorrupt(
            f"s3://{bucket}/{entry['key']} holds {len(lines)} items, the manifest "
            f"says {entry['items']}"
        )
    return lines


# --- restore ------------------------------------------------------------------


def _table_exists(client, table: str) -> bool:
    try:
        client.describe_table(TableName=table)
        return True
    except client.exceptions.ResourceNotFoundException:
        return False


def _create_table(client, table: str, schema: dict) -> None:
    request = {
        "TableName": table,
        "KeySchema": schema["KeySchema"],
        "AttributeDefinitions": schema["AttributeDefinitions"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if schema.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = schema["GlobalSecondaryIndexes"]
    client.create_table(**request)
    client.get_waiter("table_exists").wait(
        TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )


def _put_new(client, table: str, line: str, *, key_names: list[str]) -> None:
    item = {name: _decode(value) for name, value in json.loads(line).items()}
    absent = " AND ".join(f"attribute_not_exists(#k{i})" for i in range(len(key_names)))
    try:
        client.put_item(
            TableName=table,
            Item=item,
            ConditionExpression=absent,
            ExpressionAttributeNames={f"#k{i}": n for i, n in enumerate(key_names)},
        )
    except botocore.exceptions.ClientError as err:
        code = err.response.get("Error", {}).get("Code")
        if code == "ConditionalCheckFailedException":
            raise RestoreRefused(
                f"table {table} already holds the item {line[:120]}...; "
                "a restore never overwrites, restore under a new prefix"
            ) from err
        raise


def restore(
    settings: Settings,
    backup_id: str,
    target_prefix: str,
    report: Progress | None = None,
    *,
    store: ObjectStore | None = None,
    client=None,
) -> dict:
    """Restore `backup_id` into new tables named `<target_prefix>-<short>`.

    Every file is read and checked before the first table is made; any target
    table that exists stops the restore before anything is written.
    """
    if target_prefix == settings.table_prefix:
        raise RestoreRefused(
            f"target prefix {target_prefix!r} is the live stage's; restore into a "
            "new prefix and point the stage at it once checked"
        )
    _check_prefix(target_prefix)
    store = store or ObjectStore(settings)
    client = client or dynamodb_client(settings)
    bucket = settings.builds_bucket
    manifest = read_manifest(store, bucket, backup_id)
    contents = {
        short: read_table_lines(store, bucket, entry)
        for short, entry in manifest["tables"].items()
    }
    targets = {short: f"{target_prefix}-{short}" for short in contents}
    existing = sorted(t for t in targets.values() if _table_exists(client, t))
    if existing:
        raise RestoreRefused(
            f"table(s) {', '.join(existing)} already exist; a restore only writes "
            "fresh tables, choose another prefix"
        )
    tables = {}
    for done, (short, lines) in enumerate(contents.items()):
        if report:
            report(done / (len(contents) + 1), f"restoring {short}")
        entry = manifest["tables"][short]
        table = targets[short]
        started = time.perf_counter()
        _create_table(client, table, entry["schema"])
        names = _key_names(entry["schema"])
        with ThreadPoolExecutor(max_workers=RESTORE_WRITERS) as pool:
            # list() surfaces the first refusal or error of any writer.
            put = functools.partial(_put_new, client, table, key_names=names)
            list(pool.map(put, lines))
        tables[short] = _verify(client, table, entry)
        tables[short]["seconds"] = round(time.perf_counter() - started, 3)
        logger.info("restored %s into %s: %s items", short, table, len(lines))
    return {"backup_id": backup_id, "target_prefix": target_prefix, "tables": tables}


_PREFIX_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def _check_prefix(prefix: str) -> None:
    if not prefix or not set(prefix) <= _PREFIX_CHARS or len(prefix) > 200:
        raise BadRequest(
            f"target prefix {prefix!r} may hold only letters, digits, '-', '_' and '.'",
            "target_prefix",
        )


def _verify(client, table: str, entry: dict) -> dict:
    """Re-read a restored table; its count and digest must equal the backup's."""
    lines = scan_lines(client, table, _key_names(entry["schema"]))
    digest = _sha256(lines_body(lines))
    if len(lines) != entry["items"] or digest != entry["sha256"]:
        raise BackupCorrupt(
            f"restored table {table} holds {len(lines)} items with sha256 {digest}; "
            f"the backup has {entry['items']} with {entry['sha256']}"
        )
    return {"table": table, "items": len(lines), "sha256": digest}


def delete_tables(client, tables: list[str]) -> None:
    """Delete the named tables (a drill's scratch copies)."""
    for table in tables:
        if _table_exists(client, table):
            client.delete_table(TableName=table)


# --- drill --------------------------------------------------------------------


def _items_by_key(lines: list[str], key_names: list[str]) -> dict[tuple, str]:
    return {_key_of(json.loads(line), key_names): line for line in lines}


def compare_items(expected: list[str], actual: list[str], key_names: list[str]) -> dict:
    """Item by item: which keys are missing, extra, or differ in the copy."""
    want = _items_by_key(expected, key_names)
    got = _items_by_key(actual, key_names)
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    differing = sorted(k for k in set(want) & set(got) if want[k] != got[k])
    return {
        "compared": len(want),
        "missing": len(missing),
        "extra": len(extra),
        "differing": len(differing),
        "samples": [list(k) for k in (missing + extra + differing)[:10]],
    }


def drill(
    settings: Settings,
    backup_id: str,
    report: Progress | None = None,
    *,
    store: ObjectStore | None = None,
    client=None,
    keep_tables: bool = False,
) -> dict:
    """Back up, restore into a scratch prefix, compare every item, store a report.

    The report goes to `backups/<backup_id>/drill.json`; `ok` is true only when
    every table restored with no item missing, extra or different. The scratch
    tables are deleted afterwards unless `keep_tables`.
    """
    store = store or ObjectStore(settings)
    client = client or dynamodb_client(settings)
    started = time.perf_counter()
    stage = _stage(report, 0.0, 0.4)
    outcome = backup(settings, backup_id, stage, store=store, client=client)
    scratch = f"{settings.table_prefix}-drill-{backup_id}"[:120]
    stage = _stage(report, 0.4, 0.4)
    restored = restore(settings, backup_id, scratch, stage, store=store, client=client)
    if report:
        report(0.85, "comparing every item")
    comparisons = {}
    try:
        for short, entry in outcome.manifest["tables"].items():
            names = _key_names(entry["schema"])
            expected = read_table_lines(store, settings.builds_bucket, entry)
            actual = scan_lines(client, restored["tables"][short]["table"], names)
            comparisons[short] = compare_items(expected, actual, names)
    finally:
        if not keep_tables:
            delete_tables(client, [t["table"] for t in restored["tables"].values()])
    ok = all(
        c["missing"] == c["extra"] == c["differing"] == 0 for c in comparisons.values()
    )
    result = {
        "backup_id": backup_id,
        "scratch_prefix": scratch,
        "ok": ok,
        "items": sum(c["compared"] for c in comparisons.values()),
        "tables": comparisons,
        "seconds": round(time.perf_counter() - started, 3),
        "scratch_tables_kept": keep_tables,
    }
    key = f"{BACKUP_PREFIX}{backup_id}/drill.json"
    body = json.dumps(result, indent=1, sort_keys=True).encode()
    store.put_once(settings.builds_bucket, key, body)
    result["report_key"] = key
    return result


def _stage(report: Progress | None, start: float, span: float) -> Progress | None:
    if report is None:
        return None
    return lambda fraction, step: report(start + fraction * span, step)


def iter_backups(store: ObjectStore, bucket: str) -> Iterator[str]:
    """The ids of the backups stored in `bucket` (those with a manifest)."""
    for key in store.list_keys(bucket, BACKUP_PREFIX):
        if key.endswith("/manifest.json"):
            yield key[len(BACKUP_PREFIX) : -len("/manifest.json")]
