// The agent workspace: the inbox (views, statuses, search, markers, badge), one conversation
// (history, composer, notes, canned responses, assignment, close, snooze) and the contact panel.
// The list comes from /api/v1/inbox; socket events update its rows in place (inPlace) and fetch it
// again only when its members may change.
// Everything people typed is set with textContent, never as HTML.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const me = document.body.dataset.userId;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const state = { view: "all", status: "open", q: "", mode: "reply" };
  const convs = new Map(); // id -> {id, visitor, events: Map(seq -> frame), theirRead, readAt, ...}
  let rows = []; // the inbox page shown
  let current = null;
  let sock = null;
  let tries = 0;
  let typingTimer = null;
  let typingSent = 0;
  let refreshTimer = null;
  let refreshTicket = 0;
  let team = [];
  let canned = [];
  let pick = -1;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  const time = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const stamp = (iso) => new Date(iso).toLocaleString([], { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  // The visitor's best name: what they told us, else where they are ("Visitor from Lisbon").
  const nameOf = (v) => {
    if (v && (v.name || v.email || v.phone)) return v.name || v.email || v.phone;
    const city = ((v && v.timezone) || "").split("/").pop().replace(/_/g, " ");
    return city && city !== "UTC" ? "Visitor from " + city : "Anonymous visitor";
  };
  const member = (id) => team.find((u) => u.id === id);
  // Text with its http(s) addresses as links (opened apart, never with this page's rights);
  // everything else stays text nodes, as the widget does.
  function linked(node, text) {
    (text || "").split(/(https?:\/\/[^\s<>"']+)/).forEach((part, i) => {
      if (i % 2) {
        const a = el("a", null, part);
        a.href = part;
        a.target = "_blank";
        a.rel = "noopener noreferrer nofollow";
        node.append(a);
      } else if (part) node.append(document.createTextNode(part));
    });
    return node;
  }

  async function api(path, options) {
    const o = Object.assign({ headers: {} }, options || {});
    if (o.body !== undefined) { o.headers["Content-Type"] = "application/json"; o.body = JSON.stringify(o.body); }
    if (o.method && o.method !== "GET") o.headers["X-CSRF-Token"] = csrf;
    const r = await fetch(path, o);
    if (r.status === 401) { location.href = "/login?next=/agent"; throw new Error("signed out"); }
    const body = await r.json();
    if (!r.ok) throw Object.assign(new Error(body.message), body);
    return body;
  }
  function conv(id) {
    let c = convs.get(id);
    if (!c) convs.set(id, (c = { id, events: null, theirRead: 0, readAt: null, oldest: null }));
    return c;
  }

  // -- the socket ----------------------------------------------------------------
  function connect() {
    const s = (sock = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws/v1/agent"));
    s.onopen = () => s.send(JSON.stringify({ type: "hello" }));
    s.onmessage = (e) => frame(JSON.parse(e.data));
    s.onclose = (e) => {
      sock = null;
      net("Reconnecting…", false);
      if (e.code === 4401) { location.href = "/login?next=/agent"; return; }
      setTimeout(connect, Math.min(5000, 100 * 2 ** tries++) * (0.5 + Math.random()));
    };
  }
  function net(text, ok) { $("net").textContent = text; $("net").className = ok ? "net ok" : "net"; }
  function send(f) { if (sock && sock.readyState === 1) { sock.send(JSON.stringify(f)); return true; } return false; }

  function frame(f) {
    if (f.type === "welcome") {
      tries = 0;
      net("Online", true);
      loadTeam();
      refresh();
      if (current) load(conv(current), true);
      return;
    }
    if (f.type === "access.updated") { refresh(); return; }
    if (f.type === "typing.updated") {
      if (f.conversation_id === current && f.author.type === "visitor") {
        $("typing").textContent = f.active ? "The visitor is typing…" : "";
        clearTimeout(typingTimer);
        typingTimer = setTimeout(() => ($("typing").textContent = ""), 6000);
      }
      return;
    }
    if (f.type === "error") { problem(f.message); return; }
    if (!f.seq || f.type === "ack") return;
    const c = conv(f.conversation_id);
    apply(c, f);
    if (f.type === "message.created" && f.message.author.type === "visitor" && c.id === current) {
      $("typing").textContent = "";
      if (!document.hidden) read(c);
    }
    if (c.id === current) { render(); if (f.type === "conversation.updated") head(); }
    if (inPlace(f)) soonBadge();
    else soon();
  }
  // An event updates the row it concerns in place where that is enough. The list is
  // fetched again only when its members may change: a new conversation, a status or an
  // assignment that can move one in or out of the view, or while searching.
  function inPlace(f) {
    const r = rows.find((x) => x.id === f.conversation_id);
    if (!r || state.q || !["message.created", "note.created", "conversation.read"].includes(f.type)) return false;
    r.last_activity_at = f.at; // every event counts as activity, as on the server
    if (f.type === "message.created") {
      const m = f.message, files = (m.attachments || []).map((a) => "📎 " + a.name).join(" ");
      r.last_preview = (m.text || files).slice(0, 140);
      if (m.author.type === "visitor") r.unread = r.unanswered = !r.bot_active;
      else if (m.author.type === "agent") r.unread = r.unanswered = false;
    } else if (f.type === "conversation.read" && f.reader.type === "agent") r.unread = false;
    rows.sort((a, b) => (a.last_activity_at < b.last_activity_at ? 1 : a.last_activity_at > b.last_activity_at ? -1 : 0));
    list();
    return true;
  }
  let badgeTimer = null;
  function soonBadge() { clearTimeout(badgeTimer); badgeTimer = setTimeout(badge, 150); }
  function problem(text) {
    const p = $("conv-state");
    p.textContent = text;
    p.className = "state error";
    setTimeout(() => { if (p.className === "state error") head(); }, 6000);
  }

  function apply(c, f) {
    if (c.events) c.events.set(f.seq, f);
    if (f.type === "conversation.created" || f.type === "conversation.updated") {
      c.status = f.status;
      if ("assignee_id" in f) c.assignee_id = f.assignee_id;
      if ("snoozed_until" in f) c.snoozed_until = f.snoozed_until;
      if (f.status === "closed") { c.closed_at = f.closed_at || f.at; c.closed_by = f.by && f.by.id; c.closedName = f.by && f.by.name; }
    }
    if (f.type === "message.created" && f.message.author.type === "visitor") c.theirs = Math.max(c.theirs || 0, f.seq);
    if (f.type === "conversation.read" && f.reader.type === "visitor" && f.up_to_seq > c.theirRead) {
      c.theirRead = f.up_to_seq;
      c.readAt = f.read_at;
    }
  }

  // -- the inbox -----------------------------------------------------------------
  function soon() { clearTimeout(refreshTimer); refreshTimer = setTimeout(refresh, 150); }
  async function refresh(more) {
    const params = new URLSearchParams({ view: state.view, status: state.status, limit: "50" });
    if (state.q) params.set("q", state.q);
    if (more && rows.length) params.set("before", rows[rows.length - 1].last_activity_at);
    const ticket = ++refreshTicket;
    let page;
    try { page = await api("/api/v1/inbox?" + params); } catch (e) { return; }
    if (ticket !== refreshTicket) return; // a newer view, filter or search replaced this one
    rows = more ? rows.concat(page.conversations) : page.conversations;
    $("more").hidden = !page.has_more;
    for (const r of rows) {
      const c = conv(r.id);
      Object.assign(c, { visitor: r.visitor, status: r.status, assignee_id: r.assignee_id, snoozed_until: r.snoozed_until, closed_at: r.closed_at, closed_by: r.closed_by, tags: r.tags });
    }
    list();
    badge();
  }
  async function badge() {
    let b;
    try { b = await api("/api/v1/inbox/badge"); } catch (e) { return; }
    const n = b.unanswered;
    $("badge").hidden = n === 0;
    $("badge").textContent = n;
    $("badge").setAttribute("aria-label", `${b.unread} new, ${n} waiting for a reply`);
    document.title = (n ? `(${n}) ` : "") + "Conversations · Parley";
  }
  function list() {
    const ul = $("list");
    // The list is drawn again after changes: keep the keyboard's place in it.
    const focused = ul.contains(document.activeElement) ? document.activeElement.dataset.id : null;
    ul.textContent = "";
    $("empty").hidden = rows.length > 0;
    $("empty").textContent = state.q ? "No conversation matches “" + state.q + "”." : "No conversations here.";
    for (const r of rows) {
      const marker = r.unread ? "unread" : r.unanswered ? "unanswered" : "";
      const li = el("li", marker);
      const b = el("button");
      b.type = "button";
      b.dataset.id = r.id;
      b.setAttribute("aria-current", String(r.id === current));
      const label = marker === "unread" ? "New" : marker === "unanswered" ? "Waiting for a reply" : "";
      const who = el("span", "name", nameOf(r.visitor));
      const dot = el("span", "dot");
      if (label) { dot.title = label; dot.setAttribute("aria-label", label); }
      const assignee = r.bot_active ? "A bot is answering" : r.assignee_id ? (member(r.assignee_id) || {}).name || "Assigned" : "Unassigned";
      // Commas only screen readers hear, so the row is named as one sentence rather than
      // the parts run together ("Rita, New, 09:41, Hi there, Unassigned").
      const pause = () => el("span", "sr", ", ");
      b.append(dot, who);
      if (label) b.append(pause(), el("span", "sr", label));
      b.append(pause(), el("span", "when", time(r.last_activity_at)), pause(), el("span", "last", r.last_preview),
        pause(), el("span", "assignee", assignee + (r.ref ? ` · from ${r.ref}` : "")));
      b.onclick = () => select(r.id);
      li.append(b);
      ul.append(li);
      if (r.id === focused) b.focus();
    }
  }
  // Move the keyboard's focus in the list (it opens nothing: Enter does).
  function moveFocus(step) {
    const buttons = [...$("list").querySelectorAll("button")];
    if (!buttons.length) return;
    const at = buttons.indexOf(document.activeElement);
    const from = at >= 0 ? at : buttons.findIndex((b) => b.dataset.id === current);
    const to = from < 0 ? 0 : Math.max(0, Math.min(buttons.length - 1, from + step));
    buttons[to].focus();
  }
  function focusRow() {
    const row = $("list").querySelector(`button[data-id="${CSS.escape(current || "")}"]`) || $("list").querySelector("button");
    if (row) row.focus();
  }

  // -- one conversation ----------------------------------------------------------------
  function select(id) {
    current = id;
    const c = conv(id);
    $("view").hidden = false;
    $("nothing").hidden = true;
    document.body.classList.add("reading"); // on a phone, the conversation takes the screen
    $("contact").hidden = false;
    $("typing").textContent = "";
    $("text").value = "";
    counter();
    head();
    if (c.events) { render(true); read(c); } else load(c);
    contact(c);
    list();
    $("text").focus();
  }

  async function load(c, again) {
    let page;
    try { page = await api(`/api/v1/conversations/${encodeURIComponent(c.id)}/events?limit=50`); } catch (e) { problem(e.message); return; }
    if (!c.events || again) c.events = new Map();
    Object.assign(c, {
      status: page.conversation.status, assignee_id: page.conversation.assignee_id, theirRead: page.conversation.visitor_read_seq,
      snoozed_until: page.conversation.snoozed_until, closed_at: page.conversation.closed_at, closed_by: page.conversation.closed_by,
      tags: page.conversation.tags,
    });
    for (const e of page.events) apply(c, e);
    c.oldest = page.events.length ? page.events[0].seq : null;
    c.hasEarlier = page.has_more;
    if (c.id === current) { head(); render(true); read(c); }
  }
  async function earlier() {
    const c = conv(current);
    if (!c.oldest) return;
    const box = $("messages");
    const from = box.scrollHeight - box.scrollTop;
    const page = await api(`/api/v1/conversations/${encodeURIComponent(c.id)}/events?limit=50&before=${c.oldest}`);
    for (const e of page.events) apply(c, e);
    if (page.events.length) c.oldest = page.events[0].seq;
    c.hasEarlier = page.has_more;
    render();
    box.scrollTop = box.scrollHeight - from;
  }

  // Read up to the visitor's last message.
  function read(c) {
    if (c.theirs && c.theirs > (c.readSent || 0) && send({ type: "conversation.read", conversation_id: c.id, up_to_seq: c.theirs })) {
      c.readSent = c.theirs;
    }
  }

  function head() {
    const c = conv(current);
    $("conv-title").textContent = nameOf(c.visitor);
    $("toggle-status").textContent = c.status === "closed" ? "Reopen" : "Close";
    const who = (u) => u.name + (u.id === me ? " (me)" : u.online ? "" : " · offline");
    const assigned = member(c.assignee_id);
    $("assignee").textContent = "Assignee: " + (c.assignee_id ? (assigned ? who(assigned) : "an agent") : "Unassigned");
    const items = $("assignee-menu");
    items.textContent = "";
    for (const [id, name] of [["", "Unassigned"], ...team.filter((u) => u.is_active).map((u) => [u.id, who(u)])]) {
      const item = el("button", null, name);
      item.type = "button";
      item.setAttribute("role", "menuitemradio");
      item.setAttribute("aria-checked", String((c.assignee_id || "") === id));
      item.onclick = () => { closeMenus(); update({ assignee_id: id || null }); };
      items.append(item);
    }
    const p = $("conv-state");
    p.className = "state";
    if (c.status === "closed") {
      const by = (member(c.closed_by) || {}).name || c.closedName || "someone";
      p.textContent = `Closed by ${by} on ${c.closed_at ? stamp(c.closed_at) : "?"}. Writing reopens it.`;
    } else if (c.status === "snoozed") {
      p.textContent = `Snoozed until ${stamp(c.snoozed_until)}. It comes back then, or when the visitor writes.`;
    } else p.textContent = "";
  }

  function render(toBottom) {
    const c = conv(current);
    const box = $("messages");
    const stick = toBottom || box.scrollHeight - box.scrollTop - box.clientHeight < 60;
    const out = $("events");
    out.textContent = "";
    $("earlier").hidden = !c.hasEarlier;
    let day = "";
    const events = [...(c.events || new Map()).values()].sort((a, b) => a.seq - b.seq);
    for (const e of events) {
      const d = new Date(e.at).toLocaleDateString([], { weekday: "short", day: "numeric", month: "short", year: "numeric" });
      if (d !== day) { out.append(el("p", "day", d)); day = d; }
      if (e.type === "message.created" || e.type === "note.created") {
        const m = e.message;
        const kind = e.type === "note.created" ? "note" : m.author.type;
        const row = el("div", "msg " + kind);
        row.dataset.seq = e.seq;
        const who = kind === "visitor" ? nameOf(c.visitor) : kind === "system" ? m.author.name || "Automatic message" : m.author.name || "Agent";
        if (kind === "note") row.append(el("span", "label", "Internal note · not sent to the visitor"));
        row.append(linked(el("p", "text"), m.text));
        if (m.buttons) { // a bot's quick replies, as the visitor saw them
          const chips = el("p", "chips");
          for (const b of m.buttons) chips.append(el("span", "chip", b));
          row.append(chips);
        }
        for (const a of m.attachments || []) { // files on this server; names are text
          const link = el("a", "file");
          link.href = a.url;
          link.target = "_blank";
          link.rel = "noopener";
          if (a.content_type.startsWith("image/")) { const img = el("img"); img.src = a.url; img.alt = a.name; link.append(img); }
          else link.textContent = `📎 ${a.name} (${Math.max(1, Math.round(a.size / 1024))} KB)`;
          row.append(link);
        }
        let meta = `${who} · ${stamp(m.created_at)}`;
        if (kind === "agent") meta += m.seq <= c.theirRead ? ` · ✓✓ Read${c.readAt ? " " + time(c.readAt) : ""}` : " · ✓ Sent";
        row.append(el("span", "meta", meta));
        out.append(row);
      } else if (e.type === "conversation.updated") {
        const by = (e.by && (e.by.name || e.by.type)) || "";
        let what;
        if (e.status === "closed") what = `Closed by ${by}`;
        else if (e.status === "snoozed") what = `Snoozed by ${by} until ${stamp(e.snoozed_until)}`;
        else if (e.handoff) what = `Handed to agents by ${by}`;
        else if (e.assignee_id) what = `Assigned to ${(member(e.assignee_id) || {}).name || "an agent"} by ${by}`;
        else what = e.by && e.by.type === "visitor" ? "Reopened by the visitor" : `Open · unassigned by ${by}`;
        out.append(el("p", "sys", `${what} · ${time(e.at)}`));
      }
    }
    if (stick) box.scrollTop = box.scrollHeight;
  }

  async function contact(c) {
    const box = $("contact");
    box.textContent = "";
    let info;
    try { info = await api(`/api/v1/conversations/${encodeURIComponent(c.id)}/contact`); } catch (e) { box.append(el("p", "muted", e.message)); return; }
    if (c.id !== current) return;
    const v = info.visitor;
    c.visitor = Object.assign(c.visitor || {}, { id: v.id, name: v.name, email: v.email, phone: v.phone });
    head();
    window.ParleyPanel.draw(box, info, { el, api, nameOf, stamp, open: select });
  }

  // -- the composer ---------------------------------------------------------------------
  function counter() {
    const n = $("text").value.length;
    $("count").textContent = n > 900 ? `${1000 - n} characters left` : "";
  }
  function submit() {
    const text = $("text").value;
    if (!text.trim() || !current) return;
    const type = state.mode === "note" ? "note.add" : "message.send";
    if (!send({ type, client_id: crypto.randomUUID(), conversation_id: current, text })) { problem("Not connected; try again in a moment."); return; }
    if (type === "message.send") send({ type: "typing.update", conversation_id: current, active: false });
    typingSent = 0;
    $("text").value = "";
    counter();
    closeCanned();
  }
  function mode(m) {
    state.mode = m;
    for (const b of document.querySelectorAll("[data-mode]")) b.setAttribute("aria-pressed", String(b.dataset.mode === m));
    $("text-label").textContent = m === "note" ? "Internal note" : "Reply";
    $("composer").classList.toggle("noting", m === "note");
    $("text").placeholder = m === "note" ? "Internal note… only agents see it" : "Reply… (Enter sends, Shift+Enter for a new line, / for canned responses)";
    $("text").focus();
  }

  // Canned responses: "/short" at the start of a word offers matches; Tab or Enter inserts.
  function cannedQuery() {
    const t = $("text");
    const before = t.value.slice(0, t.selectionStart);
    const m = /(^|\s)\/([\w-]*)$/.exec(before);
    return m ? m[2].toLowerCase() : null;
  }
  function showCanned() {
    const q = cannedQuery();
    const ul = $("canned");
    const found = q === null ? [] : canned.filter((c) => c.shortcut.startsWith(q)).slice(0, 6);
    ul.textContent = "";
    ul.hidden = !found.length;
    pick = found.length ? Math.max(0, Math.min(pick, found.length - 1)) : -1;
    found.forEach((c, i) => {
      const li = el("li", null);
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", String(i === pick));
      li.append(el("strong", null, "/" + c.shortcut), el("span", null, " " + c.text));
      li.onmousedown = (e) => { e.preventDefault(); insertCanned(c); };
      ul.append(li);
    });
    ul.found = found;
  }
  function closeCanned() { $("canned").hidden = true; pick = -1; }
  function insertCanned(c) {
    const t = $("text");
    const before = t.value.slice(0, t.selectionStart).replace(/\/[\w-]*$/, "");
    const after = t.value.slice(t.selectionStart);
    t.value = (before + c.text + after).slice(0, 1000);
    t.selectionStart = t.selectionEnd = Math.min(t.value.length, before.length + c.text.length);
    closeCanned();
    counter();
  }

  $("composer").addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  $("text").addEventListener("keydown", (e) => {
    const ul = $("canned");
    if (!ul.hidden && ul.found && ul.found.length) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        pick = (pick + (e.key === "ArrowDown" ? 1 : ul.found.length - 1)) % ul.found.length;
        showCanned();
        return;
      }
      if (e.key === "Tab" || (e.key === "Enter" && !e.shiftKey)) { e.preventDefault(); insertCanned(ul.found[Math.max(0, pick)]); return; }
      if (e.key === "Escape") { e.preventDefault(); closeCanned(); return; }
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
  });
  $("text").addEventListener("input", () => {
    counter();
    showCanned();
    if (!current || state.mode === "note" || Date.now() - typingSent < 3000) return;
    typingSent = Date.now();
    send({ type: "typing.update", conversation_id: current, active: true });
  });
  $("text").addEventListener("blur", () => setTimeout(closeCanned, 100));
  for (const b of document.querySelectorAll("[data-mode]")) b.onclick = () => mode(b.dataset.mode);

  // -- actions ---------------------------------------------------------------------
  function update(changes) { if (!send(Object.assign({ type: "conversation.update", conversation_id: current }, changes))) problem("Not connected; try again in a moment."); }
  $("toggle-status").addEventListener("click", () => update({ status: conv(current).status === "closed" ? "open" : "closed" }));
  const closeMenus = window.ParleyMenus.close;
  for (const item of document.querySelectorAll("[data-snooze]")) item.addEventListener("click", () => {
    closeMenus();
    const v = item.dataset.snooze;
    const d = new Date();
    if (v === "1h") d.setHours(d.getHours() + 1);
    else if (v === "4h") d.setHours(d.getHours() + 4);
    else if (v === "tomorrow") { d.setDate(d.getDate() + 1); d.setHours(9, 0, 0, 0); }
    else { d.setDate(d.getDate() + ((8 - d.getDay()) % 7 || 7)); d.setHours(9, 0, 0, 0); }
    update({ status: "snoozed", snoozed_until: d.toISOString() });
  });
  $("earlier").addEventListener("click", earlier);
  $("back").addEventListener("click", () => { document.body.classList.remove("reading"); focusRow(); });
  $("attach").addEventListener("click", () => $("file").click());
  $("file").addEventListener("change", async () => {
    const file = $("file").files[0];
    $("file").value = "";
    if (!file || !current) return;
    $("count").textContent = "Uploading " + file.name + "…";
    const r = await fetch(`/api/v1/conversations/${encodeURIComponent(current)}/attachments`, {
      method: "POST", body: file,
      headers: { "X-CSRF-Token": csrf, "Content-Type": file.type || "application/octet-stream", "X-Filename": encodeURIComponent(file.name) },
    });
    const body = await r.json();
    $("count").textContent = r.ok ? "" : body.message;
    if (r.ok && !send({ type: "message.send", client_id: crypto.randomUUID(), conversation_id: current, text: "", attachments: [body.id] })) {
      problem("Not connected; try again in a moment.");
    }
  });
  $("more").addEventListener("click", () => refresh(true));

  for (const b of document.querySelectorAll("[data-view], [data-status]")) {
    b.addEventListener("click", () => {
      const key = b.dataset.view ? "view" : "status";
      state[key] = b.dataset[key];
      for (const o of document.querySelectorAll(`[data-${key}]`)) o.setAttribute("aria-pressed", String(o === b));
      refresh();
    });
  }
  let searchTimer = null;
  $("search").addEventListener("input", (e) => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { state.q = e.target.value.trim(); refresh(); }, 150);
  });
  // The keyboard model (shown by ?): j/k or ↑/↓ move in the list, Enter opens, Escape
  // leaves the reply box, / searches, e closes or reopens, a assigns to me.
  $("list").addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") { e.preventDefault(); moveFocus(e.key === "ArrowDown" ? 1 : -1); }
  });
  $("text").addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !e.defaultPrevented) { e.preventDefault(); focusRow(); }
  });
  document.addEventListener("keydown", (e) => {
    if (e.target.closest("textarea, input, select, dialog") || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "/") { e.preventDefault(); $("search").focus(); }
    else if (e.key === "?") { e.preventDefault(); $("keys").showModal(); }
    else if (e.key === "j" || e.key === "k") { e.preventDefault(); moveFocus(e.key === "j" ? 1 : -1); }
    else if (e.key === "e" && current) update({ status: conv(current).status === "closed" ? "open" : "closed" });
    else if (e.key === "a" && current) update({ assignee_id: me });
  });

  $("logout").addEventListener("click", async () => {
    await api("/api/v1/auth/logout", { method: "POST" }).catch(() => {});
    location.href = "/login?next=/agent";
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && current) { read(conv(current)); soon(); }
  });

  // Who can be assigned (and who is online): on every (re)connect.
  function loadTeam() {
    api("/api/v1/team").then((t) => { team = t.users; list(); if (current) head(); }).catch(() => {});
  }
  api("/api/v1/canned-responses").then((c) => (canned = c.canned_responses)).catch(() => {});
  connect();
  // "Add contact" from the inbox (contact_add.js), for restricted agents too.
  const adding = document.getElementById("add-contact-open");
  if (adding && window.ParleyAddContact) adding.addEventListener("click", () => window.ParleyAddContact.open());
  // /agent#c=ID (a contact's page links here): open that conversation.
  const wanted = new URLSearchParams(location.hash.slice(1)).get("c");
  if (wanted) select(wanted);
})();
