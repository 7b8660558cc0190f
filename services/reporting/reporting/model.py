"""Campaign reports (R1) from projected facts. Pure: arithmetic on plain numbers."""
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def money(value) -> str:
    return f"{Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)}"


def campaign_report(campaign: dict, counts: dict) -> dict:
    """API.md's report shape. `counts` maps (dimension, key) → number."""
    by_status = {key: n for (dim, key), n in counts.items() if dim == "status" and n}
    by_source = {key: n for (dim, key), n in counts.items() if dim == "source" and n}
    total = counts.get(("leads", "total"), 0)
    expenses = Decimal(counts.get(("money", "expenses"), 0))
    effort_cost = Decimal(counts.get(("money", "effort_cost"), 0))
    won = Decimal(counts.get(("money", "won"), 0))
    cost_total = expenses + effort_cost
    won_count = counts.get(("opportunities", "won"), 0)
    converted = by_status.get("converted", 0)
    return {
        "campaign_id": campaign["id"],
        "leads": {"total": total, "by_status": by_status, "by_source": by_source,
                  "assigned": counts.get(("leads", "assigned"), 0)},
        "responses": {key: counts.get(("responses", key), 0)
                      for key in ("accepted", "not_accepted", "not_reached")},
        "opportunities": {"open": counts.get(("opportunities", "open"), 0), "won": won_count,
                          "lost": counts.get(("opportunities", "lost"), 0),
                          "pipeline": money(counts.get(("money", "pipeline"), 0))},
        "revenue": {"expected": money(campaign.get("expected_revenue")), "won": money(won)},
        "cost": {"budget": money(campaign.get("budget")), "expenses": money(expenses),
                 "effort_hours": float(counts.get(("effort", "hours"), 0)),
                 "effort_cost": money(effort_cost), "total": money(cost_total)},
        "roi": float(((won - cost_total) / cost_total).quantize(Decimal("0.0001"))) if cost_total else None,
        "cost_per_lead": money(cost_total / total) if total else None,
        "cost_per_won": money(cost_total / won_count) if won_count else None,
        "conversion_rate": round(converted / total, 4) if total else None,
        "updated_at": campaign.get("updated_at"),
    }
