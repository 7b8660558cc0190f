"""Rules engine benchmark (issue 7, performance), in process, no broker or database.

1. Decision at 500 rules: a campaign with 500 active rules (city, region, phone prefix,
   tags, quality, budget, nested any/all/not); each decision normalises a fresh lead and runs
   the rules in priority order until the first match (the matching rule is the last one, or
   none matches: the worst case), exactly as the service's _Batch.decide does before its
   database writes. Median over DECISIONS decisions.
2. Preview of 1,000,000 leads: one rule (`company.city = "Shanghai" or (region(company) =
   "Beijing" and not need.description is empty)`), compiled once, run over 1M leads generated
   in memory (from 1,000 distinct raw leads, each wrapped in a fresh Normal so every field is
   folded again, as for a lead read from the projection); the database read is not timed.
   The ceiling is a bare Python loop doing the same comparisons by hand (NFKC fold of the city,
   the phone's area code, the description's emptiness) over the same leads; R = bare time /
   engine time (1.0 would be as fast as the hand-written loop).

Last line: `rules: D ms median per decision at 500 rules, preview of 1M leads in T s (ratio to bare loop R)`.
"""
import argparse
import random
import statistics
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "services" / "assignment"))
sys.path.insert(0, str(ROOT / "crmkit"))

from assignment.conditions import Normal, check_condition, compile_condition  # noqa: E402
from assignment.model import Rule, predicate  # noqa: E402
from assignment.places import area_code  # noqa: E402
from assignment.text import parse  # noqa: E402

CITIES = ["Shanghai", " ShangHai ", "上海", "Beijing", "北京", "Shenzhen", "广州", "Hangzhou", "成都", "", None]
PHONES = ["021-62991640", "010-88886666", "0755-12345678", "13912345678", None]
PREVIEW = 'company.city = "Shanghai" or (region(company) = "Beijing" and not need.description is empty)'


def make_rules(n, rng):
    places = ["Chengdu", "Wuhan", "Xi'an", "Nanjing", "Tianjin", "Suzhou", "Qingdao", "Dalian", "Xiamen", "Kunming"]
    rules = []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            cond = {"all": [{"field": "company.city", "op": "eq", "value": f"City{i}"},
                            {"field": "quality", "op": "gte", "value": rng.randint(0, 100)}]}
        elif kind == 1:
            cond = {"any": [{"field": "company", "op": "region", "value": rng.choice(places)},
                            {"field": "tags", "op": "in", "value": [f"t{i}", f"u{i}"]}]}
        elif kind == 2:
            cond = {"all": [{"field": "company.phone", "op": "starts_with", "value": f"09{i % 100:02d}"},
                            {"not": {"field": "need.description", "op": "empty"}}]}
        elif kind == 3:
            cond = {"all": [{"field": "need.budget", "op": "gt", "value": 10 ** 9 + i},
                            {"field": "source", "op": "in", "value": ["trade_show", "web_form"]}]}
        else:
            cond = {"any": [{"field": "contact.title", "op": "contains", "value": f"title{i}"},
                            {"all": [{"field": "company.industry", "op": "eq", "value": f"ind{i}"},
                                     {"field": "company.name", "op": "starts_with", "value": f"co{i}"}]}]}
        rules.append(Rule(id=f"R{i}", name=f"r{i}", condition=check_condition(cond), recipients=[]))
    return rules


def make_lead(rng, i):
    return {"id": f"L{i}", "source": rng.choice(["trade_show", "web_form", "manual"]),
            "contact": {"name": f"客户 {i}", "title": rng.choice(["采购经理", "CTO", None])},
            "company": {"name": f"公司 {i}", "city": rng.choice(CITIES), "phone": rng.choice(PHONES),
                        "industry": rng.choice(["machinery", "IT", None])},
            "need": {"description": rng.choice(["需要两台数控机床", "", None]), "budget": rng.choice(["50万", None])},
            "tags": rng.sample(["vip", "expo", "hot", "cold"], 2), "quality": {"score": rng.randint(0, 100)}}


def decide(lead, rules):
    n = Normal(lead)
    for rule in rules:
        if predicate(rule)(n):
            return rule
    return None


def bare(lead):
    city = lead["company"].get("city")
    city = " ".join(unicodedata.normalize("NFKC", city).split()).casefold() if city else ""
    if city == "shanghai":
        return True
    code = area_code(lead["company"].get("phone"))
    in_beijing = city in ("beijing", "北京") or code == "010"
    description = lead["need"].get("description")
    return in_beijing and bool(description and description.strip())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", type=int, default=500)
    parser.add_argument("--decisions", type=int, default=2000)
    parser.add_argument("--leads", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = random.Random(7)

    rules = make_rules(args.rules, rng)
    samples = [make_lead(rng, i) for i in range(1000)]
    for lead in samples[:10]:
        decide(lead, rules)  # compile every rule once (cached by id and version)
    times = []
    for i in range(args.decisions):
        lead = samples[i % len(samples)]
        start = time.perf_counter()
        decide(lead, rules)
        times.append(time.perf_counter() - start)
    per_decision = statistics.median(times) * 1000
    print(f"decision over {args.rules} rules: median {per_decision:.3f} ms, p95 "
          f"{sorted(times)[int(len(times) * .95)] * 1000:.3f} ms")

    tree, _ = parse(PREVIEW)
    match = compile_condition(check_condition(tree))
    start = time.perf_counter()
    matched = sum(1 for i in range(args.leads) if match(Normal(samples[i % 1000])))
    engine = time.perf_counter() - start
    start = time.perf_counter()
    bare_matched = sum(1 for i in range(args.leads) if bare(samples[i % 1000]))
    ceiling = time.perf_counter() - start
    assert matched == bare_matched, (matched, bare_matched)
    print(f"preview: {matched} of {args.leads} leads matched in {engine:.2f} s "
          f"({args.leads / engine:,.0f} leads/s); bare loop {ceiling:.2f} s ({args.leads / ceiling:,.0f} leads/s)")
    scale = 1_000_000 / args.leads
    print(f"rules: {per_decision:.3f} ms median per decision at {args.rules} rules, preview of 1M leads in "
          f"{engine * scale:.1f} s (ratio to bare loop {ceiling / engine:.2f})")


if __name__ == "__main__":
    main()
