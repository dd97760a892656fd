"use strict";
(() => {
  const { api, el, dateTime, fail } = MT;
  const form = document.getElementById("case-filters");
  async function load() {
    const params = new URLSearchParams();
    if (form.status.value) params.set("status", form.status.value);
    if (form.mine.checked) params.set("mine", "true");
    const rows = await api("/api/cases?" + params);
    const tbody = document.querySelector("#cases-table tbody");
    tbody.replaceChildren(...rows.map((c) => el("tr", {},
      el("td", {}, el("a", { href: `/cases/${c.id}` }, `Case ${c.id}`)), el("td", {}, c.title),
      el("td", {}, el("a", { href: `/leads/${encodeURIComponent(c.lead_id)}` }, c.lead_id)),
      el("td", {}, c.status.replace("_", " ")), el("td", {}, c.assignee || "–"),
      el("td", {}, c.disposition ? c.disposition.replace("_", " ") : "–"), el("td", {}, dateTime(c.updated_at)))));
    if (!rows.length) tbody.replaceChildren(el("tr", {}, el("td", { colspan: 7, class: "muted" }, "No cases yet: open one from a lead.")));
  }
  form.addEventListener("submit", (ev) => { ev.preventDefault(); load().catch(fail); });
  load().catch(fail);
})();
