"use strict";
// The entity profile: identity, aliases, accounts, risk with its explanation, hits with evidence, timeline.
(() => {
  const { api, el, cad, date, dateTime, name, scoreBar, chips, table, fail } = MT;
  const root = document.getElementById("entity");
  const partyId = root.dataset.partyId;
  const partyLink = (id, label, native) => el("a", { href: `/entities/${encodeURIComponent(id)}` }, name(label || id, native));

  function identity(p) {
    const rows = [["Record", `${p.party_id} (${p.source} ${p.source_id})`], ["Kind", p.kind], ["Born", p.birth_date],
      ["Nationality", p.nationality], ["Country", p.country], ["Occupation", p.occupation],
      ["Declared income", p.declared_income === null || p.declared_income === undefined ? null : cad(p.declared_income)],
      ["Address", p.address], ["Phone", p.phone], ["E-mail", p.email], ["Document", p.document_number]];
    const dl = document.getElementById("identity");
    dl.replaceChildren();
    if (p.name_native) dl.append(el("dt", {}, "Native script"), el("dd", { lang: "zh", class: "native", "data-testid": "native-name" }, p.name_native));
    for (const [k, v] of rows) if (v !== null && v !== undefined && v !== "") dl.append(el("dt", {}, k), el("dd", {}, v));
  }

  function risk(prof) {
    const box = document.getElementById("risk");
    const s = prof.score;
    if (!s) { box.replaceChildren(el("p", { class: "muted" }, "No score for this party (scoring has not run, or no account of it was scored).")); return; }
    const parts = [
      el("p", {}, scoreBar(s.score), " ", s.alert ? el("span", { class: "chip warn" }, "alert") : el("span", { class: "chip ok" }, "below threshold")),
      el("p", { class: "explanation", "data-testid": "explanation" }, s.reason || ""),
      el("p", {}, chips((s.typologies || "").split(";").filter(Boolean))),
    ];
    const contrib = (prof.accounts.find((a) => a.contributions && a.contributions.length) || {}).contributions || [];
    if (contrib.length) {
      const max = Math.max(...contrib.map((c) => Math.abs(c.value)));
      const grid = el("div", { class: "contrib" });
      for (const c of contrib) {
        const bar = el("div", { class: "bar " + (c.value >= 0 ? "pos" : "neg") });
        bar.style.width = (100 * Math.abs(c.value) / max).toFixed(0) + "%";
        grid.append(el("span", {}, c.feature), el("div", {}, bar), el("span", { class: "num" }, c.value.toFixed(3)));
      }
      parts.push(el("h3", {}, "What raised the score (model contributions)"), grid);
    }
    box.replaceChildren(...parts);
  }

  function hits(prof) {
    const box = document.getElementById("hits");
    if (!prof.hits.length) { box.replaceChildren(el("p", { class: "muted" }, "No detector fired on this party or its accounts.")); return; }
    const byId = Object.fromEntries(prof.evidence.map((t) => [t.txn_id, t]));
    box.replaceChildren(...prof.hits.map((h) => {
      const ev = h.evidence_txn_ids.map((id) => byId[id]).filter(Boolean);
      return el("div", { class: "hit" },
        el("div", {}, el("strong", {}, h.detector_id), " ", chips(h.indicator_ids), " ",
          el("span", { class: "muted" }, `severity ${h.severity.toFixed(2)} · ${h.entity_kind} ${h.entity_id} · ${date(h.window_start)} → ${date(h.window_end)}`)),
        el("div", { class: "muted" }, Object.entries(h.metrics).map(([k, v]) => `${k} = ${typeof v === "number" ? +v.toFixed(3) : v}`).join(" · ")),
        el("div", { class: "evidence" }, table([
          { label: "Transaction", key: "source_id" }, { label: "When", render: (t) => dateTime(t.ts) },
          { label: "From", key: "src_account_id" }, { label: "To", key: "dst_account_id" },
          { label: "Channel", key: "channel" }, { label: "Bills", key: "cash_denomination" },
          { label: "Amount (CAD)", num: true, render: (t) => cad(t.amount_cad) }], ev,
          h.evidence_txn_ids.length ? "Evidence transactions are not in the workspace." : "No evidence transactions listed.")));
    }));
  }

  function timeline(rows) {
    const box = document.getElementById("timeline");
    if (!rows.length) { box.replaceChildren(el("p", { class: "muted" }, "No transactions.")); return; }
    const chart = echarts.init(box, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" }, legend: { data: ["In", "Out"] }, grid: { left: 70, right: 20, top: 30, bottom: 30 },
      xAxis: { type: "category", data: rows.map((r) => String(r.month).slice(0, 7)) },
      yAxis: { type: "value", axisLabel: { formatter: (v) => MT.short(v) } },
      series: [{ name: "In", type: "bar", data: rows.map((r) => r.in_cad), itemStyle: { color: "#6b8fb3" } },
        { name: "Out", type: "bar", data: rows.map((r) => r.out_cad), itemStyle: { color: "#c8962e" } }],
    });
  }

  async function load() {
    const prof = await api(`/api/entities/${encodeURIComponent(partyId)}`);
    const p = prof.party;
    document.getElementById("entity-name").replaceChildren(name(p.name || p.party_id, p.name_native));
    document.title = `${p.name || p.party_id} · moneytrail workbench`;
    identity(p);
    risk(prof);
    document.getElementById("aliases").replaceChildren(table([
      { label: "Record", render: (a) => partyLink(a.party_id, a.party_id) },
      { label: "Name", render: (a) => name(a.name, a.name_native) }, { label: "Source", render: (a) => `${a.source} ${a.source_id}` },
      { label: "Phone", key: "phone" }, { label: "Born", key: "birth_date" },
      { label: "Match weight", num: true, render: (a) => (a.weight ?? a.match_weight ?? null) === null ? "–" : Number(a.weight ?? a.match_weight).toFixed(1) }],
      prof.aliases, "No other record was resolved to this person."));
    document.getElementById("accounts").replaceChildren(table([
      { label: "Account", key: "account_id" }, { label: "Institution", key: "institution" }, { label: "Type", key: "institution_type" },
      { label: "Country", key: "country" }, { label: "Opened", render: (a) => date(a.opened_at) },
      { label: "Score", render: (a) => scoreBar(a.score) }, { label: "Reason", key: "reason" }], prof.accounts, "No accounts."));
    hits(prof);
    timeline(prof.timeline);
    document.getElementById("largest").replaceChildren(table([
      { label: "When", render: (t) => dateTime(t.ts) }, { label: "Account", key: "account_id" }, { label: "Direction", key: "direction" },
      { label: "Counterparty", key: "counterparty_id" }, { label: "Channel", key: "channel" },
      { label: "Amount (CAD)", num: true, render: (t) => cad(t.amount_cad) }], prof.largest_transactions.slice(0, 20)));
    document.getElementById("sessions").replaceChildren(table([
      { label: "Casino", key: "casino" }, { label: "When", render: (s) => dateTime(s.start_ts) },
      { label: "Buy-in", num: true, render: (s) => cad(s.buy_in_cad) }, { label: "Cash-out", num: true, render: (s) => cad(s.cash_out_cad) },
      { label: "Paid as", key: "cash_out_form" }, { label: "Small bills", num: true, render: (s) => s.share_small_bills === null ? "–" : (100 * s.share_small_bills).toFixed(0) + "%" }],
      prof.casino_sessions, "No casino sessions."));
    document.getElementById("properties").replaceChildren(table([
      { label: "Property", key: "property_id" }, { label: "When", render: (t) => date(t.ts) },
      { label: "Buyer", render: (t) => t.buyer_party_id ? partyLink(t.buyer_party_id, t.buyer_party_id) : "–" },
      { label: "Price", num: true, render: (t) => cad(t.price) }, { label: "Cash", num: true, render: (t) => cad(t.cash_amount) },
      { label: "Mortgage", num: true, render: (t) => cad(t.mortgage_amount) }, { label: "Lender", key: "lender_kind" }],
      prof.property_transfers, "No property transfers."));
    document.getElementById("entity-leads").replaceChildren(table([
      { label: "Lead", render: (l) => el("a", { href: `/leads/${encodeURIComponent(l.lead_id)}` }, l.lead_id) },
      { label: "Rank", key: "rank" }, { label: "Score", render: (l) => scoreBar(l.score) }], prof.leads, "Not a member of any lead."));
    root.dataset.ready = "yes";
  }
  load().catch(fail);
})();
