"""Reports (R1, R3, R4, R5) from projected facts. Pure: arithmetic on plain numbers."""
import csv
import io
from decimal import ROUND_HALF_UP, Decimal
from statistics import median

CENT = Decimal("0.01")
SORTABLE = {"name": lambda r: (r["name"] or "").lower(), "roi": lambda r: r["roi"],
            "won": lambda r: Decimal(r["revenue_won"]), "cost": lambda r: Decimal(r["cost_total"]),
            "leads": lambda r: r["leads"], "updated_at": lambda r: r["updated_at"] or ""}


def money(value) -> str:
    return f"{Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)}"


def ratio(part, whole, places="0.0001"):
    return float((Decimal(part) / Decimal(whole)).quantize(Decimal(places), rounding=ROUND_HALF_UP)) \
        if whole else None


def campaign_report(campaign: dict, counts: dict) -> dict:
    """API.md's report shape. `counts` maps (dimension, key) → number."""
    by_status = {key: n for (dim, key), n in counts.items() if dim == "status" and n}
    by_source = {key: n for (dim, key), n in counts.items() if dim == "source" and n}
    total = counts.get(("leads", "total"), 0)
    entries = Decimal(counts.get(("money", "expenses"), 0))
    activity_costs = Decimal(counts.get(("money", "activity_cost"), 0))
    expenses = entries + activity_costs
    effort_cost = Decimal(counts.get(("money", "effort_cost"), 0))
    won = Decimal(counts.get(("money", "won"), 0))
    cost_total = expenses + effort_cost
    won_count = counts.get(("opportunities", "won"), 0)
    converted = by_status.get("converted", 0)
    budget = Decimal(campaign.get("budget") or 0)
    return {
        "campaign_id": campaign["id"],
        "name": campaign.get("name"),
        "leads": {"total": total, "by_status": by_status, "by_source": by_source,
                  "assigned": counts.get(("leads", "assigned"), 0),
                  "unassigned": counts.get(("leads", "unassigned"), 0),
                  "deleted": counts.get(("leads", "deleted"), 0),
                  "merged": counts.get(("leads", "merged"), 0)},
        "responses": {key: counts.get(("responses", key), 0)
                      for key in ("accepted", "not_accepted", "not_reached")},
        "opportunities": {"open": counts.get(("opportunities", "open"), 0), "won": won_count,
                          "lost": counts.get(("opportunities", "lost"), 0),
                          "pipeline": money(counts.get(("money", "pipeline"), 0))},
        "revenue": {"expected": money(campaign.get("expected_revenue")), "won": money(won),
                    "won_vs_expected": ratio(won, campaign.get("expected_revenue") or 0)},
        "cost": {"budget": money(budget), "expenses": money(expenses), "expense_entries": money(entries),
                 "activity_costs": money(activity_costs),
                 "effort_hours": float(counts.get(("effort", "hours"), 0)),
                 "effort_cost": money(effort_cost), "total": money(cost_total),
                 "budget_used": ratio(cost_total, budget)},
        "roi": ratio(won - cost_total, cost_total),
        "cost_per_lead": money(cost_total / total) if total else None,
        "cost_per_won": money(cost_total / won_count) if won_count else None,
        "conversion_rate": round(converted / total, 4) if total else None,
        "updated_at": campaign.get("updated_at"),
    }


def add_counts(many) -> dict:
    total = {}
    for counts in many:
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
    return total


def rollup(campaign: dict, family: list, counts_by_id: dict) -> dict:
    """The campaign with all its descendants (`family`: campaign rows, itself included)."""
    summed = {"id": campaign["id"], "name": campaign.get("name"), "updated_at": campaign.get("updated_at"),
              "budget": sum(Decimal(c.get("budget") or 0) for c in family),
              "expected_revenue": sum(Decimal(c.get("expected_revenue") or 0) for c in family)}
    report = campaign_report(summed, add_counts(counts_by_id.get(c["id"], {}) for c in family))
    report["campaigns"] = len(family)
    return report


def summary(report: dict) -> dict:
    """One line of the campaign list (R1, R5): the figures a dashboard sorts by."""
    return {"campaign_id": report["campaign_id"], "name": report["name"], "leads": report["leads"]["total"],
            "revenue_expected": report["revenue"]["expected"], "revenue_won": report["revenue"]["won"],
            "budget": report["cost"]["budget"], "expenses": report["cost"]["expenses"],
            "effort_cost": report["cost"]["effort_cost"], "cost_total": report["cost"]["total"],
            "roi": report["roi"], "conversion_rate": report["conversion_rate"],
            "updated_at": report["updated_at"]}


