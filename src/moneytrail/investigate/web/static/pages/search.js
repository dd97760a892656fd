"use strict";
(() => {
  const { api, el, name, table, fail } = MT;
  const form = document.getElementById("search-form");
  async function run() {
    const q = form.q.value.trim();
    const box = document.getElementById("search-results");
    if (!q) { box.replaceChildren(); return; }
    history.replaceState(null, "", "/search?q=" + encodeURIComponent(q));
    const data = await api(`/api/search?q=${encodeURIComponent(q)}&kind=${form.kind.value}`);
    box.replaceChildren(table([
      { label: "Found", render: (r) => r.party_id ? el("a", { href: `/entities/${encodeURIComponent(r.party_id)}`, class: "result-link" }, name(r.name, r.name_native)) : name(r.name) },
      { label: "Matched on", render: (r) => ({ party: "name", account: "account", phone: "phone" })[r.kind] }, { label: "Detail", key: "detail" }, { label: "Match", num: true, render: (r) => r.score.toFixed(2) }],
      data.items, `Nothing matches “${q}”.`));
  }
  form.addEventListener("submit", (ev) => { ev.preventDefault(); run().catch(fail); });
  if (form.q.value) run().catch(fail);
})();
