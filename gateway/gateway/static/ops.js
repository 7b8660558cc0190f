// The operators' page (P4): health, outbox lag, dead letters (with replay) and queues per service.
"use strict";
(() => {
  const {call, el, boot} = CRM;

  async function replay(service) {
    const result = await call("POST", "/ops/dead-letters/replay", {service});
    document.getElementById("status").textContent = `replayed ${result[service]} message(s) of ${service}`;
    await refresh();
  }

  async function refresh() {
    const data = await call("GET", "/ops/status");
    const services = Object.entries(data.services);
    document.querySelector("#services tbody").replaceChildren(...services.map(([name, info]) => {
      const health = info.health, outbox = health.outbox || {};
      return el("tr", {"data-service": name}, el("td", {}, name),
        el("td", {class: health.status === "ok" ? "ok" : "bad"}, health.status),
        el("td", {}, outbox.pending ?? "–"), el("td", {}, outbox.oldest || "–"),
        el("td", {class: health.dead_letters ? "bad" : ""}, health.dead_letters ?? "–"),
        el("td", {}, health.dead_letters ? el("button", {onclick: () => replay(name).catch(() => {})}, "Replay") : ""));
    }));
    const queues = services.flatMap(([, info]) => Object.entries(info.queues || {}));
    document.querySelector("#queues tbody").replaceChildren(...queues.map(([queue, depth]) => el("tr", {},
      el("td", {}, queue), el("td", {}, depth ? depth.messages : "missing"), el("td", {}, depth ? depth.consumers : "–"))));
    const projection = data.services.reporting.projection || {};
    document.getElementById("projection").textContent =
      `${projection.events ?? "?"} events projected; latest at ${projection.last_event_at || "–"}`;
    document.getElementById("gateway").textContent =
      `${data.gateway.requests} requests, ${data.gateway.server_errors} server errors`;
  }

  boot(refresh, 5);
})();
