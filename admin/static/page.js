// Shared by the settings and bots pages: making elements (people's words only ever as
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
  return { el, api };
})();
