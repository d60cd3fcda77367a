"""Each metric is defined once: the domain's rates and the schema's descriptions say the same."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from api.graphql.schema import schema
from domain.metrics import CommerceCounts, DeliveryCounts, Funnel, FunnelNode, JourneyConversion
from domain.metrics import RetentionPoint as RetentionPointModel
from domain.metrics import definitions as d

# (domain attribute, GraphQL type, GraphQL field, definition)
SAME_DEFINITION = [
    (CommerceCounts.conversion_rate, "Levers", "conversionRate", d.CONVERSION_RATE),
    (CommerceCounts.repurchase_rate, "Levers", "repurchaseRate", d.REPURCHASE_RATE),
    (CommerceCounts.purchase_frequency, "Levers", "purchaseFrequency", d.PURCHASE_FREQUENCY),
    (CommerceCounts.aov, "Levers", "aov", d.AOV),
    (CommerceCounts.arpu, "Levers", "arpu", d.ARPU),
    (
        JourneyConversion.conversion_rate,
        "JourneyConversion",
        "conversionRate",
        d.JOURNEY_CONVERSION_RATE,
    ),
    (RetentionPointModel.rate, "RetentionPoint", "rate", d.RETENTION_RATE),
    (FunnelNode.proceed_rate, "FunnelNode", "proceedRate", d.PROCEED_RATE),
    (FunnelNode.exit_rate, "FunnelNode", "exitRate", d.EXIT_RATE),
    (FunnelNode.conversion_rate, "FunnelNode", "conversionRate", d.NODE_CONVERSION_RATE),
    (Funnel.reach_rate, "FunnelNode", "reachRate", d.REACH_RATE),
    (DeliveryCounts.success_rate, "ChannelDeliveries", "successRate", d.DELIVERY_SUCCESS_RATE),
]

# (domain model, its field, GraphQL type, GraphQL field, definition)
SAME_COUNT = [
    (CommerceCounts, "entered", "Levers", "entered", d.ENTERED),
    (CommerceCounts, "buyers", "Levers", "buyers", d.BUYERS),
    (CommerceCounts, "repeat_buyers", "Levers", "repeatBuyers", d.REPEAT_BUYERS),
    (CommerceCounts, "orders", "Levers", "orders", d.ORDERS),
    (CommerceCounts, "revenue", "Levers", "revenue", d.REVENUE),
    (JourneyConversion, "started", "JourneyConversion", "started", d.STARTED),
    (JourneyConversion, "converted", "JourneyConversion", "converted", d.CONVERTED),
    (RetentionPointModel, "eligible", "RetentionPoint", "eligible", d.ELIGIBLE),
    (RetentionPointModel, "retained", "RetentionPoint", "retained", d.RETAINED),
    (FunnelNode, "entered", "FunnelNode", "entered", d.VISITS),
    (FunnelNode, "enrollments", "FunnelNode", "enrollments", d.NODE_ENROLLMENTS),
    (FunnelNode, "converted", "FunnelNode", "converted", d.NODE_CONVERTED),
    (
        DeliveryCounts,
        "customers_reached",
        "ChannelDeliveries",
        "customersReached",
        d.CUSTOMERS_REACHED,
    ),
]


@pytest.mark.parametrize(
    ("attribute", "type_name", "field", "definition"),
    SAME_DEFINITION,
    ids=[f"{t}.{f}" for _, t, f, _ in SAME_DEFINITION],
)
def test_a_rate_and_its_schema_field_are_described_by_one_definition(
    attribute: object, type_name: str, field: str, definition: d.Definition
) -> None:
    graphql_type = schema._schema.type_map[type_name]

    assert attribute.__doc__ == definition.description
    assert graphql_type.fields[field].description == definition.description


@pytest.mark.parametrize(
    ("model", "name", "type_name", "field", "definition"),
    SAME_COUNT,
    ids=[f"{t}.{f}" for _, _, t, f, _ in SAME_COUNT],
)
def test_a_count_and_its_schema_field_are_described_by_one_definition(
    model: type[BaseModel], name: str, type_name: str, field: str, definition: d.Definition
) -> None:
    graphql_type = schema._schema.type_map[type_name]

    assert model.model_fields[name].description == definition.description
    assert graphql_type.fields[field].description == definition.description


def test_the_time_to_convert_fields_carry_their_definitions_and_the_unit() -> None:
    fields = schema._schema.type_map["JourneyConversion"].fields

    assert fields["medianSecondsToConvert"].description == (
        f"{d.MEDIAN_TIME_TO_CONVERT.description} In seconds."
    )
    assert fields["meanSecondsToConvert"].description == (
        f"{d.MEAN_TIME_TO_CONVERT.description} In seconds."
    )


def test_the_retention_definition_names_the_days_and_the_window_the_store_uses() -> None:
    assert "N = 7, 30, 90" in d.RETENTION.description
    assert "days N-6..N" in d.RETENTION.description
    assert schema._schema.type_map["Retention"].description == d.RETENTION.description


def test_a_description_reads_name_formula_bounds_then_detail() -> None:
    share = d.Definition("Share", "a ÷ b", "More.", fraction=True, denominator="b")
    ratio = d.Definition("Ratio", "a ÷ b", denominator="b")
    plain = d.Definition("Plain", "what it counts")

    assert share.description == "Share: a ÷ b; a fraction from 0 to 1, null when b is 0. More."
    assert ratio.description == "Ratio: a ÷ b; null when b is 0."
    assert plain.description == "Plain: what it counts."
