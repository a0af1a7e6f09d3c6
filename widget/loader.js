/* Parley loader: served at /widget.js, embedded with
 *   <script async src="https://HOST/widget.js" data-site="SITE_KEY"></script>
 * It defines the one global (window.Parley), queues calls, fetches the site's
 * settings, draws the launcher in a shadow root, and loads the rest only when
 * needed: core.js (the connection) once the page is idle, panel.js (the chat
 * panel) when it must show. See docs/widget.md. */
(function (w, d) {
  var old = w.Parley;
  if (old && old._) return;
  var me = d.currentScript || d.querySelector("script[data-site]");
  var q = (old && old.q) || [];
  var o = w.parleySettings || {};
  var k = me.getAttribute("data-site") || o.site;
  var X = {
    b: me.src.replace(/\/widget\.js([?#].*)?$/, ""), k: k, o: o, q: q, h: {}, f: {},
    v: { core: "__CORE__", panel: "__PANEL__" }, key: "parley:" + k, st: {}
  };
  try { X.st = JSON.parse(localStorage.getItem(X.key)) || {}; } catch (e) { /* storage blocked */ }
  function P(cmd, a, b) {
    if (cmd === "on") (X.h[a] = X.h[a] || []).push(b);
    else { q.push([cmd, a, b]); if (cmd !== "close") want(); }
  }
  P._ = X;
  w.Parley = P;
  X.load = function (name) {
    if (X.f[name]) return;
    X.f[name] = 1;
    var s = d.createElement("script");
    s.src = X.b + X.v[name];
    s.async = true;
    d.head.appendChild(s);
  };
  function want() { X.w = 1; if (X.c) X.load("core"); }
  for (var i = 0; i < q.length; i++) if (q[i][0] !== "close") X.w = 1;

  fetch(X.b + "/api/v1/widget/config?site=" + encodeURIComponent(k)).then(function (r) {
    return r.json().then(function (j) { if (!r.ok) throw j; return j; });
  }).then(function (c) {
    X.c = c;
    var l = (o.locale || (c.locale !== "auto" && c.locale) || navigator.language || "en").slice(0, 2).toLowerCase();
    X.lang = /^(en|pt|es)$/.test(l) ? l : "en";
    draw(c);
    if (X.w) X.load("core");
    else if (!c.consent_required || X.st.t) (w.requestIdleCallback || setTimeout)(function () { X.load("core"); });
  }).catch(function (e) {
    console.warn("Parley:", (e && e.message) || e);
  });

  function draw(c) {
    var host = d.createElement("div");
    host.setAttribute("data-parley", "");
    var s = X.s = host.attachShadow({ mode: "open" });
    X.css(
      // all:initial undoes whatever the host page sets on this element; inside the
      // shadow root, the page's selectors match nothing.
      ":host{all:initial!important;position:fixed!important;z-index:2147483647!important}*{box-sizing:border-box}" +
      ".l{position:fixed;bottom:20px;right:20px;display:flex;align-items:center;gap:8px;height:56px;min-width:56px;" +
      "padding:0 15px;margin:0;border:0;border-radius:28px;background:var(--c);color:var(--o);cursor:pointer;" +
      "font:600 15px/1 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;box-shadow:0 4px 14px rgba(0,0,0,.25)}" +
      ".left .l{right:auto;left:20px}.l:focus-visible{outline:3px solid #111;outline-offset:3px;box-shadow:0 0 0 6px #fff}" +
      ".l svg{width:26px;height:26px;fill:currentColor;flex:none}.l .x,[aria-expanded=true] .o{display:none}[aria-expanded=true] .x{display:block}" +
      ".n{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;" +
      "background:#dc2626;color:#fff;font:700 12px/20px system-ui,sans-serif;text-align:center}[hidden]{display:none!important}"
    );
    var box = X.box = d.createElement("div");
    box.className = c.position === "left" ? "left" : "right";
    box.style.cssText = "--c:" + c.color + ";--o:" + c.on;
    var btn = X.l = d.createElement("button");
    btn.type = "button";
    btn.className = "l";
    btn.setAttribute("aria-expanded", "false");
    // A chat bubble while closed, a cross while open: the launcher is also the close button.
    btn.innerHTML = '<svg class="o" viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>' +
      '<svg class="x" viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6 6 18" stroke="currentColor" stroke-width="2.6"/></svg>';
    if (c.label) btn.appendChild(d.createTextNode(c.label));
    var n = X.n = d.createElement("span");
    n.className = "n";
    n.hidden = true;
    btn.appendChild(n);
    btn.onclick = function () { w.Parley("toggle"); };
    box.appendChild(btn);
    s.appendChild(box);
    X.u(X.st.r || 0);
    d.documentElement.appendChild(host);
    requestAnimationFrame(function () { performance.mark && performance.mark("parley:launcher"); });
  }
  // Constructed style sheets: no <style> element for a strict CSP to refuse.
  X.css = function (text) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(text);
    X.s.adoptedStyleSheets = X.s.adoptedStyleSheets.concat(sheet);
  };
  // The unread count on the launcher: a number, announced with the label.
  X.u = function (count) {
    X.n.textContent = count > 9 ? "9+" : count || "";
    X.n.hidden = !count;
    X.cnt = count;
    X.label(X.l.getAttribute("aria-expanded") === "true");
  };
  X.label = function (open) {
    var count = X.cnt;
    var t = { en: ["Open chat", "Close chat", " unread"], pt: ["Abrir conversa", "Fechar conversa", " não lidas"],
      es: ["Abrir chat", "Cerrar chat", " sin leer"] }[X.lang];
    X.l.setAttribute("aria-expanded", String(open));
    // The visible label leads the accessible name, so voice control finds it.
    X.l.setAttribute("aria-label", (X.c.label ? X.c.label + ": " : "") + t[open ? 1 : 0] + (count ? ", " + count + t[2] : ""));
  };
})(window, document);
