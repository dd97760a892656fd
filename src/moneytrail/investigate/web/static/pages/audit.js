"use strict";
(() => {
  const { api, el, dateTime, fail } = MT;
  const form = document.getElementById("audit-filters");
  async function load() {
    const params = new URLSearchParams({ limit: 300 });
    for (const k of ["username", "object_kind", "object_id"]) if (form[k].value.trim()) params.set(k, form[k].value.trim());
    const data = await api("/api/audit?" + params);
    document.getElementById("audit-count").textContent = `${data.total} entries`;
    document.querySelector("#audit-table tbody").replaceChildren(...data.items.map((a) => el("tr", {},
      el("td", {}, dateTime(a.ts)), el("td", {}, a.username), el("td", {}, a.action), el("td", {}, `${a.object_kind} ${a.object_id}`),
      el("td", { class: "muted" }, a.detail || ""), el("td", { class: "muted" }, a.client || ""))));
  }
  form.addEventListener("submit", (ev) => { ev.preventDefault(); load().catch(fail); });
  load().catch(fail);
})();
