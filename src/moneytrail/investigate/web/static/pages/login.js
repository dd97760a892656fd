"use strict";
(() => {
  const form = document.getElementById("login-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = document.getElementById("login-error");
    err.textContent = "";
    const body = { username: form.username.value.trim(), password: form.password.value };
    try {
      await MT.api("/api/auth/login", { method: "POST", body });
      location.href = form.dataset.next || "/";
    } catch (e) {
      err.textContent = e.message;
    }
  });
})();
