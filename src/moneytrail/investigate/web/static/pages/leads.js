"use strict";
(() => {
  const { api, el, cad, span, scoreBar, chips, fail } = MT;
  const form = document.getElementById("lead-filters");
  const tbody = document.querySelector("#leads-table tbody");
  const limit = 25;
  let offset = 0;
  let typologiesLoaded = false;

  async function load() {
    const params = new URLSearchParams({ limit, offset, sort: form.sort.value });
    if (form.q.value.trim()) params.set("q", form.q.value.trim());
    if (form.typology.value) params.set("typology", form.typology.value);
    if (form.min_value.value) params.set("min_value", form.min_value.value);
    const data = await api("/api/leads?" + params);
    if (!typologiesLoaded) {
      for (const t of data.typologies) form.typology.append(el("option", { value: t }, t));
      typologiesLoaded = true;
    }
    tbody.replaceChildren(...data.items.map((l) => el("tr", { "data-lead-id": l.lead_id },
      el("td", {}, l.rank),
      el("td", {}, el("a", { href: `/leads/${encodeURIComponent(l.lead_id)}`, class: "lead-link" }, l.lead_id)),
      el("td", { class: "nowrap" }, scoreBar(l.score)),
      el("td", { class: "num" }, cad(l.total_value_cad)),
      el("td", { class: "nowrap" }, span(l.first_ts, l.last_ts)),
      el("td", {}, chips(l.typologies)),
      el("td", { class: "num" }, `${l.party_count} / ${l.account_count}`),
      el("td", { class: "muted" }, (l.narrative || "").slice(0, 160) + ((l.narrative || "").length > 160 ? "…" : "")),
    )));
    if (!data.items.length) tbody.replaceChildren(el("tr", {}, el("td", { colspan: 8, class: "muted" }, "No lead matches; run `moneytrail detect` or relax the filters.")));
    document.getElementById("lead-count").textContent = `${data.total} leads (parties / accounts in the members column)`;
    document.getElementById("page-info").textContent = data.total ? `${offset + 1}–${Math.min(offset + limit, data.total)} of ${data.total}` : "";
    document.getElementById("prev").disabled = offset === 0;
    document.getElementById("next").disabled = offset + limit >= data.total;
  }
  form.addEventListener("submit", (ev) => { ev.preventDefault(); offset = 0; load().catch(fail); });
  document.getElementById("prev").addEventListener("click", () => { offset = Math.max(0, offset - limit); load().catch(fail); });
  document.getElementById("next").addEventListener("click", () => { offset += limit; load().catch(fail); });
  load().catch(fail);
})();
