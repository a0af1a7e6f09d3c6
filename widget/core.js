/* Parley core: the visitor's connection, the conversation model and the JS API.
 * Loaded by the loader once the page is idle (or at the first API call); it
 * speaks protocol v1 (docs/protocol.md) and loads panel.js when something must
 * show. No UI here: panel.js renders what this keeps in X.m. */
(function (w, d) {
  var X = w.Parley._, c = X.c, st = X.st, base = X.b;
  var ok = !c.consent_required || !!st.t; // may we write to the browser's storage?
  var sock, ready = false, tries = 0, timer, beat, lastIn = 0, hb = 25, pend = [], opened = false, rq, lastUrl;
  st.o = st.o || [];
  var m = fresh(st.c);
  X.m = m;
  // Messages typed on an earlier page and not yet acknowledged: still on their way.
  st.o.forEach(function (o) {
    m.items[o.i] = { k: o.i, n: m.n++, who: { type: "visitor" }, text: o.x, files: o.f, at: o.t, state: "sending" };
  });
  X.limit = 1000;
  X.on = false; // connected and welcomed

  function fresh(id) {
    // One conversation as the panel shows it: items by key, read state, typing.
    return { id: id || null, seq: 0, seen: {}, items: {}, mine: 0, theirs: 0, readAt: null, status: null,
      typing: null, more: false, oldest: 0, n: 0 };
  }
  function save() {
    st.c = m.id;
    if (!ok) return;
    try { localStorage.setItem(X.key, JSON.stringify(st)); } catch (e) { /* full or blocked */ }
  }
  function emit(name, arg) {
    (X.h[name] || []).forEach(function (fn) { try { fn(arg); } catch (e) { console.error(e); } });
  }
  function changed() {
    if (X.panel && !rq) rq = requestAnimationFrame(function () { rq = 0; X.panel.render(); });
  }
  function withPanel(fn) {
    if (X.panel) fn();
    else { (X.pq = X.pq || []).push(fn); X.load("panel"); }
  }
  X.ready = function () { // called by panel.js when it has loaded
    (X.pq || []).forEach(function (fn) { fn(); });
    X.pq = [];
    changed();
  };

  // ---- the socket ----------------------------------------------------------
  function connect() {
    clearTimeout(timer);
    if (sock) return;
    var s = sock = new WebSocket(base.replace(/^http/, "ws") + "/ws/v1/visitor?site=" + encodeURIComponent(X.k));
    s.onopen = function () {
      var cur = {};
      if (m.id && m.seq) cur[m.id] = m.seq;
      s.send(JSON.stringify({ type: "hello", site_key: X.k, token: st.t || undefined, page: page(),
        locale: navigator.language, timezone: zone(), client: { kind: "web", version: "widget/1" }, cursors: cur }));
    };
    s.onmessage = function (e) { lastIn = Date.now(); frame(JSON.parse(e.data)); };
    s.onclose = function (e) {
      if (sock !== s) return;
      sock = null;
      ready = X.on = false;
      clearInterval(beat);
      changed();
      if (X.stop) return;
      // 1001 server_shutdown: that process is restarting, another will answer now.
      // Else exponential backoff with jitter: 0.1 s doubling to 5 s, times 0.5-1.5.
      if (e.code === 1001) { tries = 0; timer = setTimeout(connect, 0); }
      else timer = setTimeout(connect, Math.min(5000, 100 * Math.pow(2, tries++)) * (0.5 + Math.random()));
    };
  }
  function drop() { if (sock) sock.close(); }
  function send(f) {
    if (!ready) return false;
    sock.send(JSON.stringify(f));
    return true;
  }
  function report(f) { if (!send(f)) pend.push(f); }
  // This page view's id and age: a reconnect from the same page is not a new page view.
  function pid() {
    X.pid = String(w.crypto && crypto.randomUUID ? crypto.randomUUID() : Math.random()).replace(/[^a-z0-9]/gi, "").slice(0, 24);
    X.pt = Date.now();
  }
  pid();
  // The host page's text, storable: no NUL, no half emoji (a plain slice can
  // cut a surrogate pair, which the server refuses as invalid_text).
  function cut(s, n) {
    s = s.replace(/\0|[\ud800-\udbff](?![\udc00-\udfff])|(^|[^\ud800-\udbff])[\udc00-\udfff]/g, "$1").slice(0, n);
    return /[\ud800-\udbff]$/.test(s) ? s.slice(0, -1) : s;
  }
  function page() {
    return { url: cut(location.href, 2048), title: cut(d.title, 512), referrer: cut(d.referrer, 2048),
      id: X.pid, elapsed_s: Math.min(86400, (Date.now() - X.pt) / 1000) };
  }
  function zone() { try { return Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return undefined; } }
  w.addEventListener("online", function () { if (!sock && !X.stop) { tries = 0; connect(); } });

  // ---- what the server sends -------------------------------------------------
  function frame(f) {
    var t = f.type;
    if (t === "welcome") return welcome(f);
    if (t === "ack") return ack(f);
    if (t === "error") return error(f);
    if (t === "typing.updated") {
      if (f.author.type === "agent" && f.conversation_id === m.id) {
        m.typing = f.active ? f.author : null;
        clearTimeout(m.tt);
        m.tt = setTimeout(function () { m.typing = null; changed(); }, 6000);
        changed();
      }
      return;
    }
    if (t === "proactive.show") return proactive(f);
    if (t === "proactive.replied") {
      if (st.p && st.p.delivery_id === f.delivery_id) { st.p = null; save(); }
      if (X.pro && X.pro.gave) m.gave = X.pro.gave; // echoed under the message it answered
      X.pro = null;
      unpro();
      if (!m.id) m.id = f.conversation_id;
      return changed();
    }
    if (t === "visitor.identified") {
      if (f.merged) { // this browser is now a known contact: start again as them
        st.t = f.token;
        m = X.m = fresh(null);
        save();
        tries = 0;
        drop();
      }
      return;
    }
    if (f.seq) event(f, true);
  }
  function welcome(f) {
    ready = X.on = true;
    tries = 0;
    st.t = f.token;
    X.vid = f.visitor.id;
    hb = f.heartbeat_s;
    X.limit = f.limits.max_message_chars;
    X.c = c = Object.assign(c, f.widget);
    var list = f.conversations, cur = null;
    for (var i = 0; i < list.length; i++) if (list[i].id === m.id || !cur) cur = list[i];
    if (cur && cur.id !== m.id && !m.id) m.id = cur.id;
    if (cur && cur.id === m.id) {
      m.status = cur.status;
      m.mine = Math.max(m.mine, cur.visitor_read_seq);
      if (!m.seq) m.seq = cur.last_seq; // live from here on; the page before comes over HTTP
    }
    if (m.id && !m.oldest) fetchHistory("");
    save();
    clearInterval(beat);
    beat = setInterval(function () {
      if (Date.now() - lastIn > 2 * hb * 1000) drop(); // silent too long: a dead connection
      else send({ type: "ping" });
    }, hb * 1000);
    pend.splice(0).forEach(send);
    st.o.forEach(transmit);
    unread();
    changed();
  }
  function ack(f) {
    var it = m.items[f.client_id];
    if (!m.id) m.id = f.conversation_id;
    if (it) {
      it.seq = f.seq;
      it.at = f.created_at;
      if (it.state !== "read") it.state = f.seq <= m.theirs ? "read" : "sent";
    }
    outbox(f.client_id);
    save();
    changed();
  }
  function outbox(id) { st.o = st.o.filter(function (o) { return o.i !== id; }); }
  function error(f) {
    var code = f.code, it = f.client_id && m.items[f.client_id];
    if (/^token_/.test(code)) { st.t = null; m = X.m = fresh(null); save(); return; }
    if (code === "resync_required") return fetchHistory("&after=" + m.seq, true);
    if (code === "conversation_closed" && f.active_conversation_id) {
      m.id = f.active_conversation_id;
      st.o.forEach(function (o) { o.c = m.id; });
      save();
      return st.o.forEach(transmit);
    }
    if (it) {
      if (code === "rate_limited" || code === "internal_error" || code === "database_unavailable") {
        var o = st.o.filter(function (x) { return x.i === f.client_id; })[0];
        if (o) setTimeout(function () { transmit(o); }, f.retry_after_ms || 2000);
        return;
      }
      it.state = "failed";
      it.why = f.message;
      outbox(f.client_id);
      save();
      return changed();
    }
    if (f.delivery_id && X.pro && X.pro.delivery_id === f.delivery_id) { X.pro.err = f.message; X.pro.code = code; return changed(); }
    if (code === "conversation_not_found" && f.conversation_id === m.id) { m = X.m = fresh(null); save(); return changed(); }
    console.warn("Parley:", code, f.message);
  }

  // A sequenced conversation event, from the socket (live) or from history.
  function event(f, live) {
    if (f.conversation_id !== m.id) {
      if (f.type !== "conversation.created" && m.id) return; // another of the visitor's conversations
      m = X.m = fresh(f.conversation_id);
      save();
    }
    if (m.seen[f.seq]) return;
    m.seen[f.seq] = 1;
    if (f.seq > m.seq) m.seq = f.seq;
    var t = f.type;
    if (t === "message.created") {
      var g = f.message, a = g.author, key = a.type === "visitor" && g.client_id ? g.client_id : g.id;
      if (g.origin === "proactive") unpro();
      var it = m.items[key] || (m.items[key] = { k: key, n: m.n++ });
      it.seq = g.seq; it.who = a; it.o = g.origin; it.text = g.text; it.at = g.created_at; it.files = g.attachments; it.bt = g.buttons;
      if (a.type === "visitor") {
        if (it.state !== "read") it.state = g.seq <= m.theirs ? "read" : "sent";
        if (it.state === "read") it.readAt = m.readAt;
      } else if ((m.typing = null, live)) { // their message ends their typing
        if (!opened || d.hidden) ding();
        emit("message", { text: g.text, author: { type: a.type, name: a.name }, at: g.created_at });
        if (!opened) withPanel(function () { X.panel.peek(it); });
      }
      if (!m.oldest || g.seq < m.oldest) m.oldest = g.seq;
    } else if (t === "conversation.read") {
      if (f.reader.type === "visitor") m.mine = Math.max(m.mine, f.up_to_seq);
      else if (f.up_to_seq > m.theirs) {
        m.theirs = f.up_to_seq;
        m.readAt = f.read_at;
        for (var k in m.items) {
          var v = m.items[k];
          if (v.who && v.who.type === "visitor" && v.seq <= m.theirs && v.state !== "read") { v.state = "read"; v.readAt = f.read_at; }
        }
      }
    } else if (t === "conversation.updated" || t === "conversation.created") {
      m.status = f.status;
      if (f.status === "closed") m.items["s" + f.seq] = { k: "s" + f.seq, seq: f.seq, sys: "closed", at: f.at, n: m.n++ };
    }
    unread();
    changed();
  }
  function fetchHistory(q, all) {
    if (!m.id || !st.t) return;
    var id = m.id;
    fetch(base + "/api/v1/visitor/conversations/" + id + "/events?limit=50&site=" + encodeURIComponent(X.k) + q,
      { headers: { Authorization: "Bearer " + st.t } }).then(function (r) { return r.json(); }).then(function (j) {
      if (m.id !== id || !j.events) return;
      j.events.forEach(function (e) { event(e, false); });
      if (!/after/.test(q)) m.more = j.has_more;
      if (all && j.has_more) fetchHistory("&after=" + j.events[j.events.length - 1].seq, true);
      markRead();
      changed();
    }).catch(function () { /* shown again on the next reconnect */ });
  }

  // ---- unread, read receipts, sound --------------------------------------------
  function unread() {
    var n = 0;
    m.top = 0; // the agents' last message: what reading means
    for (var k in m.items) {
      var v = m.items[k];
      if (v.who && v.who.type !== "visitor") { if (v.seq > m.mine) n++; if (v.seq > m.top) m.top = v.seq; }
    }
    if (n !== (st.r || 0)) { st.r = n; save(); emit("unread", n); }
    X.u(n);
    if (n && opened) markRead();
  }
  function markRead() {
    if (opened && !d.hidden && m.id && m.top > m.mine && send({ type: "conversation.read", conversation_id: m.id, up_to_seq: m.top })) {
      m.mine = m.top;
      unread();
    }
  }
  d.addEventListener("visibilitychange", markRead);
  function ding() {
    if (!c.sound || st.m) return;
    try {
      var ac = X.ac = X.ac || new (w.AudioContext || w.webkitAudioContext)(), o = ac.createOscillator(), g = ac.createGain(), t = ac.currentTime;
      o.frequency.value = 880;
      g.gain.setValueAtTime(0.06, t);
      g.gain.exponentialRampToValueAtTime(0.0001, t + 0.3);
      o.connect(g); g.connect(ac.destination); o.start(t); o.stop(t + 0.3);
    } catch (e) { /* no audio until the visitor has interacted: fine */ }
  }

  // ---- what the panel and the page may do ------------------------------------------
  function transmit(o) {
    send({ type: "message.send", client_id: o.i, conversation_id: o.c || m.id || undefined, text: o.x, delivery_id: o.d,
      attachments: o.f ? o.f.map(function (a) { return a.id; }) : undefined });
  }
  function say(text, files) {
    var id = (w.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Math.random()).slice(2) + Date.now();
    m.items[id] = { k: id, n: m.n++, who: { type: "visitor" }, text: text, files: files, at: new Date().toISOString(), state: "sending" };
    var o = { i: id, x: text, c: m.id, t: m.items[id].at, f: files };
    if (X.pro && X.pro.open && !X.pro.collect.length) { o.d = X.pro.delivery_id; o.c = null; X.pro = st.p = null; }
    st.o.push(o);
    save();
    transmit(o);
    changed();
  }
  function retry(key) {
    var it = m.items[key];
    if (!it || it.state !== "failed") return;
    it.state = "sending";
    var o = { i: key, x: it.text, c: m.id, t: it.at, f: it.files };
    st.o.push(o);
    save();
    transmit(o);
    changed();
  }
  // Upload a file with the visitor's token; resolves to the attachment, or to {message} on refusal.
  function upload(file) {
    if (!st.t) return Promise.resolve({ message: "…" });
    return fetch(base + "/api/v1/visitor/attachments?site=" + encodeURIComponent(X.k), {
      method: "POST", body: file,
      headers: { Authorization: "Bearer " + st.t, "Content-Type": file.type || "application/octet-stream", "X-Filename": encodeURIComponent(file.name) },
    }).then(function (r) { return r.json(); }).catch(function () { return { message: "⚠" }; });
  }
  var typingSent = 0;
  function typing(active) {
    if (!m.id) return;
    var now = Date.now();
    if (active && now - typingSent < 3000) return;
    typingSent = active ? now : 0;
    send({ type: "typing.update", conversation_id: m.id, active: active });
  }
  function open() {
    opened = true;
    ok = true; // opening the chat is consent to keep it
    save();
    if (!sock) connect();
    X.label(true);
    withPanel(function () { X.panel.show(true); markRead(); });
    emit("open");
  }
  function close() {
    if (!opened) return;
    opened = false;
    if (X.pro && X.pro.open) proDismiss(); // closed without answering: gone until frequency allows
    X.label(false);
    if (X.panel) X.panel.show(false);
    emit("close");
  }
  function shutdown() {
    close();
    X.stop = 1;
    drop();
    try { localStorage.removeItem(X.key); } catch (e) { /* blocked */ }
    st = X.st = { o: [] };
    m = X.m = fresh(null);
    ok = !c.consent_required;
    pend = [];
    X.u(0);
    changed();
    setTimeout(function () { X.stop = 0; tries = 0; if (ok) connect(); }, 0);
  }
  // ---- proactive messages ------------------------------------------------------------
  function proactive(f) {
    st.p = f;
    save();
    X.pro = { delivery_id: f.delivery_id, text: f.text, who: { type: "system", name: f.sender.name, avatar_url: f.sender.avatar_url },
      collect: f.collect, at: f.shown_at, open: false };
    emit("proactive", { text: f.text });
    withPanel(function () { X.panel.bubble(X.pro); });
  }
  function unpro() { for (var k in m.items) if (k.slice(0, 2) === "p:") delete m.items[k]; }
  function proOpen() {
    var p = X.pro;
    if (!p) return;
    p.open = true;
    send({ type: "proactive.opened", delivery_id: p.delivery_id });
    m.items["p:" + p.delivery_id] = { k: "p:" + p.delivery_id, n: -1, who: p.who, text: p.text, at: p.at, pro: 1 };
    open();
    changed();
  }
  function proDismiss() {
    var p = X.pro;
    if (!p) return;
    send({ type: "proactive.dismissed", delivery_id: p.delivery_id });
    X.pro = st.p = null;
    unpro();
    save();
    changed();
  }
  function proReply(name, email) {
    var p = X.pro;
    if (!p) return;
    p.err = null;
    p.gave = [name, email].filter(Boolean).join(" · ");
    send({ type: "proactive.reply", delivery_id: p.delivery_id, name: name, email: email });
  }
  X.api = { pro: proOpen, dismiss: proDismiss, answer: proReply, say: say, upload: upload, retry: retry, typing: typing, open: open, close: close, read: markRead,
    mute: function (on) { st.m = on; save(); }, muted: function () { return !!st.m; },
    earlier: function () { if (m.oldest > 1) fetchHistory("&before=" + m.oldest); } };

  function api(cmd, a, b) {
    if (cmd === "open") open();
    else if (cmd === "close") close();
    else if (cmd === "toggle") opened ? close() : open();
    else if (cmd === "identify") {
      a = a || {};
      report({ type: "visitor.identify", user_id: a.user_id == null ? undefined : String(a.user_id), name: a.name,
        email: a.email, phone: a.phone, user_hash: a.user_hash });
    } else if (cmd === "track") report({ type: "event.track", name: String(a), props: b || {} });
    else if (cmd === "set") report({ type: "visitor.set", attributes: a });
    else if (cmd === "on") (X.h[a] = X.h[a] || []).push(b);
    else if (cmd === "consent") { ok = true; save(); if (!sock) connect(); }
    else if (cmd === "shutdown") shutdown();
    else console.warn("Parley: unknown command", cmd);
  }
  var P = w.Parley = function (cmd, a, b) { api(cmd, a, b); };
  P._ = X;

  // Single-page apps: a history change is a page view.
  function moved() {
    var url = location.href;
    if (url === lastUrl) return;
    lastUrl = url;
    pid();
    // The address and page id now (another move may come first); the title a
    // moment later, once the app has set it.
    var id = X.pid;
    setTimeout(function () {
      var p = page();
      p.url = cut(url, 2048);
      p.id = id;
      report({ type: "page.view", page: p });
    }, 0);
  }
  lastUrl = location.href;
  ["pushState", "replaceState"].forEach(function (name) {
    var orig = history[name];
    if (orig) history[name] = function () { var r = orig.apply(this, arguments); moved(); return r; };
  });
  w.addEventListener("popstate", moved);
  w.addEventListener("hashchange", moved);

  if (ok) connect();
  if (st.p) proactive(st.p);
  X.q.splice(0).forEach(function (args) { api(args[0], args[1], args[2]); });
})(window, document);
