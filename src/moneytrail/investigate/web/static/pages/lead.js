"use strict";
// The lead page: facts, network graph (Cytoscape.js), money-flow Sankey (ECharts), members, cases.
(() => {
  const { api, el, cad, short, span, name, scoreBar, chips, table, toast, fail } = MT;
  const root = document.getElementById("lead");
  const leadId = root.dataset.leadId;
  const COLORS = { bank: "#2f6690", casino: "#7b4fa0", msb: "#d17a22", lawyer_trust: "#8c5a3c", crypto: "#2a9d8f", other: "#8a94a3" };
  const LABELS = { bank: "Bank", casino: "Casino", msb: "Money services / underground bank", lawyer_trust: "Lawyer trust account", crypto: "Crypto exchange", other: "Other / cash" };
  let cy = null;
  let pathFrom = null;
  let pathTo = null;

  function fact(label, value) { return el("div", { class: "fact" }, el("b", {}, value), el("span", {}, label)); }

  async function loadLead() {
    const lead = await api(`/api/leads/${encodeURIComponent(leadId)}`);
    document.getElementById("lead-facts").replaceChildren(
      fact("Rank", "#" + lead.rank), fact("Score", lead.score.toFixed(2)), fact("Value", cad(lead.total_value_cad)),
      fact("Time span", span(lead.first_ts, lead.last_ts)), fact("Parties / accounts", `${lead.party_count} / ${lead.account_count}`),
      el("div", { class: "fact" }, el("b", {}, chips(lead.typologies)), el("span", {}, "Typologies")),
    );
    document.getElementById("lead-narrative").textContent = lead.narrative || "";
    document.querySelector("#members-table tbody").replaceChildren(...lead.members.map((m) => el("tr", {},
      el("td", {}, el("a", { href: `/entities/${encodeURIComponent(m.party_id)}`, class: "member-link" }, name(m.name || m.party_id, m.name_native))),
      el("td", {}, m.kind || "–"), el("td", {}, scoreBar(m.score)), el("td", { class: "muted" }, m.reason || ""))));
    const cases = document.getElementById("lead-cases");
    if (lead.cases.length) {
      cases.replaceChildren(el("p", {}, "Cases on this lead: ", ...lead.cases.map((c) =>
        el("a", { href: `/cases/${c.id}`, class: "chip" }, `Case ${c.id} · ${c.status.replace("_", " ")}`))));
    }
    return lead;
  }

  // Aggregated nodes ("312 other bank accounts") have ids starting with "group:".
  function isGroup(d) { return d.id.startsWith("group:"); }

  function nodeSize(v, max) { return 18 + 42 * Math.sqrt((v || 0) / (max || 1)); }

  function elementsOf(net) {
    const maxV = Math.max(1, ...net.nodes.map((n) => n.volume_cad));
    const maxE = Math.max(1, ...net.edges.map((e) => e.amount_cad));
    const nodes = net.nodes.map((n) => ({ classes: isGroup(n) ? "group" : "", data: { ...n, size: nodeSize(n.volume_cad, maxV),
      color: COLORS[n.institution_type] || COLORS.other, risk: n.score || 0,
      display: (n.label_native ? `${n.label}\n${n.label_native}` : n.label) } }));
    const edges = net.edges.map((e) => ({ data: { ...e, width: 1 + 7 * Math.sqrt(e.amount_cad / maxE),
      display: short(e.amount_cad), t0: Date.parse(e.first_ts) || 0 } }));
    return { nodes, edges };
  }

  function style() {
    return [
      { selector: "node", style: { "background-color": "data(color)", width: "data(size)", height: "data(size)",
        label: "data(display)", "font-size": 10, "text-wrap": "wrap", "text-valign": "bottom", "text-margin-y": 3,
        "font-family": "Noto Sans, Noto Sans CJK SC, sans-serif", color: "#1d2733",
        "border-width": "mapData(risk, 0, 1, 0, 6)", "border-color": "#b23a3a" } },
      { selector: "node[?member]", style: { "font-weight": "bold" } },
      { selector: "node.group", style: { shape: "round-rectangle", "background-opacity": 0.5 } },
      { selector: "edge", style: { width: "data(width)", "line-color": "#a9b4c2", "target-arrow-color": "#a9b4c2",
        "target-arrow-shape": "triangle", "curve-style": "bezier", label: "data(display)", "font-size": 9,
        color: "#5f6b7a", "text-background-color": "#fbfcfd", "text-background-opacity": 0.8, "text-background-padding": 1 } },
      { selector: ".path", style: { "line-color": "#c8962e", "target-arrow-color": "#c8962e", "z-index": 10 } },
      { selector: "node.path", style: { "border-color": "#c8962e", "border-width": 6 } },
      { selector: ".faded", style: { opacity: 0.15 } },
      { selector: ":selected", style: { "overlay-color": "#2f6690", "overlay-opacity": 0.15 } },
    ];
  }

  function legend() {
    const items = Object.entries(LABELS).map(([k, v]) => { const i = el("i"); i.style.background = COLORS[k]; return el("span", {}, i, v); });
    items.push(el("span", {}, "Red ring: risk score · size: money through the account · width: amount"));
    document.getElementById("legend").replaceChildren(...items);
  }

  function showNode(n) {
    const d = n.data();
    const panel = document.getElementById("node-panel");
    const rows = [
      el("h3", {}, name(d.label, d.label_native)),
      el("dl", { class: "kv" },
        el("dt", {}, "Account"), el("dd", {}, isGroup(d) ? `${d.group_size} accounts` : d.id),
        el("dt", {}, "Institution"), el("dd", {}, d.institution || LABELS[d.institution_type] || "–"),
        el("dt", {}, "Country"), el("dd", {}, d.country || "–"),
        el("dt", {}, "Money through"), el("dd", {}, cad(d.volume_cad)),
        el("dt", {}, "Risk score"), el("dd", {}, d.score === null ? "–" : d.score.toFixed(2))),
    ];
    const buttons = el("div", { class: "buttons" });
    if (d.party_id) buttons.append(el("a", { class: "button", href: `/entities/${encodeURIComponent(d.party_id)}`, "data-testid": "open-member" }, "Open profile"));
    if (!isGroup(d)) {
      buttons.append(el("button", { type: "button", onclick: () => expand(d.id).catch(fail) }, "Expand neighbours"));
      buttons.append(el("button", { type: "button", onclick: () => { pathFrom = d.id; highlightPath(); } }, "Path from here"));
      buttons.append(el("button", { type: "button", onclick: () => { pathTo = d.id; highlightPath(); } }, "Path to here"));
    }
    rows.push(buttons);
    panel.replaceChildren(...rows);
  }

  function highlightPath() {
    cy.elements().removeClass("path faded");
    if (!pathFrom || !pathTo) { toast(pathFrom ? "Now choose “path to” on another account" : "Now choose “path from” on another account"); return; }
    const visible = cy.elements(":visible");
    // Follow the money: a directed path that prefers large transfers.
    const run = (directed) => visible.dijkstra({ root: cy.getElementById(pathFrom), directed,
      weight: (e) => 1 / Math.max(1, e.data("amount_cad")) }).pathTo(cy.getElementById(pathTo));
    let path = run(true);
    if (path.length < 2) path = run(false);
    if (path.length < 2) { toast("No money path between these two accounts in the shown period"); return; }
    cy.elements().addClass("faded");
    path.removeClass("faded").addClass("path");
    toast(`Path of ${path.edges().length} transfers highlighted`);
  }

  async function expand(accountId) {
    const net = await api(`/api/accounts/${encodeURIComponent(accountId)}/neighbours?max_nodes=25`);
    const { nodes, edges } = elementsOf(net);
    const add = [...nodes.filter((n) => cy.getElementById(n.data.id).empty()), ...edges.filter((e) => cy.getElementById(e.data.id).empty())];
    cy.add(add);
    cy.layout({ name: "cose", animate: false, randomize: false, nodeRepulsion: () => 9000, idealEdgeLength: () => 90 }).run();
    toast(`${add.length} elements added around ${accountId}`);
  }

  // The slider walks from the first to the last transfer; an edge shows once its first transfer happened.
  function setupSlider(net) {
    const starts = net.edges.map((e) => Date.parse(e.first_ts)).filter((t) => !Number.isNaN(t));
    const ends = net.edges.map((e) => Date.parse(e.last_ts)).filter((t) => !Number.isNaN(t));
    const lo = Math.min(...starts);
    const hi = Math.max(...ends, ...starts);
    const slider = document.getElementById("time-slider");
    const label = document.getElementById("time-label");
    slider.min = 0; slider.max = 100; slider.value = 100;
    const apply = () => {
      const t = Number.isFinite(lo) ? lo + (hi - lo) * Number(slider.value) / 100 : Infinity;
      label.textContent = Number.isFinite(t) ? new Date(t).toISOString().slice(0, 10) : "all";
      cy.batch(() => {
        cy.edges().forEach((e) => e.style("display", e.data("t0") <= t ? "element" : "none"));
        cy.nodes().forEach((n) => {
          const shown = n.data("member") || n.connectedEdges().some((e) => e.style("display") !== "none");
          n.style("display", shown ? "element" : "none");
        });
      });
    };
    slider.addEventListener("input", apply);
    apply();
  }

  async function loadNetwork() {
    const net = await api(`/api/leads/${encodeURIComponent(leadId)}/network`);
    const { nodes, edges } = elementsOf(net);
    cy = cytoscape({ container: document.getElementById("graph"), elements: [...nodes, ...edges], style: style(),
      layout: { name: "cose", animate: false, randomize: false, nodeRepulsion: () => 9000, idealEdgeLength: () => 90 },
      wheelSensitivity: 0.3 });
    cy.on("tap", "node", (ev) => showNode(ev.target));
    cy.on("dbltap", "node", (ev) => { if (!isGroup(ev.target.data())) expand(ev.target.id()).catch(fail); });
    window.__mtGraph = cy;
    legend();
    setupSlider(net);
    document.getElementById("fit").addEventListener("click", () => cy.fit(undefined, 30));
    document.getElementById("clear-path").addEventListener("click", () => { pathFrom = pathTo = null; cy.elements().removeClass("path faded"); });
    document.getElementById("graph-note").textContent = net.aggregated
      ? `Large network: ${net.hidden_nodes} accounts with less money through them are grouped by institution type. Expand an account to see its own neighbours.`
      : `${net.nodes.length} accounts, ${net.edges.length} money links. Double-click an account to expand its neighbours.`;
    root.dataset.graphReady = "yes";
  }

  async function loadFlow() {
    const flow = await api(`/api/leads/${encodeURIComponent(leadId)}/flow`);
    const box = document.getElementById("sankey");
    if (!flow.links.length) { box.replaceChildren(el("p", { class: "muted" }, "No money enters or leaves this lead's accounts.")); return; }
    const chart = echarts.init(box, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "item", formatter: (p) => p.dataType === "edge" ? `${p.data.source} → ${p.data.target}<br>${cad(p.data.value)}` : p.name },
      series: [{ type: "sankey", data: flow.nodes.map((n) => ({ name: n.name,
        itemStyle: { color: n.side === "network" ? "#1f3a5f" : n.side === "in" ? "#6b8fb3" : "#c8962e" } })),
        links: flow.links, nodeAlign: "justify", emphasis: { focus: "adjacency" },
        lineStyle: { color: "gradient", opacity: 0.35 },
        label: { fontFamily: "Noto Sans, sans-serif", formatter: (p) => `${p.name}` } }],
    });
    window.addEventListener("resize", () => chart.resize());
  }

  document.getElementById("open-case").addEventListener("click", async () => {
    try {
      const c = await api("/api/cases", { method: "POST", body: { lead_id: leadId } });
      location.href = `/cases/${c.id}`;
    } catch (e) { fail(e); }
  });

  loadLead().catch(fail);
  loadNetwork().catch(fail);
  loadFlow().catch(fail);
  MT.reportButtons(document.getElementById("report-buttons"), leadId).catch(() => null);
})();
