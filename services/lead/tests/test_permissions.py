"""Section permissions (L3, L4): the role side, the assignment side and the four conflict policies."""
from types import SimpleNamespace

import pytest

from lead.permissions import POLICIES, can, can_read_any, combine, role_permission, section_permissions

TEAMS = {"owner1": "east", "sales1": "west", "mgr-east": "east", "mgr-west": "west"}


def a_lead(owner="owner1", assignees=None):
    return SimpleNamespace(owner_id=owner, assignees=assignees or {})


@pytest.mark.parametrize("user, roles, team, expected", [
    ("owner1", ("sales_member",), None, "edit"),          # the owner edits
    ("a1", ("admin",), None, "edit"),
    ("d1", ("marketing_director",), None, "edit"),
    ("m1", ("marketing_member",), None, "read"),
    ("mgr-east", ("sales_manager",), "east", "read"),     # the owner is in their team
    ("mgr-west", ("market_manager",), "west", "read"),    # an assignee is in their team
    ("mgr-north", ("sales_manager",), "north", "none"),
    ("s9", ("sales_member",), "east", "none"),
    ("s9", ("market_member",), None, "none"),
    ("x", ("sales_member", "marketing_member"), None, "read"),  # several roles: the highest
    ("x", ("marketing_member", "admin"), None, "edit"),
])
def test_the_role_matrix_of_api_md_L4(user, roles, team, expected):
    lead = a_lead(assignees={"sales1": {"contact": "read", "company": "read", "need": "read"}})

    assert role_permission(lead, user, roles, team, TEAMS.get)[0] == expected


# role side, assignment side → effective under each policy
@pytest.mark.parametrize("role, assignment, expected", [
    ("read", "edit", {"assignment_wins": "edit", "role_wins": "read", "most_permissive": "edit",
                      "most_restrictive": "read"}),
    ("edit", "read", {"assignment_wins": "read", "role_wins": "edit", "most_permissive": "edit",
                      "most_restrictive": "read"}),
])
def test_the_four_conflict_policies_decide_when_both_sides_apply_L4(role, assignment, expected):
    assert {policy: combine(role, assignment, policy)[0] for policy in POLICIES} == expected


def test_with_one_side_only_that_side_applies_whatever_the_policy_L4():
    for policy in POLICIES:
        assert combine("none", "read", policy)[0] == "read"
        assert combine("read", "none", policy, has_assignment=False)[0] == "read"
        assert combine("none", "none", policy, has_assignment=False)[0] == "none"


def test_permissions_are_per_section_and_say_why_L3_L4():
    lead = a_lead(assignees={"s1": {"contact": "edit", "company": "read", "need": "edit"}})

    perms = section_permissions(lead, "s1", ("marketing_member",), None, "most_restrictive")

    assert {s: p["effective"] for s, p in perms.items()} == {"contact": "read", "company": "read", "need": "read"}
    assert perms["contact"]["role"] == "read" and perms["contact"]["assignment"] == "edit"
    assert perms["contact"]["policy"] == "most_restrictive"
    assert "most_restrictive" in perms["contact"]["reason"] and "marketing_member" in perms["contact"]["reason"]
    assert can(perms, "need", "read") and not can(perms, "need", "edit")


def test_a_stranger_has_no_section_at_all():
    perms = section_permissions(a_lead(), "s9", ("sales_member",), "north", team_of=TEAMS.get)

    assert not can_read_any(perms)
    assert perms["need"]["reason"].endswith("neither side gives access")
