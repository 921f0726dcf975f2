"""Create the stage's tables from the models, and render them for CloudFormation."""

from __future__ import annotations

import logging

from pynamodb.exceptions import TableError

from chalicelib.errors import ConfigurationError
from chalicelib.models import TABLE_MODELS

logger = logging.getLogger(__name__)


def create_tables() -> list[str]:
    """Create every missing table (on-demand billing); return the names created."""
    created = []
    for model in TABLE_MODELS:
        if model.exists():
            _check_indexes(model)
            continue
        # dynalite has no TTL; AWS tables get it from infra/template.json.
        model.create_table(
            billing_mode="PAY_PER_REQUEST", wait=True, ignore_update_ttl_errors=True
        )
        created.append(model.Meta.table_name)
        logger.debug("created table %s", model.Meta.table_name)
    return created


def _check_indexes(model) -> None:
    """Refuse a table that lacks an index its model now has (made by older code)."""
    wanted = {
        gsi["index_name"]
        for gsi in model._get_schema().get("global_secondary_indexes", [])
    }
    described = model.describe_table()
    present = {gsi["IndexName"] for gsi in described.get("GlobalSecondaryIndexes", [])}
    missing = sorted(wanted - present)
    if missing:
        raise ConfigurationError(
            f"table {model.Meta.table_name} lacks index {', '.join(missing)}: it was "
            "created by an older version. Locally, `make clean-local` resets the "
            "local data; in AWS, deploy infra/template.json, which adds it."
        )


def delete_tables() -> None:
    """Delete every table of the bound stage; used by tests on their own prefix."""
    for model in TABLE_MODELS:
        if not model.exists():
            continue
        try:
            model.delete_table()
        except TableError:
            # A retried delete of a big table can find it gone: the goal state.
            if model.exists():
                raise


def cloudformation_resources(stage_param: str = "Stage") -> dict:
    """CloudFormation `AWS::DynamoDB::Table` resources built from the models."""
    resources = {}
    for model in TABLE_MODELS:
        schema = model._get_schema()
        short = model.Meta.short_name
        props: dict = {
            "TableName": {"Fn::Sub": f"localbubble-${{{stage_param}}}-{short}"},
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": schema["attribute_definitions"],
            "KeySchema": schema["key_schema"],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        }
        indexes = [
            {
                "IndexName": gsi["index_name"],
                "KeySchema": gsi["key_schema"],
                "Projection": gsi["projection"],
            }
            for gsi in schema.get("global_secondary_indexes", [])
        ]
        if indexes:
            props["GlobalSecondaryIndexes"] = indexes
        ttl = model._ttl_attribute()
        if ttl is not None:
            props["TimeToLiveSpecification"] = {
                "AttributeName": ttl.attr_name,
                "Enabled": True,
            }
        logical = "".join(part.title() for part in short.split("_")) + "Table"
        resources[logical] = {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": props,
        }
    return resources
