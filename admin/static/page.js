// Shared by the settings, bots and contacts pages: making elements (people's words only ever as
// text) and calling the JSON API with the page's CSRF token; errors keep their code and field.
"use strict";
window.ParleyPage = (function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  function el(tag, text, attrs) {
    const e = document.createElement(tag);
    if (text != null) e.textContent = text;
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }
  async function api(path, method, body) {
    const o = { method: method || "GET", headers: {} };
    if (body !== undefined) { o.headers["Content-Type"] = "application/json"; o.body = JSON.stringify(body); }
    if (o.method !== "GET") o.headers["X-CSRF-Token"] = csrf;
    const r = await fetch(path, o);
    const data = await r.json();
    if (!r.ok) throw Object.assign(new Error(data.message), data);
    return data;
  }
  // A form's status line (.status-line), and a refusal shown on the field it names.
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
  // A link reference in words: its ?ref= word, then its campaign (source / medium / campaign).
  function refText(r) {
    if (!r) return "";
    const utm = r.utm || {};
    const campaign = [utm.source, utm.medium, utm.campaign].filter(Boolean).join(" / ");
    return [r.ref, campaign].filter(Boolean).join(" · ") + (r.via === "set" ? " (set by the site)" : "");
  }
  return { el, api, say, fail, refText };
})();
