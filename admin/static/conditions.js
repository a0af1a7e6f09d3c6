// The condition builder, the editor's main surface for rules: groups ("all of these",
// "any of these") inside groups, each condition a field with its own operators and a
// fitting input (a number with its unit, a yes/no, a device list, languages). It writes
// the JSON the form posts; "Advanced" shows that JSON, and editing it rebuilds the rows.
// The server checks everything again. Text is set as text, never as HTML.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("builder");
  const json = document.getElementById("conditions");
  const advanced = document.getElementById("advanced");
  if (!box || !json) return;
  const schema = JSON.parse(box.dataset.schema);
  const byName = Object.fromEntries(schema.fields.map((f) => [f.name, f]));
  let lists = 0;

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v != null) e.setAttribute(k, v);
    if (text != null) e.textContent = text;
    return e;
  }
  function button(text, label, onclick) {
    const b = el("button", { type: "button", class: "btn btn-small", "aria-label": label }, text);
    b.addEventListener("click", onclick);
    return b;
  }
  function fieldOf(name) {
    if (byName[name]) return byName[name];
    if (name.startsWith("event.")) return byName["event."];
    if (name.startsWith("attribute.")) return byName["attribute."];
    return null;
  }
  // Numbers and booleans as JSON types, for attributes (any type); the server checks each.
  function typed(raw) {
    if (raw === "true" || raw === "false") return raw === "true";
    return raw !== "" && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
  }

  function leaf(item) {
    const row = el("div", { class: "cond" });
    const field = el("select", { "aria-label": "Field" });
    const groups = {};
    for (const f of schema.fields) {
      if (!groups[f.group]) field.append((groups[f.group] = el("optgroup", { label: f.group })));
      groups[f.group].append(el("option", { value: f.name }, f.label));
    }
    const known = fieldOf(item.field) || byName["page.path"];
    field.value = known.name;
    const name = el("input", { "aria-label": known.family ? cap(known.family) : "Name", spellcheck: "false", maxlength: "60" });
    if (known.family) name.value = item.field.slice(known.name.length);
    const op = el("select", { "aria-label": "Operator" });
    const slot = el("span", { class: "value" });
    const remove = button("✕", "Remove condition", () => { row.remove(); write(); });
    row.append(field, name, op, slot, remove);
    let value = null;

    function ops(f, wanted) {
      // A field of a few words (a device) is one of them or not; the rest have all their type's.
      const offered = schema.operators[f.type].filter(([o]) => !f.strict || o === "is" || o === "is_not");
      op.textContent = "";
      for (const [o, label] of offered) op.append(el("option", { value: o }, label));
      op.value = offered.some(([o]) => o === wanted) ? wanted : offered[0][0];
    }
    function input(f, current) {
      slot.textContent = "";
      if (op.value === "is_set") { value = null; return; }
      if (f.type === "boolean") {
        value = el("select", { "aria-label": "Value" });
        value.append(el("option", { value: "true" }, "Yes"), el("option", { value: "false" }, "No"));
        value.value = current === false ? "false" : "true";
      } else if (f.strict) {
        value = el("select", { "aria-label": "Value" });
        for (const c of f.choices) value.append(el("option", { value: c }, cap(c)));
        if (f.choices.includes(current)) value.value = current;
      } else {
        const number = f.type === "number";
        value = el("input", { "aria-label": "Value", type: number ? "number" : "text", min: number ? "0" : null, spellcheck: "false" });
        if (f.choices.length) {
          const list = el("datalist", { id: `choices-${++lists}` });
          for (const c of f.choices) list.append(el("option", { value: c }));
          value.setAttribute("list", list.id);
          slot.append(list);
        }
        value.value = current == null ? "" : String(current);
      }
      slot.append(value);
      if (f.unit) slot.append(el("span", { class: "unit" }, " " + f.unit));
    }
    function show(f, wantedOp, current) {
      name.hidden = !f.family;
      if (f.family) name.setAttribute("aria-label", cap(f.family));
      ops(f, wantedOp);
      input(f, current);
    }
    show(known, item.op, item.value);
    field.addEventListener("change", () => { show(fieldOf(field.value), op.value, value && value.value); write(); });
    op.addEventListener("change", () => { input(fieldOf(field.value), value && value.value); write(); });
    row.addEventListener("input", (e) => { if (e.target !== field && e.target !== op) write(); });
    row.read = () => {
      const f = fieldOf(field.value);
      const out = { field: f.family ? f.name + name.value.trim() : f.name, op: op.value };
      if (op.value === "is_set") return out;
      const raw = value.value.trim();
      out.value = f.type === "number" ? (raw === "" ? raw : Number(raw)) : f.type === "boolean" ? raw === "true" : f.type === "any" ? typed(raw) : raw;
      return out;
    };
    return row;
  }

  function group(node, depth) {
    const kind = "any" in node ? "any" : "all";
    const g = el("div", { class: "group", role: "group", "aria-label": depth === 1 ? "Conditions" : "A group of conditions" });
    const head = el("div", { class: "group-head" });
    const match = el("select", { "aria-label": "Match" });
    match.append(el("option", { value: "all" }, "All of these"), el("option", { value: "any" }, "Any of these"));
    match.value = kind;
    match.addEventListener("change", write);
    head.append(el("span", {}, depth === 1 ? "Show it when" : "A group:"), match);
    if (depth > 1) head.append(button("Remove group", "Remove this group", () => { g.remove(); write(); }));
    const items = el("div", { class: "items" });
    for (const item of node[kind] || []) items.append("field" in item ? leaf(item) : group(item, depth + 1));
    const foot = el("div", { class: "group-foot" });
    foot.append(button("Add condition", null, () => {
      const r = leaf({ field: "page.path", op: "starts_with", value: "" });
      items.append(r);
      r.querySelector("select").focus();
      write();
    }));
    if (depth < schema.max_depth) {
      foot.append(button("Add group", null, () => {
        const inner = group({ any: [{ field: "page.path", op: "starts_with", value: "" }] }, depth + 1);
        items.append(inner);
        inner.querySelector("select").focus();
        write();
      }));
    }
    const empty = el("p", { class: "muted empty" }, depth === 1 ? "No conditions: it shows to every visitor." : "An empty group holds always.");
    g.append(head, items, empty, foot);
    g.read = () => {
      const parts = [...items.children].map((c) => c.read());
      empty.hidden = parts.length > 0;
      return { [match.value]: parts };
    };
    return g;
  }

  function cap(text) { return text.charAt(0).toUpperCase() + text.slice(1); }
  let root = null;
  function write() { json.value = JSON.stringify(root.read(), null, 2); }

  // Rebuild from the JSON; when it does not parse (or is not a tree), say so and keep the JSON open.
  const note = el("p", { class: "alert alert-error", role: "alert", hidden: "" });
  box.before(note);
  function build() {
    let tree;
    try { tree = JSON.parse(json.value || "{}"); } catch { tree = null; }
    if (tree && typeof tree === "object" && !Array.isArray(tree) && Object.keys(tree).length === 0) tree = { all: [] };
    if (!tree || typeof tree !== "object" || !("all" in tree || "any" in tree)) {
      note.textContent = "These conditions are not valid JSON; fix them under Advanced.";
      note.hidden = false;
      box.hidden = true;
      advanced.open = true;
      return;
    }
    note.hidden = true;
    box.textContent = "";
    root = group(tree, 1);
    box.append(root);
    root.read();
    box.hidden = false;
  }
  build();
  if (!box.hidden && !document.querySelector(".flash.bad")) advanced.open = false;
  json.addEventListener("change", build);
});
