"""Who may read or edit which section of a lead (L3, L4). Pure Python.

Two sources decide a section: the **role** side (API.md "Users": the owner edits; for other
leads admins and marketing directors edit, marketing members read, market and sales managers
read leads whose owner or an assignee is in their team, members nothing) and the **assignment**
side (what the lead's owner gave this user per section). When a user has both — a role
permission other than `none` and an assignment — the conflict policy decides (L4).
"""
LEVELS = ("none", "read", "edit")
POLICIES = ("assignment_wins", "role_wins", "most_permissive", "most_restrictive")
DEFAULT_POLICY = "assignment_wins"
SECTIONS = ("contact", "company", "need")

ROLE_ON_ANY_LEAD = {"admin": "edit", "marketing_director": "edit", "marketing_member": "read"}
TEAM_ROLES = frozenset({"market_manager", "sales_manager"})  # read on leads of their team


def _rank(level):
    return LEVELS.index(level)


def role_permission(lead, user_id, roles, team, team_of) -> tuple:
    """(level, why) of the role side for this user on this lead; team_of(user_id) → team or None."""
    if user_id is not None and user_id == lead.owner_id:
        return "edit", "the owner edits"
    best, why = "none", "no role gives access to this lead"
    for role in roles:
        level = ROLE_ON_ANY_LEAD.get(role, "none")
        if role in TEAM_ROLES and team and _in_team(lead, team, team_of):
            level = "read"
        if _rank(level) > _rank(best):
            best = level
            why = (f"role {role} reads leads of team {team}" if role in TEAM_ROLES
                   else f"role {role} gives {level}")
    return best, why


def _in_team(lead, team, team_of) -> bool:
    people = [lead.owner_id, *lead.assignees]
    return any(person is not None and team_of(person) == team for person in people)


def section_permissions(lead, user_id, roles=(), team=None, policy=DEFAULT_POLICY, team_of=lambda _: None):
    """GET /leads/{id}/permissions: per section {"effective", "role", "assignment", "policy", "reason"}."""
    role, role_why = role_permission(lead, user_id, roles, team, team_of)
    assigned = lead.assignees.get(user_id)
    result = {}
    for section in SECTIONS:
        assignment = assigned[section] if assigned else "none"
        effective, how = combine(role, assignment, policy, has_assignment=assigned is not None)
        reason = f"role side: {role} ({role_why}); assignment: " + (
            f"{assignment}" if assigned else "not assigned") + f"; {how}"
        result[section] = {"effective": effective, "role": role, "assignment": assignment, "policy": policy,
                           "reason": reason}
    return result


def combine(role, assignment, policy, has_assignment=True) -> tuple:
    """(effective, how) from the two sides under `policy` (L4)."""
    if policy not in POLICIES:
        policy = DEFAULT_POLICY
    if role == "none" and not has_assignment:
        return "none", "neither side gives access"
    if role == "none":
        return assignment, "only the assignment applies"
    if not has_assignment:
        return role, "only the role applies"
    if role == assignment:
        return role, "both sides agree"
    if policy == "assignment_wins":
        return assignment, "both apply and the policy assignment_wins takes the assignment's"
    if policy == "role_wins":
        return role, "both apply and the policy role_wins takes the role's"
    higher, lower = (role, assignment) if _rank(role) > _rank(assignment) else (assignment, role)
    if policy == "most_permissive":
        return higher, "both apply and the policy most_permissive takes the higher"
    return lower, "both apply and the policy most_restrictive takes the lower"


def can(permissions, section, level) -> bool:
    return _rank(permissions[section]["effective"]) >= _rank(level)


def can_read_any(permissions) -> bool:
    return any(can(permissions, section, "read") for section in SECTIONS)