def sort_summaries(rows, sort: str):
    """`roi`, `-roi`, `name`, `won`, `cost`, `leads`, `updated_at`; nulls last either way."""
    descending, key = sort.startswith("-"), SORTABLE[sort.lstrip("-")]
    known = [r for r in rows if key(r) is not None]
    unknown = [r for r in rows if key(r) is None]
    return sorted(known, key=lambda r: (key(r), r["campaign_id"]), reverse=descending) + unknown


def _days(start, end):
    return (end - start).total_seconds() / 86400 if start and end and end >= start else None


def _median(values):
    values = [v for v in values if v is not None]
    return round(median(values), 2) if values else None


def funnel(leads: list, opportunity_times: dict, campaign_id=None) -> dict:
    """R4: lead → usable → opportunity → won, with conversion rates and median days between stages.
    `leads`: (id, created_at, usable_at); `opportunity_times`: lead id → (first created, first won)."""
    stages = {"lead": 0, "usable": 0, "opportunity": 0, "won": 0}
    waits = {"lead_to_usable": [], "usable_to_opportunity": [], "opportunity_to_won": []}
    for lead_id, created_at, usable_at in leads:
        opportunity_at, won_at = opportunity_times.get(lead_id, (None, None))
        stages["lead"] += 1
        stages["usable"] += bool(usable_at or opportunity_at)
        stages["opportunity"] += bool(opportunity_at)
        stages["won"] += bool(won_at)
        waits["lead_to_usable"].append(_days(created_at, usable_at))
        waits["usable_to_opportunity"].append(_days(usable_at or created_at, opportunity_at))
        waits["opportunity_to_won"].append(_days(opportunity_at, won_at))
    names = list(stages)
    return {"campaign_id": campaign_id,
            "stages": [{"stage": name, "count": stages[name],
                        "rate_from_previous": ratio(stages[name], stages[names[i - 1]]) if i else None,
                        "rate_from_lead": ratio(stages[name], stages["lead"])}
                       for i, name in enumerate(names)],
            "median_days": {key: _median(values) for key, values in waits.items()},
            "conversion_rate": ratio(stages["won"], stages["lead"])}


def sales(leads: list, person_counts: list, campaign_id=None) -> dict:
    """R3: per person — leads held (owned or assigned), responses, conversions, won revenue, effort;
    and per pool the leads in it. `leads`: (owner_id, pool_id, assignees)."""
    people, pools = {}, {}

    def person(user_id):
        return people.setdefault(user_id, {"user_id": user_id, "leads_owned": 0, "leads_assigned": 0,
                                           "leads_held": 0, "responses": 0, "conversions": 0, "won": 0,
                                           "won_revenue": Decimal(0), "activities": 0,
                                           "effort_hours": Decimal(0), "effort_cost": Decimal(0)})
    for owner_id, pool_id, assignees in leads:
        assigned = {a for a in (assignees or "").split(",") if a}
        for user_id in assigned | ({owner_id} if owner_id else set()):
            row = person(user_id)
            row["leads_owned"] += user_id == owner_id
            row["leads_assigned"] += user_id in assigned
            row["leads_held"] += 1
        if pool_id:
            pools[pool_id] = pools.get(pool_id, 0) + 1
    for user_id, key, value in person_counts:
        row = person(user_id)
        row[key] = row.get(key, 0) + (Decimal(value) if isinstance(row.get(key), Decimal) else int(value))
    items = []
    for row in sorted(people.values(), key=lambda r: r["user_id"]):
        items.append({**row, "won_revenue": money(row["won_revenue"]), "effort_cost": money(row["effort_cost"]),
                      "effort_hours": float(row["effort_hours"]),
                      "response_rate": ratio(row["responses"], row["leads_held"]),
                      "conversion_rate": ratio(row["conversions"], row["leads_held"])})
    return {"campaign_id": campaign_id, "items": items,
            "pools": [{"pool_id": p, "leads": n} for p, n in sorted(pools.items())]}


def flatten(value, prefix=""):
    """A nested report as (path, value) rows: ("cost.total", "1200.00")."""
    if isinstance(value, dict):
        rows = []
        for key, inner in value.items():
            rows += flatten(inner, f"{prefix}.{key}" if prefix else key)
        return rows
    if isinstance(value, list):
        return [(prefix, ", ".join(str(v) for v in value))] if all(not isinstance(v, dict) for v in value) \
            else [row for i, v in enumerate(value) for row in flatten(v, f"{prefix}.{i}")]
    return [(prefix, "" if value is None else value)]


def to_csv(header, rows) -> str:
    """CSV text with a byte order mark, so Excel reads Chinese as UTF-8 (R5)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff" + out.getvalue()
