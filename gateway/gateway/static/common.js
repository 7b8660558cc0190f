// Shared by the dashboard and the operators' page: the token (?token= or sessionStorage) and JSON calls.
"use strict";
const CRM = (() => {
  const params = new URLSearchParams(location.search);
  if (params.get("token")) sessionStorage.setItem("crm_token", params.get("token"));
  const token = () => sessionStorage.getItem("crm_token");

  async function call(method, path, body) {
    const response = await fetch("/api/v1" + path, {
      method, headers: {"Authorization": "Bearer " + token(), "Content-Type": "application/json"},
      body: body === undefined ? undefined : JSON.stringify(body)});
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((data.error && data.error.message) || response.statusText);
    return data;
  }

  function el(tag, attrs, ...children) {
    const ns = ["svg", "rect", "text", "line", "g"].includes(tag) ? "http://www.w3.org/2000/svg" : null;
    const node = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  // Ask for a token once, keep it for the tab; then run start() and repeat it every `seconds`.
  function boot(start, seconds) {
    const form = document.getElementById("login");
    const status = document.getElementById("status");
    const run = async () => {
      try { await start(); status.textContent = "updated " + new Date().toLocaleTimeString(); }
      catch (error) { status.textContent = "error: " + error.message; }
    };
    const go = () => { form.hidden = true; run(); setInterval(run, seconds * 1000); };
    if (token()) return go();
    form.hidden = false;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      sessionStorage.setItem("crm_token", form.elements.token.value.trim());
      go();
    });
  }
  return {call, el, boot, params};
})();
