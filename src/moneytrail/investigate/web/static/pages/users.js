"use strict";
(() => {
  const { api, el, dateTime, toast, fail } = MT;
  async function load() {
    const users = await api("/api/users");
    document.querySelector("#users-table tbody").replaceChildren(...users.map((u) => el("tr", {},
      el("td", {}, u.username), el("td", {}, u.display_name || "–"), el("td", {}, u.role), el("td", {}, u.disabled ? "disabled" : "active"),
      el("td", {}, dateTime(u.created_at)),
      el("td", {}, u.disabled ? "" : el("button", { type: "button", onclick: async () => {
        if (!confirm(`Disable ${u.username}? Their sessions end at once.`)) return;
        try { await api(`/api/users/${encodeURIComponent(u.username)}/disable`, { method: "POST" }); load(); } catch (e) { fail(e); }
      } }, "Disable")))));
  }
  document.getElementById("user-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    try {
      await api("/api/users", { method: "POST", body: { username: f.username.value.trim(), password: f.password.value,
        role: f.role.value, display_name: f.display_name.value.trim() || null } });
      f.reset(); toast("User added"); load();
    } catch (e) { fail(e); }
  });
  load().catch(fail);
})();
