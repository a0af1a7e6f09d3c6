// The contact base's pages over the JSON API: the list (search, filters, sort, more)
// and one contact (details, tags, conversations, history). Text is set as text.
"use strict";
(function () {
  const { el, api } = window.ParleyPage;
  const when = (iso) => (iso ? new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "");

  // -- the list ---------------------------------------------------------------------------
  const list = document.getElementById("contacts");
  if (list) {
    const site = list.dataset.site;
    const find = document.getElementById("find");
    const body = document.querySelector("#people tbody");
    const more = document.getElementById("more");
    let cursor = null;
    for (const [k, v] of new URLSearchParams(location.search)) if (find.elements[k]) find.elements[k].value = v;
    // What the form asks for, as the list (and its export) take it.
    function chosen() {
      const params = new URLSearchParams();
      for (const k of ["q", "tag", "field", "channel", "open", "sort"]) if (find.elements[k] && find.elements[k].value) params.set(k, find.elements[k].value.trim());
      if (find.elements.field && find.elements.field.value && find.elements.value.value.trim()) params.set("value", find.elements.value.value.trim());
      if (find.elements.sort.value === "name") params.set("dir", "asc");
      return params;
    }
    async function load(again) {
      const params = chosen();
      if (!again) { cursor = null; body.textContent = ""; }
      if (cursor) params.set("cursor", cursor);
      let page;
      try { page = await api(`/api/v1/sites/${site}/contacts?${params}`); } catch (e) { document.getElementById("count").textContent = e.message; return; }
      for (const c of page.contacts) {
        const tr = el("tr");
        const name = el("td");
        const who = c.name || c.email || c.phone || "Anonymous";
        name.append(el("a", who, { href: `/contacts/${c.id}?site=${site}` }));
        const write = el("button", "+ Chat", { type: "button", class: "btn btn-small", "aria-label": `+ Chat with ${who}`, "aria-haspopup": "dialog" });
        write.addEventListener("click", () => window.ParleyChat.open(c.id, who));
        name.append(document.createTextNode(" "), write);
        const tags = el("td");
        for (const t of c.tags) tags.append(el("span", t, { class: "status" }), document.createTextNode(" "));
        tr.append(name, el("td", c.email || ""), el("td", c.phone || ""), tags, el("td", when(c.last_seen_at)));
        body.append(tr);
      }
      cursor = page.next_cursor;
      more.hidden = !cursor;
      const shown = body.children.length;
      document.getElementById("count").textContent = shown ? `${shown}${cursor ? "+" : ""} contact${shown === 1 ? "" : "s"}` : "No contacts match.";
    }
    find.addEventListener("submit", (e) => { e.preventDefault(); load(false); });
    // Export the list as it is filtered: a job on the server, its progress shown here.
    const exportStart = document.getElementById("export-start");
    if (exportStart) {
      const box = document.getElementById("export-state");
      const bar = box.querySelector("progress");
      const status = box.querySelector(".status-line");
      const link = document.getElementById("export-file");
      const show = (x) => {
        const pct = x.rows_total ? Math.round((100 * x.rows_done) / x.rows_total) : x.status === "done" ? 100 : 0;
        bar.value = pct;
        status.className = "status-line" + (x.status === "failed" ? " bad" : x.status === "done" ? " ok" : "");
        status.textContent = x.status === "failed" ? `The export failed: ${x.error}` : x.status === "done"
          ? `${x.rows_done} contact${x.rows_done === 1 ? "" : "s"} exported.` : `Exporting… ${x.rows_done} of ${x.rows_total || "?"}`;
      };
      exportStart.addEventListener("click", async () => {
        link.hidden = true;
        box.hidden = false;
        let x;
        try { x = (await api(`/api/v1/sites/${site}/contact-exports`, "POST", Object.fromEntries(chosen()))).export; }
        catch (err) { status.className = "status-line bad"; status.textContent = err.message; return; }
        exportStart.disabled = true;
        show(x);
        while (x.status === "queued" || x.status === "running") {
          await new Promise((r) => setTimeout(r, 400));
          x = (await api(`/api/v1/contact-exports/${x.id}`)).export;
          show(x);
        }
        exportStart.disabled = false;
        if (x.url) { link.href = x.url; link.hidden = false; link.focus(); }
      });
    }
    more.addEventListener("click", () => load(true));
    document.getElementById("add-open").addEventListener("click", () => window.ParleyAddContact.open(() => load(false)));
    load(false);
  }

  // -- one contact ----------------------------------------------------------------------------
  const page = document.getElementById("contact");
  if (!page) return;
  const id = page.dataset.id;
  const fields = document.getElementById("fields");
  const tagAdd = document.getElementById("tag-add");
  const { say, fail } = window.ParleyPage;
  const WHAT = { created: "added the contact", tags: "changed the tags", name: "changed the name", email: "changed the email", phone: "changed the phone" };
  function shown(v) { return v == null || v === "" ? "nothing" : Array.isArray(v) ? (v.join(", ") || "none") : typeof v === "object" ? JSON.stringify(v) : String(v); }
  function draw(d) {
    const c = d.contact;
    me = c;
    document.getElementById("contact-h").textContent = c.name || c.email || c.phone || "Anonymous contact";
    document.title = `${document.getElementById("contact-h").textContent} · Parley`;
    for (const k of ["name", "email", "phone"]) fields.elements[k].value = c[k] || "";
    custom(d.fields, c.attributes || {});
    const tags = document.getElementById("tags");
    tags.textContent = "";
    for (const t of c.tags) {
      const li = el("li", null, { class: "chip" });
      const x = el("button", "✕", { type: "button", class: "link", "aria-label": `Remove the tag ${t}` });
      x.onclick = async () => { draw(await changeTags({ remove: [t] })); tagAdd.elements.tag.focus(); };
      li.append(el("span", t), document.createTextNode(" "), x);
      tags.append(li);
    }
    if (!c.tags.length) tags.append(el("li", "No tags yet.", { class: "muted" }));
    const convs = document.getElementById("conversations");
    convs.textContent = "";
    for (const v of d.conversations) {
      const li = el("li");
      const from = v.ref ? ` · from ${v.ref}` : "";
      li.append(el("a", `${v.channel.name} · ${v.status} · ${when(v.last_activity_at)}${from}`, { href: `/agent#c=${v.id}` }),
        el("br"), el("span", v.preview || "…", { class: "muted" }));
      convs.append(li);
    }
    if (!d.conversations.length) convs.append(el("li", "No conversations yet.", { class: "muted" }));
    const about = document.getElementById("about");
    about.textContent = "";
    const fact = (k, v) => { if (v != null && v !== "") about.append(el("dt", k), el("dd", String(v))); };
    fact("Added", when(c.listed_at));
    fact("Last seen", when(c.last_seen_at));
    fact("Visits", c.visit_count);
    fact("Language", c.locale);
    fact("Time zone", c.timezone);
    if (c.user_id) fact("User id", c.user_id + (c.verified ? " (verified)" : ""));
    fact("First came from", window.ParleyPage.refText(c.first_ref));
    if (c.latest_ref && (!c.first_ref || c.latest_ref.at !== c.first_ref.at)) fact("Lately came from", window.ParleyPage.refText(c.latest_ref));
    if (d.visit) { fact("Device", [d.visit.device, d.visit.browser, d.visit.os].filter(Boolean).join(" · ")); fact("Landed on", d.visit.landing_url); }
    const defined = new Set(d.fields.map((f) => f.key));
    for (const [k, v] of Object.entries(c.attributes || {})) if (!defined.has(k)) fact(k, v);
    const pages = document.getElementById("pages");
    pages.textContent = "";
    for (const p of d.page_views.slice(0, 10)) pages.append(el("li", `${p.title || p.url} · ${when(p.at)}`));
    if (!d.page_views.length) pages.append(el("li", "No pages seen.", { class: "muted" }));
    const labels = Object.fromEntries(d.fields.map((f) => ["attribute." + f.key, f.label]));
    const hist = document.querySelector("#history tbody");
    hist.textContent = "";
    for (const h of d.history) {
      const tr = el("tr");
      const label = labels[h.field] ? "changed " + labels[h.field] : WHAT[h.field] || "changed " + h.field;
      const what = h.field === "created" ? WHAT.created : `${label}: ${shown(h.old)} → ${shown(h.new)}`;
      tr.append(el("td", when(h.at)), el("td", h.by.name || h.by.type), el("td", what));
      hist.append(tr);
    }
  }
  // The site's custom fields, each with the input its type wants; named attributes.KEY,
  // as the server names a field it refuses.
  function custom(defs, values) {
    const box = document.getElementById("custom-fields");
    if (box.dataset.keys !== defs.map((f) => f.key).join(",")) {
      box.textContent = "";
      for (const f of defs) {
        const label = el("label", f.label + " ");
        let input;
        if (f.type === "boolean" || f.type === "choice") {
          input = el("select");
          input.append(new Option("—", ""));
          for (const [v, t] of f.type === "boolean" ? [["true", "Yes"], ["false", "No"]] : f.choices.map((c) => [c, c])) input.append(new Option(t, v));
        } else {
          input = el("input", null, { type: { number: "number", date: "date" }[f.type] || "text" });
          if (f.type === "text") input.maxLength = 1000;
          if (f.type === "number") input.step = "any";
        }
        input.name = "attributes." + f.key;
        input.dataset.type = f.type;
        label.append(input);
        box.append(label);
      }
      box.dataset.keys = defs.map((f) => f.key).join(",");
    }
    for (const f of defs) {
      const v = values[f.key];
      fields.elements["attributes." + f.key].value = v == null ? "" : String(v);
    }
  }
  function customValues() {
    const out = {};
    for (const input of document.querySelectorAll("#custom-fields [name]")) {
      const raw = input.value.trim();
      out[input.name.slice(11)] = raw === "" ? null : input.dataset.type === "boolean" ? raw === "true" : raw;
    }
    return out;
  }
  async function changeTags(body) {
    await api(`/api/v1/contacts/${id}/tags`, "POST", body);
    return api(`/api/v1/contacts/${id}`);
  }
  fields.addEventListener("submit", async (e) => {
    e.preventDefault();
    for (const x of fields.querySelectorAll("[aria-invalid]")) x.removeAttribute("aria-invalid");
    const f = fields.elements;
    try {
      draw(await api(`/api/v1/contacts/${id}`, "PATCH", { name: f.name.value, email: f.email.value, phone: f.phone.value, attributes: customValues() }));
      say(fields, "Saved.", true);
    } catch (err) { fail(fields, err); }
  });
  tagAdd.addEventListener("submit", async (e) => {
    e.preventDefault();
    const t = tagAdd.elements.tag.value.trim();
    if (!t) return;
    try { draw(await changeTags({ add: [t] })); tagAdd.reset(); say(tagAdd, `Tagged ${t}.`, true); } catch (err) { say(tagAdd, err.message, false); }
  });
  const erase = document.getElementById("erase");
  if (erase) {
    erase.addEventListener("click", async () => {
      try {
        await api(`/api/v1/contacts/${id}/erase`, "POST", { confirm: id });
        location.href = `/contacts?site=${page.dataset.site}`;
      } catch (err) { window.ParleyConfirm.toast(err.message, true); }
    });
  }
  // Merge: find the other contact, choose whose value each field keeps.
  const merge = document.getElementById("merge");
  const mergeForm = document.getElementById("merge-form");
  const found = document.getElementById("merge-found");
  const fieldsTable = document.getElementById("merge-fields");
  let me = null;
  let other = null;
  let searching = null;
  document.getElementById("merge-open").addEventListener("click", () => {
    mergeForm.reset();
    other = null;
    fieldsTable.hidden = true;
    document.getElementById("merge-go").disabled = true;
    document.getElementById("merge-problem").hidden = true;
    merge.showModal();
    document.getElementById("merge-q").focus();
  });
  document.getElementById("merge-cancel").addEventListener("click", () => merge.close());
  document.getElementById("merge-q").addEventListener("input", (e) => {
    clearTimeout(searching);
    searching = setTimeout(async () => {
      const q = e.target.value.trim();
      const d = q ? await api(`/api/v1/sites/${page.dataset.site}/contacts?q=${encodeURIComponent(q)}&limit=8`) : { contacts: [] };
      found.textContent = "";
      for (const c of d.contacts.filter((c) => c.id !== id)) {
        const li = el("li");
        const label = el("label", null, { class: "check-row" });
        const pick = el("input", null, { type: "radio", name: "other", value: c.id });
        pick.addEventListener("change", () => choose(c));
        label.append(pick, document.createTextNode(" " + [c.name, c.email, c.phone].filter(Boolean).join(" · ")));
        li.append(label);
        found.append(li);
      }
      if (!found.children.length) found.append(el("li", q ? "No other contact matches." : "Type to search.", { class: "muted" }));
    }, 150);
  });
  function choose(c) {
    other = c;
    const tbody = fieldsTable.querySelector("tbody");
    tbody.textContent = "";
    for (const [key, label] of [["name", "Name"], ["email", "Email"], ["phone", "Phone"], ["user_id", "User id"]]) {
      const tr = el("tr");
      const cell = (side, value) => {
        const td = el("td");
        const l = el("label", null, { class: "check-row" });
        const r = el("input", null, { type: "radio", name: "keep-" + key, value: side, "aria-label": `${label}: keep ${side === "target" ? "this contact's" : "the other's"}` });
        r.checked = side === "target" ? Boolean(me[key]) || !c[key] : !me[key] && Boolean(c[key]);
        l.append(r, document.createTextNode(" " + (value || "—")));
        td.append(l);
        return td;
      };
      tr.append(el("th", label, { scope: "row" }), cell("target", me[key]), cell("source", c[key]));
      tbody.append(tr);
    }
    fieldsTable.hidden = false;
    document.getElementById("merge-go").disabled = false;
  }
  mergeForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!other) return;
    const keep = {};
    for (const key of ["name", "email", "phone", "user_id"]) {
      const picked = mergeForm.querySelector(`input[name="keep-${key}"]:checked`);
      if (picked) keep[key] = picked.value;
    }
    try {
      draw(await api(`/api/v1/contacts/${id}/merge`, "POST", { from: other.id, keep }));
      merge.close();
      window.ParleyConfirm.toast("Merged.");
    } catch (err) {
      const p = document.getElementById("merge-problem");
      p.textContent = err.message;
      p.hidden = false;
    }
  });
  document.getElementById("chat-open").addEventListener("click", () => window.ParleyChat.open(id, me && (me.name || me.email || me.phone)));
  api(`/api/v1/contacts/${id}`).then(draw).catch((e) => { document.getElementById("contact-h").textContent = e.message; });
})();
