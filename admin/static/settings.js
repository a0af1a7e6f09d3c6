// Settings: a site's inbox settings, canned responses and (admins) the team, over the JSON API.
// Everything people typed is set with textContent or as form values, never as HTML.
"use strict";
(function () {
  const root = document.getElementById("settings");
  const site = root.dataset.site;
  const admin = root.dataset.admin === "yes";
  const me = root.dataset.me;
  const SECTIONS = ["conversations", "contacts", "proactive", "settings"];
  let channels = [];

  const { el, api } = window.ParleyPage;
  function say(form, text, ok) {
    const s = form.querySelector(".status-line");
    s.textContent = text;
    s.className = "status-line " + (ok ? "ok" : "bad");
  }
  function fail(form, e) {
    for (const f of form.querySelectorAll("[aria-invalid]")) f.removeAttribute("aria-invalid");
    if (e.field && form.elements[e.field]) { form.elements[e.field].setAttribute("aria-invalid", "true"); form.elements[e.field].focus(); }
    say(form, e.message, false);
  }

  // -- inbox settings -------------------------------------------------------------
  const inbox = document.getElementById("inbox");
  const answers = api(`/api/v1/sites/${site}/bot-answers`).then((d) => d.answers).catch(() => []);
  Promise.all([api(`/api/v1/sites/${site}/inbox-settings`), answers]).then(([d, list]) => {
    for (const key of ["greeting_bot", "away_bot"]) {
      for (const a of list) inbox.elements[key].append(new Option(a.name + (a.published ? "" : " (unpublished)"), a.id));
    }
    for (const [k, v] of Object.entries(d.inbox)) if (inbox.elements[k]) inbox.elements[k].value = v == null ? "" : v;
  });
  inbox.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = inbox.elements;
    const cap = f.history_cap.value.trim();
    try {
      await api(`/api/v1/sites/${site}/inbox-settings`, "PATCH", {
        greeting: f.greeting.value, away: f.away.value, routing: f.routing.value, closing: f.closing.value,
        greeting_bot: f.greeting_bot.value || null, away_bot: f.away_bot.value || null,
        history_cap: cap ? Number(cap) : null,
      });
      say(inbox, "Saved.", true);
    } catch (err) { fail(inbox, err); }
  });

  // -- canned responses ---------------------------------------------------------------
  const cannedBody = document.querySelector("#canned tbody");
  async function loadCanned() {
    const d = await api("/api/v1/canned-responses");
    cannedBody.textContent = "";
    for (const c of d.canned_responses) {
      const tr = el("tr");
      const del = el("button", "Delete", { type: "button", class: "danger", "aria-label": "Delete /" + c.shortcut });
      del.onclick = async () => { await api(`/api/v1/canned-responses/${c.id}`, "DELETE"); loadCanned(); };
      const cell = el("td");
      cell.append(del);
      tr.append(el("td", "/" + c.shortcut, { class: "code" }), el("td", c.text), cell);
      cannedBody.append(tr);
    }
  }
  loadCanned();
  const cannedNew = document.getElementById("canned-new");
  cannedNew.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api("/api/v1/canned-responses", "POST", { shortcut: cannedNew.elements.shortcut.value, text: cannedNew.elements.text.value });
      cannedNew.reset();
      say(cannedNew, "Added.", true);
      loadCanned();
    } catch (err) { fail(cannedNew, err); }
  });

  // -- the team (admins) ------------------------------------------------------------------
  if (!admin) return;
  const teamBody = document.querySelector("#team tbody");
  async function patch(user, changes, status) {
    try { await api(`/api/v1/users/${user.id}`, "PATCH", changes); status.textContent = "Saved."; status.className = "ok"; }
    catch (err) { status.textContent = err.message; status.className = "bad"; }
    loadTeam();
  }
  async function loadTeam() {
    const d = await api("/api/v1/team");
    teamBody.textContent = "";
    for (const u of d.users) {
      const tr = el("tr");
      const status = el("span", null, { role: "status" });
      const who = el("td");
      who.append(el("strong", u.name), el("br"), el("span", u.email, { class: "muted" }));
      if (u.id === me) who.append(el("br"), el("span", "You, signed in now", { class: "badge-you" }));
      const role = el("select", null, { "aria-label": "Role of " + u.name });
      for (const r of ["agent", "admin"]) role.append(new Option(r, r, false, r === u.role));
      role.disabled = u.id === me;
      role.onchange = () => patch(u, { role: role.value }, status);
      const secs = el("td");
      for (const s of SECTIONS) {
        const box = el("input", null, { type: "checkbox", "aria-label": `${s} for ${u.name}` });
        box.checked = u.sections.includes(s);
        box.disabled = u.role === "admin";
        box.onchange = () => {
          const chosen = [...secs.querySelectorAll("input")].filter((b) => b.checked).map((b) => b.dataset.s);
          patch(u, { sections: chosen }, status);
        };
        box.dataset.s = s;
        const l = el("label", null, { class: "inline" });
        l.append(box, document.createTextNode(s));
        secs.append(l);
      }
      const chans = el("td");
      const all = el("input", null, { type: "checkbox", "aria-label": "All channels for " + u.name });
      all.checked = u.all_channels;
      all.disabled = u.role === "admin";
      all.onchange = () => patch(u, all.checked ? { all_channels: true } : { all_channels: false, channels: u.channels || [] }, status);
      const l = el("label", null, { class: "inline" });
      l.append(all, document.createTextNode("all"));
      chans.append(l);
      if (!u.all_channels) {
        for (const c of channels) {
          const box = el("input", null, { type: "checkbox", "aria-label": `${c.name} for ${u.name}` });
          box.checked = (u.channels || []).includes(c.id);
          box.onchange = () => {
            const chosen = channels.filter((x) => (x.id === c.id ? box.checked : (u.channels || []).includes(x.id))).map((x) => x.id);
            patch(u, { channels: chosen }, status);
          };
          const cl = el("label", null, { class: "inline" });
          cl.append(box, document.createTextNode(c.name));
          chans.append(cl);
        }
      }
      const state = el("td");
      if (u.id === me) {
        // You are here, whatever the workspace's presence says; and you cannot lock yourself out.
        state.append(el("span", "active · you"), el("br"), status);
      } else {
        const toggle = el("button", u.is_active ? "Disable" : "Enable", { type: "button", class: u.is_active ? "danger" : "" });
        toggle.onclick = () => patch(u, { is_active: !u.is_active }, status);
        state.append(el("span", (u.is_active ? (u.online ? "online" : "offline") : "disabled") + " "), toggle, el("br"), status);
      }
      const roleCell = el("td");
      roleCell.append(role);
      tr.append(who, roleCell, secs, chans, state);
      teamBody.append(tr);
    }
  }
  api(`/api/v1/sites/${site}/channels`).then((d) => { channels = d.channels; loadTeam(); }).catch(() => loadTeam());
  const teamNew = document.getElementById("team-new");
  teamNew.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = teamNew.elements;
    try {
      await api("/api/v1/team", "POST", { name: f.name.value, email: f.email.value, password: f.password.value, role: f.role.value });
      teamNew.reset();
      say(teamNew, "Added.", true);
      loadTeam();
    } catch (err) { fail(teamNew, err); }
  });
})();
