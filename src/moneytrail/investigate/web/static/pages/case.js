"use strict";
(() => {
  const { api, el, dateTime, toast, fail } = MT;
  const root = document.getElementById("case");
  const caseId = root.dataset.caseId;
  const supervisor = root.dataset.supervisor === "yes";
  const me = root.dataset.username;

  function fact(label, value) { return el("div", { class: "fact" }, el("b", {}, value), el("span", {}, label)); }

  function render(c) {
    document.getElementById("case-title").textContent = c.title;
    document.getElementById("case-facts").replaceChildren(
      fact("Lead", el("a", { href: `/leads/${encodeURIComponent(c.lead_id)}` }, c.lead_id)), fact("Status", c.status.replace("_", " ")),
      fact("Assignee", c.assignee || "unassigned"), fact("Opened by", c.created_by), fact("Opened", dateTime(c.created_at)),
      fact("Disposition", c.disposition ? c.disposition.replace("_", " ") : "none"));
    document.getElementById("case-status").value = c.status;
    document.getElementById("case-assignee").value = c.assignee || "";
    document.getElementById("notes").replaceChildren(...c.notes.map((n) => el("li", { class: "note" },
      el("div", { class: "meta" }, `${n.author} · ${dateTime(n.created_at)}`), el("div", {}, n.body))));
    const d = c.disposition_detail;
    document.getElementById("disposition-current").textContent = d
      ? `Recorded: ${d.disposition.replace("_", " ")} by ${d.decided_by} on ${dateTime(d.decided_at)}${d.reason ? " (" + d.reason + ")" : ""}` : "No disposition yet.";
    if (d) for (const r of document.querySelectorAll("input[name=disposition]")) r.checked = r.value === d.disposition;
    document.getElementById("case-members").replaceChildren(el("p", {}, "Parties: ",
      ...c.party_ids.map((p) => el("a", { class: "chip", href: `/entities/${encodeURIComponent(p)}` }, p))),
      el("p", { class: "muted" }, "Accounts: " + c.account_ids.join(", ")));
  }

  async function load() {
    const users = await api("/api/users/assignable");
    const sel = document.getElementById("case-assignee");
    for (const u of users) if (supervisor || u.username === me) sel.append(el("option", { value: u.username }, u.display_name || u.username));
    render(await api(`/api/cases/${caseId}`));
    root.dataset.ready = "yes";
  }

  document.getElementById("status-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    try {
      render(await api(`/api/cases/${caseId}`, { method: "PATCH", body: { status: f.status.value, assignee: f.assignee.value } }));
      toast("Case saved");
    } catch (e) { fail(e); }
  });
  document.getElementById("note-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = document.getElementById("note-body").value.trim();
    if (!body) return;
    try {
      await api(`/api/cases/${caseId}/notes`, { method: "POST", body: { body } });
      document.getElementById("note-body").value = "";
      render(await api(`/api/cases/${caseId}`));
      toast("Note added");
    } catch (e) { fail(e); }
  });
  document.getElementById("disposition-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const choice = f.querySelector("input[name=disposition]:checked");
    if (!choice) { toast("Choose confirmed or false positive"); return; }
    try {
      await api(`/api/cases/${caseId}/disposition`, { method: "PUT", body: { disposition: choice.value, reason: f.reason.value || null } });
      render(await api(`/api/cases/${caseId}`));
      toast("Disposition recorded");
    } catch (e) { fail(e); }
  });
  load().catch(fail);
  MT.reportButtons(document.getElementById("report-buttons"), "case-" + caseId).catch(() => null);
})();
