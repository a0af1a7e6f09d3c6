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

  const { el, api, say, fail } = window.ParleyPage;

  // -- inbox settings -------------------------------------------------------------
  const inbox = document.getElementById("inbox");
  // Nothing can be typed until the saved values are in: a late load would overwrite it.
  for (const x of inbox.elements) x.disabled = true;
  inbox.setAttribute("aria-busy", "true");
  const answers = api(`/api/v1/sites/${site}/bot-answers`).then((d) => d.answers).catch(() => []);
  Promise.all([api(`/api/v1/sites/${site}/inbox-settings`), answers]).then(([d, list]) => {
    for (const key of ["greeting_bot", "away_bot"]) {
      for (const a of list) inbox.elements[key].append(new Option(a.name + (a.published ? "" : " (unpublished)"), a.id));
    }
    for (const [k, v] of Object.entries(d.inbox)) if (inbox.elements[k]) inbox.elements[k].value = v == null ? "" : v;
  }).finally(() => {
    for (const x of inbox.elements) x.disabled = false;
    inbox.removeAttribute("aria-busy");
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

  // -- the widget's look, with a live preview ------------------------------------------------
  const look = document.getElementById("look");
  const preview = {
    phone: document.getElementById("look-phone"), head: document.getElementById("look-head"),
    welcome: document.getElementById("look-welcome"), launcher: document.getElementById("look-launcher"),
    label: document.getElementById("look-label"),
  };
  const COLOUR = /^#[0-9a-fA-F]{6}$/;
  // White on the colour where it reaches 4.5:1, else near-black: what the widget does (server/sites/widget.py).
  function textOn(colour) {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16) / 255)
      .map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05) >= 4.5 ? "#ffffff" : "#111827";
  }
  function drawLook() {
    const f = look.elements;
    const colour = COLOUR.test(f.color.value) ? f.color.value : f.color_pick.value;
    preview.head.style.background = colour;
    preview.launcher.style.background = colour;
    preview.head.style.color = preview.launcher.style.color = textOn(colour);
    for (const p of preview.launcher.querySelectorAll("path")) p.setAttribute("fill", textOn(colour));
    preview.phone.classList.toggle("left", f.position.value === "left");
    preview.label.textContent = f.label.value;
    preview.label.hidden = !f.label.value;
    preview.welcome.textContent = f.welcome.value || "Hi! Ask us anything.";
    preview.welcome.classList.toggle("muted", !f.welcome.value);
  }
  api(`/api/v1/sites/${site}/widget`).then((d) => {
    const f = look.elements;
    for (const k of ["color", "label", "welcome", "locale", "position"]) f[k].value = d.widget[k];
    for (const k of ["sound", "consent_required", "require_identity"]) f[k].checked = d.widget[k];
    f.color_pick.value = d.widget.color;
    drawLook();
  });
  look.addEventListener("input", (e) => {
    if (e.target.name === "color_pick") look.elements.color.value = e.target.value;
    if (e.target.name === "color" && COLOUR.test(e.target.value)) look.elements.color_pick.value = e.target.value;
    drawLook();
  });
  look.addEventListener("change", drawLook);
  look.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = look.elements;
    try {
      await api(`/api/v1/sites/${site}/widget`, "PATCH", {
        color: f.color.value.trim(), position: f.position.value, label: f.label.value, welcome: f.welcome.value,
        locale: f.locale.value, sound: f.sound.checked, consent_required: f.consent_required.checked,
        require_identity: f.require_identity.checked,
      });
      for (const x of look.querySelectorAll("[aria-invalid]")) x.removeAttribute("aria-invalid");
      say(look, "Saved.", true);
    } catch (err) { fail(look, err); }
  });

  // -- business hours and the proactive cap -----------------------------------------------
  const hours = document.getElementById("hours");
  if (hours) {
    const DAYS = [["mon", "Monday"], ["tue", "Tuesday"], ["wed", "Wednesday"], ["thu", "Thursday"],
      ["fri", "Friday"], ["sat", "Saturday"], ["sun", "Sunday"]];
    const days = hours.querySelector(".days tbody");
    const holidays = document.getElementById("holidays");
    const zones = document.getElementById("zones");
    for (const z of (Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : ["UTC"])) zones.append(el("option", null, { value: z }));
    function holiday(day) {
      const li = el("li", null, { "data-day": day });
      const x = el("button", "Remove", { type: "button", class: "btn btn-small", "aria-label": "Remove the holiday " + day });
      x.onclick = () => { li.remove(); hours.elements.holiday.focus(); };
      li.append(el("time", day, { datetime: day }), document.createTextNode(" "), x);
      holidays.append(li);
    }
    function dayRow([key, name], spans) {
      const tr = el("tr", null, { "data-day": key });
      const open = el("input", null, { type: "checkbox", name: "open_" + key, "aria-label": "Open on " + name });
      const from = el("input", null, { type: "time", name: "from_" + key, "aria-label": name + " from" });
      const to = el("input", null, { type: "time", name: "to_" + key, "aria-label": name + " to" });
      open.checked = spans.length > 0;
      from.value = spans.length ? spans[0][0] : "09:00";
      to.value = spans.length ? spans[spans.length - 1][1] : "17:00";
      const sync = () => { from.disabled = to.disabled = !open.checked; };
      open.addEventListener("change", sync);
      sync();
      const cells = [el("th", name, { scope: "row" }), el("td"), el("td"), el("td")];
      cells[1].append(open); cells[2].append(from); cells[3].append(to);
      // A day with a lunch break keeps its spans; the form shows its first opening and last closing.
      if (spans.length > 1) cells[3].append(el("small", ` (${spans.length} spans; saving keeps one)`, { class: "muted" }));
      tr.append(...cells);
      days.append(tr);
    }
    api(`/api/v1/sites/${site}/proactive-settings`).then((d) => {
      const bh = d.business_hours || {};
      hours.elements.timezone.value = bh.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
      for (const day of DAYS) dayRow(day, (bh.weekly || {})[day[0]] || []);
      for (const h of bh.holidays || []) holiday(h);
      hours.elements.cap_per_visit.value = d.cap_per_visit;
    });
    document.getElementById("holiday-add").addEventListener("click", () => {
      const day = hours.elements.holiday.value;
      if (day && !holidays.querySelector(`[data-day="${day}"]`)) holiday(day);
      hours.elements.holiday.value = "";
    });
    hours.addEventListener("submit", async (e) => {
      e.preventDefault();
      const f = hours.elements;
      const weekly = {};
      for (const [key] of DAYS) if (f["open_" + key].checked) weekly[key] = [[f["from_" + key].value, f["to_" + key].value]];
      const body = {
        cap_per_visit: Number(f.cap_per_visit.value),
        business_hours: { timezone: f.timezone.value.trim(), weekly, holidays: [...holidays.children].map((li) => li.dataset.day) },
      };
      try {
        await api(`/api/v1/sites/${site}/proactive-settings`, "PATCH", body);
        for (const x of hours.querySelectorAll("[aria-invalid]")) x.removeAttribute("aria-invalid");
        say(hours, "Saved.", true);
      } catch (err) {
        // business_hours.timezone -> timezone; business_hours.weekly.mon -> that day's times
        const name = String(err.field || "").split(".").pop();
        fail(hours, { message: err.message, field: f["from_" + name] ? "from_" + name : name });
      }
    });
  }

  // -- contacts: the default country for phones -------------------------------------------------
  const people = document.getElementById("people");
  api(`/api/v1/sites/${site}/contact-settings`).then((d) => {
    const names = Intl.DisplayNames ? new Intl.DisplayNames([document.documentElement.lang || "en"], { type: "region" }) : null;
    const choices = d.countries.map((c) => [c, names ? names.of(c) || c : c]).sort((a, b) => a[1].localeCompare(b[1]));
    for (const [code, name] of choices) people.elements.default_country.append(new Option(`${name} (${code})`, code));
    people.elements.default_country.value = d.default_country || "";
  });
  people.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api(`/api/v1/sites/${site}/contact-settings`, "PATCH", { default_country: people.elements.default_country.value || null });
      say(people, "Saved.", true);
    } catch (err) { fail(people, err); }
  });

  // -- contacts: custom fields (admins) ---------------------------------------------------------
  const fieldsBody = document.querySelector("#contact-fields tbody");
  const fieldNew = document.getElementById("field-new");
  const TYPE_NAMES = { text: "Text", number: "Number", date: "Date", boolean: "Yes / no", choice: "One of a list" };
  async function loadFields() {
    const d = await api(`/api/v1/sites/${site}/contact-fields`);
    fieldsBody.textContent = "";
    for (const f of d.fields) {
      const tr = el("tr");
      const del = el("button", "Delete", { type: "button", class: "btn btn-danger btn-small", "aria-label": "Delete the field " + f.label,
        "data-confirm": `Delete the field ${f.label}? Contacts keep their values, as plain attributes.` });
      del.onclick = async () => {
        await api(`/api/v1/sites/${site}/contact-fields/${f.key}`, "DELETE");
        window.ParleyConfirm.toast(`Deleted the field ${f.label}.`);
        await loadFields();
        fieldNew.elements.label.focus();
      };
      const cell = el("td");
      cell.append(del);
      tr.append(el("td", f.label), el("td", f.key, { class: "code" }), el("td", TYPE_NAMES[f.type]), el("td", f.choices.join(", ")), cell);
      fieldsBody.append(tr);
    }
    if (!d.fields.length) {
      const tr = el("tr");
      tr.append(el("td", "No custom fields yet.", { colspan: "5", class: "muted" }));
      fieldsBody.append(tr);
    }
  }
  if (fieldNew) {
    loadFields();
    const f = fieldNew.elements;
    f.type.addEventListener("change", () => { document.getElementById("field-choices").hidden = f.type.value !== "choice"; });
    fieldNew.addEventListener("submit", async (e) => {
      e.preventDefault();
      for (const x of fieldNew.querySelectorAll("[aria-invalid]")) x.removeAttribute("aria-invalid");
      const key = f.key.value.trim() || f.label.value.trim().toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[^a-z0-9]+/g, "_").replace(/^[^a-z]+|_+$/g, "").slice(0, 40);
      const body = { label: f.label.value, key, type: f.type.value };
      if (f.type.value === "choice") body.choices = f.choices.value.split(",").map((c) => c.trim()).filter(Boolean);
      try {
        await api(`/api/v1/sites/${site}/contact-fields`, "POST", body);
        say(fieldNew, `Added ${body.label}.`, true);
        fieldNew.reset();
        document.getElementById("field-choices").hidden = true;
        await loadFields();
      } catch (err) { fail(fieldNew, err); }
    });
  }

  // -- canned responses ---------------------------------------------------------------
  const cannedBody = document.querySelector("#canned tbody");
  async function loadCanned() {
    const d = await api("/api/v1/canned-responses");
    cannedBody.textContent = "";
    for (const c of d.canned_responses) {
      const tr = el("tr");
      const del = el("button", "Delete", { type: "button", class: "btn btn-danger btn-small", "aria-label": "Delete /" + c.shortcut,
        "data-confirm": `Delete the canned response /${c.shortcut}? Agents will no longer find it.` });
      del.onclick = async () => {
        await api(`/api/v1/canned-responses/${c.id}`, "DELETE");
        window.ParleyConfirm.toast(`Deleted /${c.shortcut}.`);
        await loadCanned();
        cannedNew.elements.shortcut.focus();
      };
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
        const toggle = el("button", u.is_active ? "Disable" : "Enable", { type: "button", class: "btn btn-small" + (u.is_active ? " btn-danger" : "") });
        if (u.is_active) toggle.dataset.confirm = `Disable ${u.name}? They are signed out at once and cannot sign in until enabled again.`;
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
