"""The bulk assignment RPC's input (A6): a fast path for well-formed items, the schema for the rest."""
import pytest

from crmkit.errors import Invalid, load_or_invalid
from lead.schemas import RuleAssignment, load_rule_assignments

GOOD = [
    {"lead_id": "L1", "assignments": [{"user_id": "s1"}], "decision_key": "e1", "actor_id": None,
     "correlation_id": "c1", "reason": "rule “上海” matched"},
    {"lead_id": "L2", "assignments": [{"user_id": "s1", "permissions": {"contact": "read", "need": "edit"}},
                                      {"user_id": "s2"}], "decision_key": "e2"},
]


def test_well_formed_items_load_as_the_schema_loads_them_A6():
    assert load_rule_assignments(GOOD) == RuleAssignment(many=True).load(GOOD)


@pytest.mark.parametrize("bad, field", [
    ([{"assignments": [], "decision_key": "e"}], "0.lead_id"),
    ([{"lead_id": "L1", "assignments": [{"user_id": "s1", "permissions": {"contact": "own"}}], "decision_key": "e"}],
     "0.assignments.0.permissions.contact"),
    ([{"lead_id": "L1", "assignments": [], "decision_key": "e", "extra": 1}], "0.extra"),
    ([{"lead_id": "x" * 65, "assignments": [], "decision_key": "e"}], "0.lead_id"),
    ([{"lead_id": "L1", "assignments": "s1", "decision_key": "e"}], "0.assignments"),
])
def test_anything_else_gets_the_schemas_field_errors(bad, field):
    with pytest.raises(Invalid) as fast:
        load_rule_assignments(bad)
    with pytest.raises(Invalid) as schema:
        load_or_invalid(RuleAssignment(many=True), bad)

    assert fast.value.details == schema.value.details and field in fast.value.details
