// The reports dashboard (R5): the campaign list with ROI and, for the chosen campaign, its funnel,
// revenue against expectation and cost against budget, refreshed every few seconds.
"use strict";
(() => {
  const {call, el, boot, params} = CRM;
  let chosen = params.get("campaign_id");
  const pct = (x) => x === null || x === undefined ? "–" : (x * 100).toFixed(1) + "%";

  function bars(svg, rows, width) {
    svg.replaceChildren();
    const most = Math.max(1, ...rows.flatMap((r) => r.parts.map((p) => p.value)));
    rows.forEach((row, i) => {
      const y = 10 + i * 30;
      svg.append(el("text", {x: 0, y: y + 14, "font-size": 12}, row.label));
      let x = 90;
      for (const part of row.parts) {
        const w = Math.max(0, (width - 180) * part.value / most);
        svg.append(el("rect", {x, y, width: w, height: 20, fill: part.color}));
        x += w;
      }
      svg.append(el("text", {x: x + 4, y: y + 14, "font-size": 12, "data-value": row.label}, row.text));
    });
  }

  function money(text) { return Number(text); }
  function shown(error) { document.getElementById("status").textContent = "error: " + error.message; }

  async function showCampaign(id) {
    const [report, funnel] = await Promise.all([
      call("GET", `/reports/campaigns/${encodeURIComponent(id)}`),
      call("GET", `/reports/funnel?campaign_id=${encodeURIComponent(id)}`)]);
    document.getElementById("detail").hidden = false;
    document.getElementById("detail-name").textContent = report.name || report.campaign_id;
    document.getElementById("kpi-won").textContent = report.revenue.won;
    document.getElementById("kpi-cost").textContent = report.cost.total;
    document.getElementById("kpi-roi").textContent = pct(report.roi);
    document.getElementById("kpi-effort").textContent = report.cost.effort_hours;
    document.getElementById("kpi-cpl").textContent = report.cost_per_lead ?? "–";
    bars(document.getElementById("chart-funnel"), funnel.stages.map((s) => ({
      label: s.stage, text: `${s.count} (${pct(s.rate_from_lead)})`,
      parts: [{value: s.count, color: "#4a7bd0"}]})), 360);
    bars(document.getElementById("chart-revenue"), [
      {label: "won", text: report.revenue.won, parts: [{value: money(report.revenue.won), color: "#3a9d5d"}]},
      {label: "expected", text: report.revenue.expected,
       parts: [{value: money(report.revenue.expected), color: "#9bb"}]}], 360);
    bars(document.getElementById("chart-cost"), [
      {label: "cost", text: `${report.cost.expenses} + ${report.cost.effort_cost}`,
       parts: [{value: money(report.cost.expenses), color: "#d08a4a"},
               {value: money(report.cost.effort_cost), color: "#e0b84a"}]},
      {label: "budget", text: report.cost.budget, parts: [{value: money(report.cost.budget), color: "#bbb"}]}], 360);
  }

  async function refresh() {
    const list = await call("GET", "/reports/campaigns?sort=-roi&limit=200");
    const body = document.querySelector("#campaigns tbody");
    body.replaceChildren(...list.items.map((c) => el("tr", {
      "data-campaign": c.campaign_id, class: c.campaign_id === chosen ? "selected" : "",
      onclick: () => { chosen = c.campaign_id; refresh().catch(shown); }},
      el("td", {}, c.name || c.campaign_id), el("td", {}, c.leads), el("td", {}, c.revenue_won),
      el("td", {}, c.revenue_expected), el("td", {}, c.cost_total), el("td", {}, c.budget),
      el("td", {"data-roi": c.campaign_id}, pct(c.roi)))));
    if (!chosen && list.items.length) chosen = list.items[0].campaign_id;
    if (chosen) await showCampaign(chosen);
  }

  boot(refresh, Number(params.get("refresh") || 5));
})();
