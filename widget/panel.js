/* Parley panel: the chat panel and the message preview, drawn in the loader's
 * shadow root from the model that core.js keeps (X.m). Every text a person
 * typed is set with textContent or as a text node: never parsed as HTML. */
(function (w, d) {
  var X = w.Parley._, A = X.api;
  var T = {
    en: { title: "Chat", welcome: "Hi! Ask us anything.", mins: "Usually replies in a few minutes",
      hours: "Usually replies in a few hours", back: "Back ", ph: "Write a message…",
      send: "Send", close: "Close chat", mute: "Mute sounds", unmute: "Turn sounds on", log: "Messages",
      net: "Reconnecting… your messages will be sent once you are back.", off: "You are offline. Messages will be sent when you are back.",
      sending: "Sending…", sent: "Sent", read: "Read", failed: "Not sent", retry: "Retry", typing: " is typing…",
      closed: "This conversation was closed. Write to reopen it.", more: "Earlier messages", left: " characters left",
      over: " characters too many", you: "You", agent: "Agent", peek: "New message from ",
      dismiss: "Dismiss", name: "Your name", email: "Your email", give: "Send", first: "Answer above to start",
      attach: "Attach a file", up: "Uploading…", gave: "You gave: " },
    pt: { title: "Conversa", welcome: "Olá! Pergunte o que quiser.", mins: "Costuma responder em poucos minutos",
      hours: "Costuma responder em algumas horas", back: "De volta ",
      ph: "Escreva uma mensagem…", send: "Enviar", close: "Fechar conversa", mute: "Silenciar sons", unmute: "Ativar sons",
      log: "Mensagens", net: "Reconectando… suas mensagens serão enviadas assim que voltar.",
      off: "Você está offline. As mensagens serão enviadas quando voltar.", sending: "Enviando…", sent: "Enviada",
      read: "Lida", failed: "Não enviada", retry: "Tentar de novo", typing: " está digitando…",
      closed: "Esta conversa foi encerrada. Escreva para reabri-la.", more: "Mensagens anteriores",
      left: " caracteres restantes", over: " caracteres a mais", you: "Você", agent: "Atendente", peek: "Nova mensagem de ",
      dismiss: "Dispensar", name: "Seu nome", email: "Seu e-mail", give: "Enviar", first: "Responda acima para começar",
      attach: "Anexar um arquivo", up: "Enviando o arquivo…", gave: "Você informou: " },
    es: { title: "Chat", welcome: "¡Hola! Pregúntanos lo que quieras.", mins: "Suele responder en pocos minutos",
      hours: "Suele responder en unas horas", back: "De vuelta el ",
      ph: "Escribe un mensaje…", send: "Enviar", close: "Cerrar chat", mute: "Silenciar sonidos", unmute: "Activar sonidos",
      log: "Mensajes", net: "Reconectando… tus mensajes se enviarán en cuanto vuelvas.",
      off: "Estás sin conexión. Los mensajes se enviarán cuando vuelvas.", sending: "Enviando…", sent: "Enviado",
      read: "Leído", failed: "No enviado", retry: "Reintentar", typing: " está escribiendo…",
      closed: "Esta conversación se cerró. Escribe para reabrirla.", more: "Mensajes anteriores",
      left: " caracteres restantes", over: " caracteres de más", you: "Tú", agent: "Agente", peek: "Nuevo mensaje de ",
      dismiss: "Descartar", name: "Tu nombre", email: "Tu correo", give: "Enviar", first: "Responde arriba para empezar",
      attach: "Adjuntar un archivo", up: "Subiendo…", gave: "Indicaste: " }
  }[X.lang];
  var font = "14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',sans-serif,'Apple Color Emoji','Segoe UI Emoji','Noto Color Emoji'";
  X.css(
    // The design system's tokens (admin/static/parley.css; tests/test_design_tokens.py keeps them equal).
    ":host{--ink:#111827;--ink-soft:#374151;--ink-muted:#4b5563;--line-soft:#e5e7eb;--edge:#94a3b8;--canvas:#f8fafc;" +
    "--danger:#b91c1c;--brand-strong:#1d4ed8}" +
    ".p{position:fixed;bottom:88px;right:20px;width:370px;height:min(600px,calc(100vh - 108px));display:flex;flex-direction:column;" +
    "background:#fff;color:var(--ink);font:" + font + ";text-align:left;border-radius:14px;overflow:hidden;box-shadow:0 12px 40px rgba(0,0,0,.28)}" +
    ".left .p,.left .pv{right:auto;left:20px}" +
    ".h{display:flex;align-items:center;gap:10px;padding:12px 12px 12px 16px;background:var(--c);color:var(--o)}" +
    ".ht{flex:1;min-width:0;display:flex;flex-direction:column}.h b{font-size:16px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}" +
    ".rt{font-size:12px;line-height:1.3}.tm{display:flex}.tm .av{width:32px;height:32px;line-height:32px;border:2px solid var(--c);margin-right:-8px}" +
    ".tm .av:last-child{margin-right:0}" +
    ".h button{all:unset;cursor:pointer;width:32px;height:32px;border-radius:8px;display:grid;place-items:center;font-size:18px}" +
    ".h button:hover{background:rgba(255,255,255,.18)}" +
    "button:focus-visible,textarea:focus-visible,input:focus-visible,.g:focus-visible{outline:3px solid var(--f);outline-offset:2px}" +
    ".h button:focus-visible{outline-color:var(--o);outline-offset:-3px}" +
    ".net{padding:6px 16px;background:#fef3c7;color:#78350f;font-size:13px}" +
    ".g{flex:1;overflow-y:auto;padding:12px 14px;background:var(--canvas);display:flex;flex-direction:column;gap:8px}" +
    ".w{align-self:center;color:var(--ink-muted);text-align:center;margin:4px 10px 8px}.s{align-self:center;color:var(--ink-muted);font-size:12px;text-align:center}" +
    ".m{display:flex;gap:8px;align-items:flex-end;max-width:85%}.m.v{align-self:flex-end;flex-direction:row-reverse}" +
    ".av{flex:none;width:28px;height:28px;border-radius:50%;background:var(--ink-muted);color:#fff;font-size:12px;font-weight:600;" +
    "line-height:28px;text-align:center;object-fit:cover;overflow:hidden}.av.bot{background:#0f766e;display:grid;place-items:center}" +
    ".bu{padding:8px 12px;border-radius:14px;background:#fff;border:1px solid var(--line-soft);min-width:0}" +
    ".v .bu{background:var(--c);color:var(--o);border-color:transparent}.v.failed .bu{background:#fee2e2;color:#7f1d1d}" +
    ".who{display:block;font-size:12px;font-weight:600;color:var(--ink-soft)}" +
    ".tx{margin:0;white-space:pre-wrap;overflow-wrap:anywhere}.tx a{color:inherit}" +
    ".me{display:block;font-size:11px;margin-top:2px;text-align:right;color:var(--ink-soft)}.v .me{color:inherit}" +
    ".me button{all:unset;cursor:pointer;text-decoration:underline;font-weight:600;margin-left:6px}" +
    ".ty{color:var(--ink-muted);font-size:12px;font-style:italic;min-height:18px;padding:0 16px 4px;background:var(--canvas)}" +
    ".mo{all:unset;cursor:pointer;align-self:center;color:var(--brand-strong);font-size:12px;text-decoration:underline}" +
    "form{display:flex;gap:8px;align-items:flex-end;padding:10px;border-top:1px solid var(--line-soft);margin:0;position:relative}" +
    "textarea{flex:1;resize:none;max-height:120px;min-height:40px;padding:9px 10px;border:1px solid var(--edge);border-radius:10px;" +
    "font:" + font + ";color:var(--ink);background:#fff;margin:0}" +
    "form>button{all:unset;cursor:pointer;height:40px;padding:0 14px;border-radius:10px;background:var(--c);color:var(--o);font-weight:600}" +
    "form>button[aria-disabled=true]{opacity:.5;cursor:not-allowed}" +
    ".qr{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}.qr[hidden]{display:none}.qr button{all:unset;cursor:pointer;padding:5px 10px;border-radius:14px;" +
    "border:1px solid var(--c);color:var(--k);background:#fff;font-size:13px}.qr button:focus-visible{outline:3px solid var(--f)}" +
    "form>.at{background:none;color:var(--ink-muted);padding:0 6px}.fl{display:block;margin-top:4px;color:inherit}.fl img{max-width:200px;max-height:160px;border-radius:8px;display:block}" +
    ".ct{position:absolute;right:16px;top:-18px;font-size:11px;color:var(--ink-muted)}.ct.x{color:var(--danger);font-weight:700}" +
    ".pv{all:unset;position:fixed;bottom:88px;right:20px;max-width:280px;padding:10px 14px;border-radius:12px;background:#fff;" +
    "color:var(--ink);font:" + font + ";box-shadow:0 6px 24px rgba(0,0,0,.22);cursor:pointer;white-space:pre-wrap;overflow-wrap:anywhere}" +
    ".pv b{display:block;font-size:12px}" +
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}" +
    ".px{all:unset;position:fixed;bottom:150px;right:12px;width:24px;height:24px;border-radius:50%;background:var(--ink-soft);color:#fff;" +
    "font:14px/24px system-ui,sans-serif;text-align:center;cursor:pointer}.left .px{right:auto;left:292px}" +
    ".ask{display:flex;flex-direction:column;align-items:stretch;gap:6px;align-self:stretch;padding:10px;border:1px solid var(--line-soft);border-radius:12px;background:#fff}" +
    ".ask label{display:flex;flex-direction:column;font-size:12px;color:var(--ink-soft);gap:2px}" +
    ".ask input{font:" + font + ";padding:7px 9px;border:1px solid var(--edge);border-radius:8px;color:var(--ink);background:#fff}" +
    ".ask button{all:unset;cursor:pointer;align-self:flex-end;padding:6px 14px;border-radius:8px;background:var(--c);color:var(--o);font-weight:600}" +
    ".ask [role=alert]{color:var(--danger);font-size:12px;margin:0}" +
    ".gv{align-self:flex-end;color:var(--ink-soft);font-size:12px;margin:0}" +
    ".c1 .who{display:none}.c2 .av{visibility:hidden}.c2:not(.failed) .me{display:none}.c2{margin-bottom:-4px}" +
    "@media (max-width:480px){.p{inset:0;width:100%;height:100%;border-radius:0}.open .l{display:none}textarea,.ask input{font-size:16px}}"
  );
  // The focus ring in the site's colour where it shows (3:1 on white), else near-black: the server's choice.
  X.box.style.setProperty("--f", X.c.ring || "#111827");
  X.box.style.setProperty("--k", X.c.text || "#111827");

  function el(tag, cls, text) {
    var e = d.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  // Links: only http(s) addresses become anchors; everything else stays text.
  function fill(node, text) {
    text.split(/(https?:\/\/[^\s<>"']+)/).forEach(function (part, i) {
      if (i % 2) {
        var a = el("a", null, part);
        a.href = part;
        a.target = "_blank";
        a.rel = "noopener noreferrer nofollow";
        node.appendChild(a);
      } else if (part) node.appendChild(d.createTextNode(part));
    });
  }
  function time(iso) { // 14:05 today; 3 Nov, 14:05 before
    var t = new Date(iso), o = { hour: "2-digit", minute: "2-digit" };
    if (isNaN(t)) return "";
    if (t.toDateString() !== new Date().toDateString()) { o.day = "numeric"; o.month = "short"; }
    return t.toLocaleString(X.lang, o);
  }
  function avatar(who) {
    var url = who.avatar_url;
    if (url && /^https?:\/\//.test(url)) {
      var img = el("img", "av");
      img.src = url;
      img.alt = "";
      return img;
    }
    var name = who.name || T.agent;
    // A bot is drawn apart from a person: its own colour and a robot's face, not initials.
    if (who.type === "bot") {
      var b = el("span", "av bot");
      b.innerHTML = '<svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true"><path fill="#fff" d="M11 2h2v3h4a3 3 0 0 1 3 3v8a3 3 0 0 1-3 3H7a3 3 0 0 1-3-3V8a3 3 0 0 1 3-3h4zM9 10a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3m6 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3m-6 5v1.5h6V15z"/></svg>';
      b.setAttribute("aria-hidden", "true");
      return b;
    }
    var a = el("span", "av", name.split(/\s+/).map(function (p) { return p.charAt(0); }).join("").slice(0, 2).toUpperCase());
    a.setAttribute("aria-hidden", "true");
    return a;
  }

  var p = el("div", "p");
  p.setAttribute("role", "dialog");
  p.setAttribute("aria-label", (X.c.name || T.title));
  p.hidden = true;
  var h = el("div", "h");
  var title = el("b", null, X.c.name || T.title);
  // Who answers and how soon: up to three faces, and the reply time from the server
  // (business hours, and whether anyone is online now).
  var faces = el("span", "tm");
  faces.setAttribute("aria-hidden", "true");
  (X.c.team || []).forEach(function (who) { faces.append(avatar(who)); });
  var r = X.c.reply || {}, when = r.at && new Date(r.at);
  var rt = el("span", "rt", r.in === "later" && when && !isNaN(when)
    ? T.back + when.toLocaleString(X.lang, { weekday: "long", hour: "2-digit", minute: "2-digit" })
    : T[r.in === "minutes" ? "mins" : "hours"]);
  var ht = el("span", "ht");
  ht.append(title, rt);
  var mute = el("button");
  mute.type = "button";
  var x = el("button", null, "✕");
  x.type = "button";
  x.setAttribute("aria-label", T.close);
  h.append(faces, ht, mute, x);
  var net = el("div", "net");
  net.setAttribute("role", "status");
  var g = el("div", "g");
  g.setAttribute("role", "log");
  g.setAttribute("aria-label", T.log);
  g.tabIndex = 0;
  var more = el("button", "mo", T.more);
  more.type = "button";
  var hello = el("p", "w", X.c.welcome || T.welcome);
  g.append(more, hello);
  var ty = el("div", "ty");
  ty.setAttribute("aria-live", "polite");
  var f = el("form");
  var ta = el("textarea");
  ta.rows = 1;
  ta.placeholder = T.ph;
  ta.setAttribute("aria-label", T.ph);
  var ct = el("span", "ct");
  ct.setAttribute("aria-live", "polite");
  var go = el("button", null, T.send);
  go.type = "submit";
  // A file is uploaded at once and sent as its own message.
  var at = el("button", "at");
  at.type = "button";
  at.setAttribute("aria-label", T.attach);
  at.title = T.attach;
  at.innerHTML = '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2">' +
    '<path d="m21 12-8.5 8.5a5 5 0 0 1-7-7L14 5a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 8"/></svg>';
  var file = el("input");
  file.type = "file";
  file.hidden = true;
  file.accept = "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain";
  at.onclick = function () { file.click(); };
  file.onchange = function () {
    var one = file.files[0];
    file.value = "";
    if (!one) return;
    ct.textContent = T.up;
    A.upload(one).then(function (r) {
      ct.textContent = r.message || "";
      ct.className = r.message ? "ct x" : "ct";
      if (!r.message) { A.say("", [r]); stick = true; }
    });
  };
  f.append(ct, at, file, ta, go);
  p.append(h, net, g, ty, f);
  var pv = el("button", "pv");
  pv.type = "button";
  pv.hidden = true;
  var px = el("button", "px", "✕");
  px.type = "button";
  px.hidden = true;
  px.setAttribute("aria-label", T.dismiss);
  X.box.append(p, pv, px);
  // The details a proactive message asks for, in the conversation.
  var ask = el("form", "ask");
  ask.noValidate = true;
  var askName = field("text", T.name, "name"), askEmail = field("email", T.email, "email");
  var askErr = el("p");
  askErr.setAttribute("role", "alert");
  var askGo = el("button", null, T.give);
  askGo.type = "submit";
  ask.append(askName[0], askEmail[0], askErr, askGo);
  ask.onsubmit = function (e) { e.preventDefault(); A.answer(askName[1].value.trim(), askEmail[1].value.trim()); };
  function field(type, label, auto) {
    var l = el("label", null, label), i = el("input");
    i.type = type;
    i.autocomplete = auto;
    l.append(i);
    return [l, i];
  }
  px.onclick = function () { pv.hidden = px.hidden = true; A.dismiss(); X.l.focus(); };

  function drawMute() {
    var on = A.muted();
    mute.innerHTML = '<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2">' +
      '<path d="M11 5 6 9H2v6h4l5 4z"/>' + (on ? '<path d="m23 9-6 6m0-6 6 6"/>' : '<path d="M15.5 8.5a5 5 0 0 1 0 7M19 5a10 10 0 0 1 0 14"/>') + "</svg>";
    mute.setAttribute("aria-label", on ? T.unmute : T.mute);
    mute.setAttribute("aria-pressed", String(on));
    mute.hidden = !X.c.sound;
  }
  drawMute();
  mute.onclick = function () { A.mute(!A.muted()); drawMute(); };
  x.onclick = function () { A.close(); X.l.focus(); };
  more.onclick = function () { A.earlier(); };
  pv.onclick = function () {
    pv.hidden = px.hidden = true;
    if (X.pro && !X.pro.open) A.pro(); else A.open();
  };
  p.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { e.preventDefault(); A.close(); X.l.focus(); }
  });
  function count() {
    var left = X.limit - ta.value.length;
    ct.textContent = left < 100 ? (left < 0 ? -left + T.over : left + T.left) : "";
    ct.className = left < 0 ? "ct x" : "ct";
    go.setAttribute("aria-disabled", String(left < 0 || !ta.value.trim()));
    return left >= 0;
  }
  function grow() { // the composer grows with its text, up to 120px
    ta.style.height = "auto";
    if (ta.value) ta.style.height = Math.min(120, ta.scrollHeight + 2) + "px";
  }
  ta.addEventListener("input", function () { count(); grow(); A.typing(!!ta.value.trim()); });
  ta.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
  });
  f.onsubmit = function (e) { e.preventDefault(); submit(); };
  function submit() {
    var text = ta.value;
    if (!text.trim() || !count()) return;
    A.say(text);
    A.typing(false);
    ta.value = "";
    count();
    grow();
    stick = true;
  }
  count();

  var nodes = {}, stick = true;
  g.addEventListener("scroll", function () { stick = g.scrollHeight - g.scrollTop - g.clientHeight < 40; });
  function order(a, b) {
    if (a.seq && b.seq) return a.seq - b.seq;
    if (a.seq || b.seq) return a.seq ? -1 : 1;
    return a.n - b.n;
  }
  function line(it) {
    if (it.sys) return el("p", "s", T.closed);
    var mine = it.who.type === "visitor";
    var row = el("div", "m " + (mine ? "v" : "a"));
    var bu = el("div", "bu");
    if (!mine) { row.append(avatar(it.who)); bu.append(el("span", "who", it.who.name || T.agent)); }
    var tx = el("p", "tx");
    fill(tx, it.text);
    bu.append(tx);
    (it.files || []).forEach(function (a) { // links to this server only; names are text
      var l = el("a", "fl");
      l.href = X.b + a.url;
      l.target = "_blank";
      l.rel = "noopener";
      if (/^image\//.test(a.content_type)) { var im = el("img"); im.src = l.href; im.alt = a.name; l.append(im); }
      else l.textContent = "📎 " + a.name + " (" + Math.max(1, Math.round(a.size / 1024)) + " KB)";
      bu.append(l);
    });
    var me = el("span", "me");
    bu.append(me);
    if (it.bt && it.bt.length) { // a bot's quick replies: a click sends the label
      var qs = row._bt = el("div", "qr");
      it.bt.forEach(function (label) {
        var q = el("button", null, label);
        q.type = "button";
        q.onclick = function () { A.say(label); stick = true; ta.focus(); };
        qs.append(q);
      });
      bu.append(qs);
    }
    row.append(bu);
    row._me = me;
    return row;
  }
  function meta(row, it) {
    var key = it.state + it.at + it.readAt;
    if (row._key === key) return;
    row._key = key;
    var me = row._me;
    me.textContent = time(it.at);
    if (it.who.type !== "visitor") return;
    row.className = "m v " + it.state;
    var s = it.state === "read" ? " · ✓✓ " + T.read + (it.readAt ? " " + time(it.readAt) : "")
      : it.state === "sent" ? " · ✓ " + T.sent : it.state === "sending" ? " · " + T.sending : " · " + T.failed;
    me.append(d.createTextNode(s));
    if (it.state === "failed") {
      var b = el("button", null, T.retry);
      b.type = "button";
      b.title = it.why || "";
      b.onclick = function () { A.retry(it.k); ta.focus(); };
      me.append(b);
    }
  }
  var gave = el("p", "gv"); // what the visitor gave a proactive message, under it
  // Consecutive messages of one author within five minutes form a group: the name on
  // the first, the avatar and the time on the last.
  function same(a, b) {
    return !a.sys && !b.sys && a.who.type === b.who.type && (a.who.id || a.who.name) === (b.who.id || b.who.name) &&
      Math.abs(new Date(b.at) - new Date(a.at)) < 300000;
  }
  function render() {
    var m = X.m, list = [], echoed = false;
    for (var k in m.items) list.push(m.items[k]);
    list.sort(order);
    var prev = hello;
    for (var k2 in nodes) if (!m.items[k2]) { nodes[k2].remove(); delete nodes[k2]; }
    list.forEach(function (it, i) {
      var row = nodes[it.k] || (nodes[it.k] = line(it));
      if (!it.sys) {
        meta(row, it); // (it sets a visitor row's class, so the group's classes come after)
        row.classList.toggle("c1", i > 0 && same(list[i - 1], it));
        row.classList.toggle("c2", i < list.length - 1 && same(it, list[i + 1]));
      }
      if (row._bt) row._bt.hidden = it !== list[list.length - 1]; // only the last question is open
      if (prev.nextSibling !== row) g.insertBefore(row, prev.nextSibling);
      prev = row;
      if (m.gave && it.o === "proactive" && !echoed) {
        echoed = true;
        gave.textContent = T.gave + m.gave;
        if (prev.nextSibling !== gave) g.insertBefore(gave, prev.nextSibling);
        prev = gave;
      }
    });
    if (!echoed && gave.parentNode) gave.remove();
    var pro = X.pro, asking = !!(pro && pro.open && pro.collect.length);
    if (asking) {
      askName[0].hidden = pro.collect.indexOf("name") < 0;
      askEmail[0].hidden = pro.collect.indexOf("email") < 0;
      askErr.textContent = pro.err || "";
      askEmail[1].setAttribute("aria-invalid", String(pro.code === "invalid_email"));
      if (prev.nextSibling !== ask) g.insertBefore(ask, prev.nextSibling);
    } else if (ask.parentNode) ask.remove();
    ta.disabled = asking;
    ta.placeholder = asking ? T.first : T.ph;
    more.hidden = !m.more;
    ty.textContent = m.typing ? (m.typing.name || T.agent) + T.typing : "";
    var online = X.on;
    net.hidden = online;
    net.textContent = navigator.onLine === false ? T.off : T.net;
    if (stick && !p.hidden) g.scrollTop = g.scrollHeight;
  }
  function show(open) {
    p.hidden = !open;
    X.box.classList.toggle("open", open);
    if (open) {
      pv.hidden = px.hidden = true;
      stick = true;
      render();
      (X.pro && X.pro.open && X.pro.collect.length ? (X.pro.collect[0] === "name" ? askName : askEmail)[1] : ta).focus();
    }
  }
  function peek(it) {
    if (!p.hidden) return;
    pv.textContent = "";
    // Named by its content (no aria-label that could drift from what is shown).
    var b = el("b", null, it.who.name || T.agent);
    pv.append(el("span", "sr", T.peek), b, el("span", "sr", ": "),
      d.createTextNode(it.text.length > 140 ? it.text.slice(0, 140) + "…" : it.text));
    pv.hidden = false;
  }
  function bubble(pro) { // a proactive message above the launcher, from the channel's sender
    if (!p.hidden) return;
    pv.textContent = "";
    if (pro.who.name) pv.append(el("b", null, pro.who.name), el("span", "sr", ": "));
    pv.append(d.createTextNode(pro.text));
    pv.hidden = px.hidden = false;
  }
  X.panel = { render: render, show: show, peek: peek, bubble: bubble };
  X.ready();
})(window, document);
