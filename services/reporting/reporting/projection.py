"""The projections (R1–R4, C4, C7): what each consumed event changes in the report tables.

Order-tolerant: a campaign, lead or opportunity keeps the version (its own `updated_at`) of the
state reporting holds, and an older state arriving late is ignored; counts move by the difference
between the state held and the new one. Activities are keyed by id and never change. Effort cost
uses the worker's hourly rate at the time of the work (else the default rate); a rate that arrives
after the work it prices re-prices that work. Pure over a repository: no Nameko, no SQL here.
"""
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from crmkit import envelope

CENT = Decimal("0.01")
DEFAULT_RATE = "*"  # the rates row key of the default hourly rate (settings.default_hourly_rate)
USABLE_OR_BEYOND = {"usable", "working", "converted"}
CLOSED_RANK = {"open": 0, "lost": 1, "won": 1}
EXPENSE_SIGN = {"campaign.expense_recorded": 1, "campaign.expense_removed": -1}


def when(text):
    return envelope.parse_time(text) if text else None


def aware(moment):
    """SQLite hands back naive datetimes; we store UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=envelope.now().tzinfo)


def decimal(value) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class Deltas:
    """What a batch adds to the counters, summed in memory and written once (R2)."""

    def __init__(self):
        self.campaign = defaultdict(Decimal)
        self.person = defaultdict(Decimal)
        self.touched = {}

    def add(self, campaign_id, dimension, key, delta, sign=1):
        if campaign_id and delta:
            self.campaign[(campaign_id, dimension, key)] += sign * Decimal(delta)

    def add_person(self, campaign_id, user_id, key, delta, sign=1):
        if campaign_id and user_id and delta:
            self.person[(campaign_id, user_id, key)] += sign * Decimal(delta)

    def touch(self, campaign_id, at):
        if campaign_id and at and (campaign_id not in self.touched or self.touched[campaign_id] < at):
            self.touched[campaign_id] = at

    def flush(self, reports):
        reports.add_counters([{"campaign_id": c, "dimension": d, "key": k, "value": v}
                              for (c, d, k), v in sorted(self.campaign.items()) if v])
        reports.add_person_counters([{"campaign_id": c, "user_id": u, "key": k, "value": v}
                                     for (c, u, k), v in sorted(self.person.items()) if v])
        reports.touch_campaigns(sorted(self.touched.items()))
        self.__init__()


class Projector:
    """Applies events to the report tables through `reports` (a ReportRepository)."""

    def __init__(self, reports):
        self.reports = reports
        self.deltas = Deltas()
        self._rates = {}

    def apply(self, event):
        kind = event["type"].split(".", 1)[0]
        handler = {"campaign": self._campaign, "lead": self._lead, "activity": self._activity,
                   "opportunity": self._opportunity, "user": self._rate, "settings": self._rate}.get(kind)
        if handler is not None:
            handler(event, event["data"], when(event["occurred_at"]))

    def prefetch(self, events):
        """Read the lead and activity facts these events touch in one go, before applying them one
        by one (a fact not read here is read when needed)."""
        leads, activities = [], []
        for event in events:
            kind, data = event["type"].split(".", 1)[0], event["data"]
            if kind == "lead":
                leads.append(data.get("id"))
                if event["type"] == "lead.merged":
                    leads += data.get("merged_ids") or data.get("from") or []
            elif kind == "activity":
                activities.append(data.get("id"))
        self.reports.load_facts("lead", leads)
        self.reports.load_facts("activity", activities)

    def flush(self):
        self.reports.write_facts()
        self.deltas.flush(self.reports)

    # -- campaigns (C1, C3, C5) -----------------------------------------------------------------------
    def _campaign(self, event, data, at):
        if event["type"] in EXPENSE_SIGN:  # C3/R1: expense entries count in the campaign's cost
            self.deltas.add(data["campaign_id"], "money", "expenses", decimal(data["amount"]),
                            EXPENSE_SIGN[event["type"]])
            self.deltas.touch(data["campaign_id"], at)
            return
        version = when(data.get("updated_at")) or at
        stored = self.reports.campaign(data["id"])
        if stored is not None and stored["version"] is not None and aware(stored["version"]) > version:
            return  # an older state arriving late
        self.reports.put_fact("campaign", {
            "id": data["id"], "name": data.get("name"), "budget": data.get("budget"),
            "expected_revenue": data.get("expected_revenue"), "parent_id": data.get("parent_id"),
            "status": data.get("status"), "archived": "1" if data.get("archived") else "0",
            "deleted": "1" if event["type"] == "campaign.deleted" else "0", "version": version,
            "updated_at": max(t for t in (at, aware(stored and stored["updated_at"])) if t)},
            stored is not None)

    # -- leads (R1, R3, R4, C7) ----------------------------------------------------------------------
    def _lead(self, event, data, at):
        lead_id = data["id"]
        self._lead_counts(event, data, at)
        if event["type"] == "lead.merged":
            for merged_id in data.get("merged_ids") or data.get("from") or []:
                self._move_lead(merged_id, {"gone": "merged"}, at, final=True)
        gone = "deleted" if event["type"] == "lead.deleted" else None
        version = when(data.get("deleted_at") if gone else data.get("updated_at")) or at
        state = {"campaign_id": data.get("campaign_id"), "status": data.get("status") or "raw",
                 "source": data.get("source"), "owner_id": data.get("owner_id"), "pool_id": data.get("pool_id"),
                 "gone": gone}
        if "assignees" in data:
            state["assignees"] = ",".join(a["user_id"] for a in data.get("assignees") or [])
        self._move_lead(lead_id, state, version, final=bool(gone), created_at=when(data.get("created_at")))

    def _lead_counts(self, event, data, at):
        """Facts counted once per event, whatever the lead's state: responses and conversions."""
        campaign_id = data.get("campaign_id")
        if event["type"] == "lead.response_recorded":
            response = data.get("response") or {}
            self.deltas.add(campaign_id, "responses", response.get("response") or "unknown", 1)
            self.deltas.add_person(campaign_id, response.get("user_id") or event.get("actor_id"), "responses", 1)
        elif event["type"] == "lead.converted":
            self.deltas.add_person(campaign_id, event.get("actor_id"), "conversions", 1)
        self.deltas.touch(campaign_id, at)

    def _move_lead(self, lead_id, state, version, final=False, created_at=None):
        stored = self.reports.fact("lead", lead_id)
        if stored is not None and stored["gone"]:
            return  # deleted or merged is final
        if stored is not None and not final and aware(stored["updated_at"]) > version:
            if self._keep_earliest(stored, state, version, created_at):
                self.reports.put_fact("lead", stored, True)
            return  # an older state arriving late: only its stage times may still count
        old = dict(stored or {})
        new = {**old, **{k: v for k, v in state.items() if v is not None or k == "gone"}, "id": lead_id,
               "updated_at": version}
        if stored is not None and final:  # a deletion keeps what reporting knew of the lead
            new = {**old, "gone": state["gone"], "updated_at": version}
        new.setdefault("assignees", "")
        if new.get("assignees") and old.get("assigned") != "1":
            self.deltas.add(new["campaign_id"], "leads", "assigned", 1)
            new["assigned"] = "1"
        new.setdefault("assigned", "0")
        self._keep_earliest(new, state, version, created_at)
        for fact, sign in ((old, -1), (new, 1)):
            for dimension, key in self._lead_buckets(fact):
                self.deltas.add(fact["campaign_id"], dimension, key, 1, sign)
        self.reports.put_fact("lead", new, stored is not None)

    @staticmethod
    def _keep_earliest(fact, state, version, created_at):
        """Stage times (R4) take the earliest seen, in whatever order the events arrive."""
        changed = False
        if created_at and (fact.get("created_at") is None or aware(fact["created_at"]) > created_at):
            fact["created_at"], changed = created_at, True
        if state.get("status") in USABLE_OR_BEYOND and (
                fact.get("usable_at") is None or aware(fact["usable_at"]) > version):
            fact["usable_at"], changed = version, True
        return changed

    @staticmethod
    def _lead_buckets(fact):
        if not fact or not fact.get("campaign_id"):
            return []
        if fact.get("gone"):
            return [("leads", fact["gone"])]  # C7: out of the counts; its effort stays
        buckets = [("leads", "total"), ("status", fact.get("status") or "raw"),
                   ("source", fact.get("source") or "unknown")]
        if not fact.get("assignees"):
            buckets.append(("leads", "unassigned"))  # A8: no rule or person took it (yet)
        return buckets

    # -- activities: effort and its cost (C4, C7) ----------------------------------------------------
    def _activity(self, event, data, at):
        if self.reports.fact("activity", data["id"]) is not None:
            return  # the same work, told again (a merge re-announcing it): counted once
        occurred = when(data.get("occurred_at")) or at
        hours, cost = decimal(data.get("effort_hours")), decimal(data.get("cost"))
        effort_cost = cents(hours * self.rate_at(data.get("worker_id"), occurred))
        self.reports.put_fact("activity", {
            "id": data["id"], "campaign_id": data.get("campaign_id"), "lead_id": data.get("lead_id"),
            "worker_id": data.get("worker_id"), "effort_hours": hours, "cost": cost,
            "effort_cost": effort_cost, "occurred_at": occurred}, False)
        self._count_activity(data.get("campaign_id"), data.get("worker_id"), hours, cost, effort_cost)
        self.deltas.touch(data.get("campaign_id"), at)

    def _count_activity(self, campaign_id, worker_id, hours, cost, effort_cost):
        for dimension, key, value in (("effort", "hours", hours), ("money", "activity_cost", cost),
                                      ("money", "effort_cost", effort_cost), ("effort", "activities", 1)):
            self.deltas.add(campaign_id, dimension, key, value)
        for key, value in (("effort_hours", hours), ("effort_cost", effort_cost), ("activities", 1)):
            self.deltas.add_person(campaign_id, worker_id, key, value)

    # -- opportunities: pipeline and won revenue (L11, C5) --------------------------------------------
    def _opportunity(self, event, data, at):
        status = data.get("status") or "open"
        version = (when(data.get("updated_at")) or at, CLOSED_RANK.get(status, 0))
        stored = self.reports.fact("opportunity", data["id"])
        if stored is not None and (aware(stored["version"]), CLOSED_RANK.get(stored["status"], 0)) > version:
            return
        new = {"id": data["id"], "campaign_id": data.get("campaign_id"), "lead_id": data.get("lead_id"),
               "owner_id": data.get("owner_id"), "status": status, "amount": decimal(data.get("amount")),
               "won_amount": decimal(data.get("won_amount")) if data.get("won_amount") is not None else None,
               "created_at": when(data.get("created_at")) or at, "closed_at": when(data.get("closed_at")),
               "version": version[0]}
        for fact, sign in ((stored, -1), (new, 1)):
            if fact:
                self._count_opportunity(fact, sign)
        self.reports.put_fact("opportunity", new, stored is not None)
        self.deltas.touch(new["campaign_id"], at)

    def _count_opportunity(self, fact, sign):
        campaign_id, status = fact["campaign_id"], fact["status"]
        self.deltas.add(campaign_id, "opportunities", status, 1, sign)
        if status == "open":
            self.deltas.add(campaign_id, "money", "pipeline", decimal(fact["amount"]), sign)
        elif status == "won":
            won = decimal(fact["won_amount"] if fact["won_amount"] is not None else fact["amount"])
            self.deltas.add(campaign_id, "money", "won", won, sign)
            self.deltas.add_person(campaign_id, fact["owner_id"], "won_revenue", won, sign)
            self.deltas.add_person(campaign_id, fact["owner_id"], "won", 1, sign)

    # -- hourly rates (C4) ---------------------------------------------------------------------------
    def _rate(self, event, data, at):
        if event["type"] == "settings.updated":
            user_id, rate = DEFAULT_RATE, data.get("default_hourly_rate")
            if rate is None:
                return
        elif "hourly_rate" in data:
            user_id, rate = data["id"], data["hourly_rate"]
        else:
            return
        self.reports.add_rate(user_id, at, None if rate is None else decimal(rate))
        self._rates.clear()
        self._reprice(None if user_id == DEFAULT_RATE else user_id)

    def rate_at(self, user_id, moment) -> Decimal:
        """The user's rate in force at `moment` (the first one known applies before it), else the
        default rate at that moment, else 0."""
        rate = self._rate_of(user_id, moment) if user_id else None
        if rate is None:
            rate = self._rate_of(DEFAULT_RATE, moment)
        return rate if rate is not None else Decimal(0)

    def _rate_of(self, user_id, moment):
        if user_id not in self._rates:
            self._rates[user_id] = [(aware(t), r) for t, r in self.reports.rates(user_id)]
        history = self._rates[user_id]
        if not history:
            return None
        in_force = [r for t, r in history if t <= moment]
        return in_force[-1] if in_force else history[0][1]

    def _reprice(self, worker_id):
        """Work priced before this rate was known is priced again (out-of-order rates)."""
        for row in self.reports.activities_of(worker_id):
            effort_cost = cents(decimal(row.effort_hours) * self.rate_at(row.worker_id, aware(row.occurred_at)))
            change = effort_cost - decimal(row.effort_cost)
            if change:
                self.reports.set_effort_cost(row.id, effort_cost)
                self.deltas.add(row.campaign_id, "money", "effort_cost", change)
                self.deltas.add_person(row.campaign_id, row.worker_id, "effort_cost", change)
