// Shared helpers of the workbench pages: API calls with the CSRF token, formatting, safe DOM building.
"use strict";
const MT = (() => {
  const csrf = document.body.dataset.csrf || "";

  async function api(path, opts = {}) {
    const method = (opts.method || "GET").toUpperCase();
    const headers = { Accept: "application/json" };
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    const res = await fetch(path, { method, headers, credentials: "same-origin",
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined });
    if (res.status === 401 && !path.startsWith("/api/auth/login")) {
      location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
      throw new Error("not logged in");
    }
    if (res.status === 204) return null;
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail || res.statusText);
      const err = new Error(detail); err.status = res.status; throw err;
    }
    return data;
  }

  // el("a", {href: "/x", class: "y"}, "text", child) - text is always set as text, never as HTML.
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  const cadFmt = new Intl.NumberFormat("en-CA", { style: "currency", currency: "CAD", maximumFractionDigits: 0 });
  const cad = (v) => (v === null || v === undefined ? "–" : cadFmt.format(v));
  const short = (v) => {
    if (v === null || v === undefined) return "–";
    const a = Math.abs(v);
    if (a >= 1e9) return "$" + (v / 1e9).toFixed(1) + "B";
    if (a >= 1e6) return "$" + (v / 1e6).toFixed(1) + "M";
    if (a >= 1e3) return "$" + (v / 1e3).toFixed(0) + "k";
    return "$" + v.toFixed(0);
  };
  const date = (v) => (v ? String(v).slice(0, 10) : "–");
  const dateTime = (v) => (v ? String(v).replace("T", " ").slice(0, 19) : "–");
  const span = (a, b) => `${date(a)} → ${date(b)}`;

  // A person's name with the original script beside it, marked as Chinese for the right glyphs.
  function name(latin, native) {
    const wrap = el("span", { class: "name" }, latin || "");
    if (native) wrap.append(el("span", { class: "native", lang: "zh" }, native));
    return wrap;
  }

  function scoreBar(score) {
    const pct = Math.max(0, Math.min(1, score || 0)) * 100;
    const bar = el("span", { class: "scorebar", title: String(score) });
    const fill = el("i"); fill.style.width = pct.toFixed(0) + "%"; bar.append(fill);
    return el("span", {}, bar, score === null || score === undefined ? "–" : Number(score).toFixed(2));
  }

  function chips(list, cls = "") { return (list || []).map((t) => el("span", { class: "chip " + cls }, t)); }

  function table(columns, rows, empty = "Nothing to show.") {
    if (!rows || !rows.length) return el("p", { class: "muted" }, empty);
    const head = el("tr", {}, columns.map((c) => el("th", { class: c.num ? "num" : null }, c.label)));
    const body = rows.map((r) => el("tr", {}, columns.map((c) => {
      const v = c.render ? c.render(r) : r[c.key];
      return el("td", { class: c.num ? "num" : null }, v === null || v === undefined ? "–" : v);
    })));
    return el("table", { class: "grid" }, el("thead", {}, head), el("tbody", {}, body));
  }

  function toast(text) {
    const t = document.getElementById("toast");
    t.textContent = text; t.classList.add("show");
    setTimeout(() => t.classList.remove("show"), 2500);
  }

  function fail(err) { toast("Error: " + err.message); console.error(err); }

  // Buttons that download a report of a lead or case, one per format, when reports are installed.
  async function reportButtons(container, id) {
    if (!container) return;
    const info = await api("/api/reports").catch(() => null);
    if (!info || !info.available) return;
    container.append(el("span", { class: "muted" }, "Report: "));
    for (const f of info.formats) {
      container.append(el("button", { type: "button", "data-format": f, onclick: () => {
        location.href = `/api/reports/${encodeURIComponent(id)}?format=${f}`;
      } }, f.toUpperCase()));
    }
  }

  const logout = document.getElementById("logout");
  if (logout) logout.addEventListener("click", async () => {
    await api("/api/auth/logout", { method: "POST" }).catch(() => null);
    location.href = "/login";
  });

  return { api, el, cad, short, date, dateTime, span, name, scoreBar, chips, table, toast, fail, reportButtons, csrf };
})();
