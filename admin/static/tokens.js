// Settings > API tokens (admins): the site's tokens, a form to make one (its secret shown once),
// and revoking, over /api/v1/sites/{key}/tokens. Names are set as text, never as HTML.
"use strict";
(function () {
  const root = document.getElementById("settings");
  const body = document.querySelector("#tokens tbody");
  const form = document.getElementById("token-new");
  if (!root || !body || !form) return;
  const site = root.dataset.site;
  const { el, api, say, fail } = window.ParleyPage;
  const made = document.getElementById("token-made");
  const secret = document.getElementById("token-secret");
  const when = (iso) => (iso ? new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "Never");
  const SCOPE_NAMES = {
    "contacts:read": "Read contacts", "contacts:write": "Add and change contacts",
    "conversations:read": "Read conversations", "conversations:write": "Send and manage conversations",
    "proactive:read": "Read proactive messages", "webhooks:manage": "Manage webhooks",
  };

  async function load() {
    const d = await api(`/api/v1/sites/${site}/tokens`);
    const scopes = document.getElementById("token-scopes");
    if (!scopes.querySelector("input")) {
      for (const s of d.scopes) {
        const label = el("label", null, { class: "check-row" });
        label.append(el("input", null, { type: "checkbox", name: "scope", value: s }), " " + (SCOPE_NAMES[s] || s) + " ", el("code", s));
        scopes.append(label);
      }
    }
    body.textContent = "";
    for (const t of d.tokens) {
      const tr = el("tr", null, t.revoked_at ? { class: "muted" } : {});
      const action = el("td");
      if (t.revoked_at) {
        action.append(el("span", "Revoked " + when(t.revoked_at), { class: "badge" }));
      } else {
        const revoke = el("button", "Revoke", { type: "button", class: "btn btn-danger btn-small", "aria-label": "Revoke the token " + t.name,
          "data-confirm": `Revoke the token ${t.name}? Whatever uses it stops working at once.` });
        revoke.onclick = async () => {
          await api(`/api/v1/tokens/${t.id}`, "DELETE");
          window.ParleyConfirm.toast(`Revoked the token ${t.name}.`);
          await load();
          form.elements.name.focus();
        };
        action.append(revoke);
      }
      tr.append(el("td", t.name), el("td", t.scopes.join(", "), { class: "code" }), el("td", t.hint + "…", { class: "code" }),
        el("td", when(t.created_at)), el("td", when(t.last_used_at)), action);
      body.append(tr);
    }
    if (!d.tokens.length) {
      const tr = el("tr");
      tr.append(el("td", "No API tokens yet.", { colspan: "6", class: "muted" }));
      body.append(tr);
    }
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const scopes = [...form.querySelectorAll('input[name="scope"]:checked')].map((x) => x.value);
    try {
      const d = await api(`/api/v1/sites/${site}/tokens`, "POST", { name: form.elements.name.value, scopes });
      say(form, `Created ${d.token.name}.`, true);
      form.reset();
      secret.value = d.secret;
      made.hidden = false;
      made.focus();
      await load();
    } catch (err) { fail(form, err.field === "scopes" ? { ...err, field: null, message: err.message } : err); }
  });
  document.getElementById("token-copy").addEventListener("click", async () => {
    secret.select();
    try { await navigator.clipboard.writeText(secret.value); } catch (_) { document.execCommand("copy"); }
    window.ParleyConfirm.toast("Copied the token.");
  });
  load();
})();
