// The agent page: open conversations, live, with replies, typing and read receipts.
// Everything people typed is set with textContent, never as HTML.
"use strict";
(function () {
  const convs = new Map(); // id -> {id, visitor_id, status, events: Map(seq -> frame) | null, last, theirRead, readAt, unread}
  let current = null;
  let sock = null;
  let tries = 0;
  let typingTimer = null;
  let typingSent = 0;
  const $ = (id) => document.getElementById(id);

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  const time = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  function conv(id, data) {
    let c = convs.get(id);
    if (!c) {
      c = { id, events: null, last: "", theirRead: 0, readAt: null, unread: false, status: "open" };
      convs.set(id, c);
    }
    if (data) Object.assign(c, data);
    return c;
  }

  function connect() {
    const url = location.origin.replace(/^http/, "ws") + "/ws/v1/agent";
    const s = (sock = new WebSocket(url));
    s.onopen = () => s.send(JSON.stringify({ type: "hello" }));
    s.onmessage = (e) => frame(JSON.parse(e.data));
    s.onclose = (e) => {
      sock = null;
      $("net").textContent = "Reconnecting…";
      $("net").className = "net";
      if (e.code === 4401) { location.href = "/login?next=/agent"; return; }
      setTimeout(connect, Math.min(5000, 100 * 2 ** tries++) * (0.5 + Math.random()));
    };
  }
  function send(f) { if (sock && sock.readyState === 1) sock.send(JSON.stringify(f)); }

  function frame(f) {
    if (f.type === "welcome") {
      tries = 0;
      $("net").textContent = "Online";
      $("net").className = "net ok";
      for (const c of f.conversations) {
        const known = conv(c.id, { visitor_id: c.visitor_id, status: c.status, theirRead: c.visitor_read_seq });
        if (c.tags) known.tags = c.tags;
        known.unread = c.agent_read_seq < c.last_seq;
        if (known.events) load(known); // catch up after a reconnect
      }
      list();
      if (!current && f.conversations.length) select(f.conversations[0].id);
      return;
    }
    if (f.type === "typing.updated") {
      if (f.conversation_id === current && f.author.type === "visitor") {
        $("typing").textContent = f.active ? "The visitor is typing…" : "";
        clearTimeout(typingTimer);
        typingTimer = setTimeout(() => ($("typing").textContent = ""), 6000);
      }
      return;
    }
    if (f.type === "error") { console.warn("Parley:", f.code, f.message); return; }
    // Acks carry a seq too; only conversation events are kept by seq.
    if (!f.seq || f.type === "ack") return;
    const c = conv(f.conversation_id);
    apply(c, f);
    if (f.type === "message.created" && f.message.author.type === "visitor") {
      $("typing").textContent = "";
      if (f.conversation_id === current && !document.hidden) read(c);
      else c.unread = true;
    }
    if (c.id === current) render();
    list();
  }

  function apply(c, f) {
    if (c.events) c.events.set(f.seq, f);
    c.last_seq = Math.max(c.last_seq || 0, f.seq);
    if (f.type === "message.created") {
      c.last = f.message.text;
      if (f.message.author.type === "visitor") c.theirs = Math.max(c.theirs || 0, f.seq);
    }
    if (f.type === "conversation.created" || f.type === "conversation.updated") {
      c.status = f.status;
      if (f.visitor_id) c.visitor_id = f.visitor_id;
      if (f.tags) c.tags = f.tags;
    }
    if (f.type === "conversation.read" && f.reader.type === "visitor" && f.up_to_seq > c.theirRead) {
      c.theirRead = f.up_to_seq;
      c.readAt = f.read_at;
    }
  }

  async function load(c) {
    const r = await fetch(`/api/v1/conversations/${encodeURIComponent(c.id)}/events?limit=200`);
    if (!r.ok) return;
    const page = await r.json();
    c.events = c.events || new Map();
    c.theirRead = page.conversation.visitor_read_seq;
    if (page.conversation.tags) c.tags = page.conversation.tags;
    c.visitor_id = page.conversation.visitor_id;
    for (const e of page.events) apply(c, e);
    if (c.id === current) { render(); read(c); profile(c); }
  }

  // Read up to the visitor's last message (not our own read receipts, which are events too).
  function read(c) {
    if (c.theirs && c.theirs > (c.readSent || 0)) {
      send({ type: "conversation.read", conversation_id: c.id, up_to_seq: c.theirs });
      c.readSent = c.theirs;
    }
    c.unread = false;
  }

  function select(id) {
    current = id;
    const c = conv(id);
    $("view").hidden = false;
    $("conv-title").textContent = "Visitor " + (c.visitor_id || "").slice(-6);
    $("typing").textContent = "";
    if (c.events) { render(); read(c); profile(c); } else load(c);
    list();
  }

  // Who the visitor is: fetched once per conversation for the list, again when opened.
  async function profile(c) {
    if (!c.visitor_id) return;
    c.profiled = true;
    const r = await fetch(`/api/v1/visitors/${encodeURIComponent(c.visitor_id)}`);
    if (!r.ok) return;
    const v = await r.json();
    c.name = v.name || v.email;
    list();
    if (c.id !== current) return;
    const box = $("visitor");
    $("conv-title").textContent = c.name || "Visitor " + v.id.slice(-6);
    box.textContent = "";
    const facts = [
      v.name && "Name: " + v.name,
      v.email && "Email: " + v.email,
      v.user_id && "User id: " + v.user_id + (v.verified ? " (verified)" : " (unverified)"),
      "Visits: " + v.visit_count,
      v.page_views.length && "Now on: " + (v.page_views[0].title || v.page_views[0].url),
      c.tags && c.tags.length && "Tags: " + c.tags.join(", "),
    ].filter(Boolean);
    box.append(el("span", null, facts.join(" · ")));
  }

  function render() {
    const c = convs.get(current);
    const box = $("messages");
    const stick = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    box.textContent = "";
    const events = [...(c.events || new Map()).values()].sort((a, b) => a.seq - b.seq);
    for (const e of events) {
      if (e.type === "message.created") {
        const m = e.message;
        const mine = m.author.type === "agent";
        const row = el("div", "msg " + (mine ? "agent" : "visitor"));
        const who = mine ? m.author.name || "Agent" : c.name || "Visitor";
        row.append(el("p", "text", m.text));
        let meta = `${who} · ${time(m.created_at)}`;
        if (mine) meta += m.seq <= c.theirRead ? ` · ✓✓ Read${c.readAt ? " " + time(c.readAt) : ""}` : " · ✓ Sent";
        row.append(el("span", "meta", meta));
        box.append(row);
      } else if (e.type === "conversation.updated") {
        const what = e.status === "closed" ? "Closed" : e.assignee_id ? "Assigned" : "Reopened";
        box.append(el("p", "sys", `${what} by ${e.by?.name || e.by?.type} at ${time(e.at)}`));
      }
    }
    $("toggle-status").textContent = c.status === "closed" ? "Reopen conversation" : "Close conversation";
    if (stick) box.scrollTop = box.scrollHeight;
  }

  function list() {
    const ul = $("list");
    ul.textContent = "";
    const open = [...convs.values()].filter((c) => c.status !== "closed" || c.id === current);
    $("empty").hidden = open.length > 0;
    for (const c of open) {
      if (!c.profiled && c.visitor_id) profile(c);
      const li = el("li", c.unread ? "unread" : "");
      const b = el("button");
      b.type = "button";
      b.setAttribute("aria-current", String(c.id === current));
      b.append(el("span", "name", c.name || "Visitor " + (c.visitor_id || "").slice(-6)), el("span", "last", c.last));
      b.onclick = () => select(c.id);
      li.append(b);
      ul.append(li);
    }
    const unread = open.filter((c) => c.unread).length;
    document.title = (unread ? `(${unread}) ` : "") + "Conversations · Parley";
  }

  function submit() {
    const text = $("text").value;
    if (!text.trim() || !current) return;
    send({ type: "message.send", client_id: crypto.randomUUID(), conversation_id: current, text });
    send({ type: "typing.update", conversation_id: current, active: false });
    typingSent = 0;
    $("text").value = "";
  }
  $("composer").addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  $("text").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
  });
  $("text").addEventListener("input", () => {
    if (!current || Date.now() - typingSent < 3000) return;
    typingSent = Date.now();
    send({ type: "typing.update", conversation_id: current, active: true });
  });
  $("toggle-status").addEventListener("click", () => {
    const c = convs.get(current);
    send({ type: "conversation.update", conversation_id: current, status: c.status === "closed" ? "open" : "closed" });
  });
  $("logout").addEventListener("submit", async (e) => {
    e.preventDefault();
    await fetch("/api/v1/auth/logout", { method: "POST" });
    location.href = "/login?next=/agent";
  });
  document.addEventListener("visibilitychange", () => {
    const c = convs.get(current);
    if (c && !document.hidden && c.unread) { read(c); list(); }
  });
  connect();
})();
