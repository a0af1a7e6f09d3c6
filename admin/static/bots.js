// Bots: a site's answers; edit one's flow (JSON, outlined), save, publish, and preview it
// as a visitor would through the preview API (the server's own step function).
// Everything people typed is set with textContent or as form values, never as HTML.
"use strict";
(function () {
  const root = document.getElementById("bots");
  const site = root.dataset.site;
  const $ = (id) => document.getElementById(id);
  const edit = $("edit");
  let current = null;
  let preview = null; // {state, status}

  const { el, api } = window.ParleyPage;
  function status(text, ok) { $("edit-status").textContent = text; $("edit-status").className = "status-line " + (ok ? "ok" : "bad"); }

  async function list() {
    const d = await api(`/api/v1/sites/${site}/bot-answers`);
    const body = document.querySelector("#answers tbody");
    body.textContent = "";
    for (const a of d.answers) {
      const tr = el("tr");
      const open = el("button", a.name, { type: "button", class: "link" });
      open.onclick = () => load(a.id);
      const name = el("td");
      name.append(open);
      const state = a.published ? `published v${a.version}` : a.version ? `unpublished (v${a.version})` : "draft";
      tr.append(name, el("td", a.bot_name), el("td", state));
      body.append(tr);
    }
  }

  async function load(id) {
    const a = await api(`/api/v1/bot-answers/${id}`);
    current = a;
    edit.hidden = false;
    $("edit-h").textContent = a.name;
    edit.elements.name.value = a.name;
    edit.elements.bot_name.value = a.bot_name;
    $("flow").value = JSON.stringify(a.draft, null, 2);
    $("flow").removeAttribute("aria-invalid");
    status(a.published ? `Published as version ${a.version}. Saving changes the draft only.` : "Draft.", true);
    outline();
    restart();
  }

  function parsed() {
    try { return JSON.parse($("flow").value); } catch (e) { return null; }
  }
  // Where a step leads: [target, why] pairs (an option's label, a case, "else", "no match").
  function leads(s) {
    const out = [];
    if (s.next) out.push([s.next, ""]);
    for (const o of s.options || []) out.push([o.next, o.label]);
    for (const c of s.cases || []) out.push([c.next, `if ${c.when && c.when.field} ${c.when && c.when.op} ${c.when && c.when.value != null ? c.when.value : ""}`.trim()]);
    if (s.else) out.push([s.else, "else"]);
    if (s.fallback) out.push([s.fallback, "no match"]);
    return out.filter(([to]) => to);
  }
  function outline() {
    const ol = $("outline");
    ol.textContent = "";
    const flow = parsed();
    if (!flow || typeof flow.steps !== "object") { ol.append(el("li", "The flow is not valid JSON yet.")); draw(null); return; }
    for (const [id, s] of Object.entries(flow.steps)) {
      const li = el("li", null, { class: "step" });
      const head = (id === flow.start ? "▶ " : "") + `${id}: ${s.type}`;
      const b = el("button", head, { type: "button", class: "link", "aria-label": `${head}, edit` });
      b.onclick = () => pick(id, s, flow.start === id);
      const x = el("button", "Remove", { type: "button", class: "btn btn-small btn-danger", "aria-label": `Remove step ${id}`,
        "data-confirm": `Remove the step “${id}” from the draft? Steps that lead to it will need another next step.` });
      x.onclick = () => {
        delete flow.steps[id];
        if (flow.start === id) flow.start = Object.keys(flow.steps)[0] || "";
        $("flow").value = JSON.stringify(flow, null, 2);
        outline();
        status(`Step ${id} is out of the draft; Save draft checks the whole flow.`, true);
      };
      li.append(b, x);
      if (s.text) li.append(el("p", s.text, { class: "said" }));
      const to = leads(s);
      if (to.length) li.append(el("p", "→ " + to.map(([t, why]) => (why ? `${why}: ${t}` : t)).join(" · "), { class: "muted" }));
      ol.append(li);
    }
    draw(flow);
  }

  // -- the diagram: steps in columns by their distance from the start, arrows where they lead ------
  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text != null) e.textContent = text;
    return e;
  }
  function draw(flow) {
    const box = $("diagram");
    box.textContent = "";
    if (!flow || !flow.steps || !Object.keys(flow.steps).length) return;
    const ids = Object.keys(flow.steps);
    const depth = {};
    const queue = flow.steps[flow.start] ? [flow.start] : [];
    if (queue.length) depth[flow.start] = 0;
    while (queue.length) {
      const id = queue.shift();
      for (const [to] of leads(flow.steps[id])) if (flow.steps[to] && !(to in depth)) { depth[to] = depth[id] + 1; queue.push(to); }
    }
    const last = Math.max(-1, ...Object.values(depth)) + 1;
    for (const id of ids) if (!(id in depth)) depth[id] = last; // not reached from the start
    const columns = [];
    for (const id of ids.slice().sort((a, b) => depth[a] - depth[b])) (columns[depth[id]] = columns[depth[id]] || []).push(id);
    const W = 150, H = 46, GX = 70, GY = 22, at = {};
    columns.forEach((col, c) => col.forEach((id, r) => { at[id] = { x: c * (W + GX), y: r * (H + GY) }; }));
    const width = columns.length * (W + GX) - GX, height = Math.max(...columns.map((c) => c.length)) * (H + GY) - GY;
    const said = [];
    const s = svg("svg", { viewBox: `-4 -4 ${width + 8} ${height + 8}`, width: String(width + 8), role: "img", "aria-labelledby": "diagram-t diagram-d" });
    s.append(svg("title", { id: "diagram-t" }, "Where each step leads"));
    const desc = svg("desc", { id: "diagram-d" });
    s.append(desc);
    const defs = svg("defs");
    const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
    marker.append(svg("path", { d: "M0 0L10 5L0 10z", fill: "#475569" }));
    defs.append(marker);
    s.append(defs);
    for (const id of ids) {
      const to = leads(flow.steps[id]).filter(([t]) => flow.steps[t]);
      said.push(to.length ? `${id} leads to ${to.map(([t, why]) => (why ? `${t} (${why})` : t)).join(", ")}` : `${id} ends there`);
      for (const [t, why] of to) {
        const a = at[id], b = at[t];
        let x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, d;
        if (a.x === b.x && a.y !== b.y) { // the same column: from one box's edge to the other's, straight
          const down = b.y > a.y;
          x1 = x2 = a.x + W / 2;
          y1 = down ? a.y + H : a.y;
          y2 = down ? b.y : b.y + H;
          d = `M${x1} ${y1}L${x2} ${y2}`;
        } else {
          const bend = x2 > x1 ? (x2 - x1) / 2 : 60;
          d = `M${x1} ${y1}C${x1 + bend} ${y1} ${x2 - bend} ${y2} ${x2} ${y2}`;
        }
        s.append(svg("path", { d, fill: "none", stroke: "#475569", "stroke-width": "1.5", "marker-end": "url(#arrow)" }));
        if (why) s.append(svg("text", { x: String((x1 + x2) / 2 + (x1 === x2 ? 6 : 0)), y: String((y1 + y2) / 2 - 4), "text-anchor": x1 === x2 ? "start" : "middle", "font-size": "10", fill: "#374151" }, why.length > 14 ? why.slice(0, 13) + "…" : why));
      }
    }
    for (const id of ids) {
      const { x, y } = at[id];
      const g = svg("g");
      const reached = depth[id] < last || id === flow.start;
      g.append(svg("rect", { x: String(x), y: String(y), width: String(W), height: String(H), rx: "8",
        fill: id === flow.start ? "#eff6ff" : "#fff", stroke: reached ? "#1d4ed8" : "#b91c1c", "stroke-dasharray": reached ? "" : "4 3" }));
      g.append(svg("text", { x: String(x + 10), y: String(y + 19), "font-size": "13", "font-weight": "600", fill: "#111827" }, (id === flow.start ? "▶ " : "") + (id.length > 18 ? id.slice(0, 17) + "…" : id)));
      g.append(svg("text", { x: String(x + 10), y: String(y + 36), "font-size": "11", fill: "#374151" }, flow.steps[id].type + (reached ? "" : " · not reached")));
      s.append(g);
    }
    desc.textContent = said.join("; ") + ".";
    box.append(s);
  }

  // -- the step form: builds a step without writing JSON by hand -----------------------------------
  const sf = () => document.getElementById("step-form").elements;
  function showFields() {
    const type = sf().type.value;
    for (const l of document.querySelectorAll("#step-form [data-for]")) l.hidden = !l.dataset.for.split(" ").includes(type);
    sf().next.closest("label").hidden = !["message", "collect", "set", "wait"].includes(type);
  }
  function pick(id, s, isStart) {
    const f = sf();
    f.id.value = id;
    f.type.value = s.type;
    f.next.value = s.next || "";
    f.text.value = s.text || "";
    f.options.value = (s.options || []).map((o) => `${o.label} | ${(o.keywords || []).join(", ")} | ${o.next}`).join("\n");
    f.fallback.value = s.fallback || "";
    const attr = (s.field || "").startsWith("attribute.");
    f.field.value = attr ? "attribute." : s.field || "name";
    f.attribute.value = attr ? s.field.slice(10) : "";
    f.invalid_text.value = s.invalid_text || "";
    f.tags.value = (s.tags || []).join(", ");
    f.cases.value = (s.cases || []).map((c) => `${c.when.field} | ${c.when.op} | ${c.when.value == null ? "" : c.when.value} | ${c.next}`).join("\n");
    f.else.value = s.else || "";
    f.seconds.value = s.seconds || "";
    f.start.checked = isStart;
    showFields();
    f.id.focus();
  }
  function built() {
    const f = sf();
    const type = f.type.value;
    const s = { type };
    const put = (k, v) => { if (v !== "" && v != null) s[k] = v; };
    if (["message", "collect", "set", "wait"].includes(type)) put("next", f.next.value.trim());
    if (["message", "buttons", "collect", "handoff", "end"].includes(type)) put("text", f.text.value.trim());
    if (type === "buttons") {
      s.options = f.options.value.split("\n").filter((l) => l.trim()).map((line) => {
        const [label, keywords, next] = line.split("|").map((x) => (x || "").trim());
        return { label, keywords: keywords ? keywords.split(",").map((k) => k.trim()).filter(Boolean) : [], next };
      });
      put("fallback", f.fallback.value.trim());
    }
    if (type === "collect") {
      s.field = f.field.value === "attribute." ? "attribute." + f.attribute.value.trim() : f.field.value;
      put("invalid_text", f.invalid_text.value.trim());
    }
    if (type === "set" || type === "handoff") {
      const tags = f.tags.value.split(",").map((t) => t.trim()).filter(Boolean);
      if (tags.length) s.tags = tags;
    }
    if (type === "branch") {
      s.cases = f.cases.value.split("\n").filter((l) => l.trim()).map((line) => {
        const [field, op, value, next] = line.split("|").map((x) => (x || "").trim());
        return { when: { field, op, value }, next };
      });
      put("else", f.else.value.trim());
    }
    if (type === "wait") s.seconds = Number(f.seconds.value);
    return s;
  }
  document.getElementById("step-form").elements.type.addEventListener("change", showFields);
  document.getElementById("put-step").addEventListener("click", () => {
    const id = sf().id.value.trim();
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(id)) { status("A step id is 1 to 40 letters, digits, - or _.", false); sf().id.focus(); return; }
    const flow = parsed() || { start: id, steps: {} };
    flow.steps = flow.steps || {};
    flow.steps[id] = built();
    if (sf().start.checked || !flow.start) flow.start = id;
    $("flow").value = JSON.stringify(flow, null, 2);
    outline();
    status(`Step ${id} is in the draft; Save draft checks the whole flow.`, true);
  });
  showFields();
  $("flow").addEventListener("input", outline);

  async function save(extra) {
    const flow = parsed();
    if (!flow) { status("The flow is not valid JSON: check commas and quotes.", false); $("flow").setAttribute("aria-invalid", "true"); return false; }
    try {
      const a = await api(`/api/v1/bot-answers/${current.id}`, "PATCH", Object.assign({ flow, name: edit.elements.name.value, bot_name: edit.elements.bot_name.value }, extra || {}));
      current = a;
      $("flow").removeAttribute("aria-invalid");
      const broken = a.messages_with_errors && a.messages_with_errors.length ? ` ${a.messages_with_errors.length} proactive message(s) now have errors.` : "";
      status((a.published ? `Saved. Published as version ${a.version}.` : "Saved as a draft.") + broken, true);
      list();
      return true;
    } catch (e) {
      status(e.where ? `${e.where}: ${e.message.replace(e.where + ": ", "")}` : e.message, false);
      $("flow").setAttribute("aria-invalid", "true");
      return false;
    }
  }
  edit.addEventListener("submit", (e) => { e.preventDefault(); save(); });
  $("publish").onclick = () => save({ published: true });
  $("unpublish").onclick = () => save({ published: false });
  $("delete").onclick = async () => {
    const sure = await window.ParleyConfirm.ask(`Delete “${current.name}”? Proactive messages that start it will show errors.`, "Delete");
    if (!sure) return;
    await api(`/api/v1/bot-answers/${current.id}`, "DELETE");
    window.ParleyConfirm.toast(`Deleted “${current.name}”.`);
    edit.hidden = true;
    current = null;
    list();
  };
  $("new-answer").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target;
    try {
      const a = await api(`/api/v1/sites/${site}/bot-answers`, "POST", { name: f.elements.name.value });
      f.reset();
      await list();
      load(a.id);
    } catch (err) { f.querySelector(".status-line").textContent = err.message; }
  });

  // -- preview: the draft in the text box, run by the server, stored nowhere ------------------
  function line(cls, text) { const p = el("div", text, { class: cls }); $("preview").append(p); $("preview").scrollTop = 1e9; return p; }
  async function step(text) {
    const flow = parsed();
    if (!flow) { line("s", "The flow is not valid JSON."); return; }
    const body = { flow };
    if (preview) { body.state = preview.state; body.text = text; }
    if (text != null) line("v", text);
    let r;
    try { r = await api(`/api/v1/bot-answers/${current.id}/preview`, "POST", body); } catch (e) { line("s", (e.where ? e.where + ": " : "") + e.message); return; }
    for (const b of $("preview").querySelectorAll(".qr")) b.remove();
    for (const said of r.say) {
      line("b", said.text);
      if (said.buttons) {
        const qr = el("div", null, { class: "qr" });
        for (const label of said.buttons) { const q = el("button", label, { type: "button" }); q.onclick = () => step(label); qr.append(q); }
        $("preview").append(qr);
      }
    }
    if (r.status === "waiting_time") {
      line("s", `(waits ${r.wait_s} s${r.wait_s > 3 ? "; the preview waits 3" : ""})`);
      setTimeout(() => { if (preview && preview.state === r.state) step(null); }, Math.min(3, r.wait_s) * 1000);
    }
    if (r.status === "handed_off") line("s", "(handed off to agents" + (r.handoff.tags && r.handoff.tags.length ? `, tagged ${r.handoff.tags.join(", ")}` : "") + ")");
    if (r.status === "ended") line("s", "(the flow ended)");
    const learnt = Object.entries(r.contact).filter(([, v]) => v && (typeof v !== "object" || Object.keys(v).length));
    if (learnt.length) line("s", "Contact: " + learnt.map(([k, v]) => `${k} ${typeof v === "object" ? JSON.stringify(v) : v}`).join(" · "));
    preview = r.status === "ended" || r.status === "handed_off" ? null : { state: r.state };
  }
  function restart() { $("preview").textContent = ""; preview = null; if (current) step(null); }
  $("restart").onclick = restart;
  $("try").addEventListener("submit", (e) => {
    e.preventDefault();
    const t = $("try-text").value.trim();
    if (!t || !current) return;
    $("try-text").value = "";
    if (!preview) { restart(); return; }
    step(t);
  });
  list();
})();
