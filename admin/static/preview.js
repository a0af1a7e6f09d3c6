// The editor, better with JavaScript: a live preview of the bubble, and a row
// builder for the conditions that writes the same JSON the form posts.
// Text is set as text, never as HTML.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const text = document.getElementById("text");
  const out = document.getElementById("preview-text");
  if (text && out) {
    const update = () => { out.textContent = text.value || "Your message"; };
    text.addEventListener("input", update);
  }
  // Only the fields that apply: seconds for a time trigger, the event's name for an
  // event, the details and follow-up for an agent response, the bot answer for a bot's.
  const form = document.getElementById("editor");
  const applies = () => {
    const trigger = form.elements.trigger_type.value;
    const response = (form.querySelector('input[name="response"]:checked') || {}).value || "agent";
    for (const f of form.querySelectorAll("[data-for-trigger]")) f.hidden = !f.dataset.forTrigger.split(" ").includes(trigger);
    for (const f of form.querySelectorAll("[data-for-response]")) f.hidden = f.dataset.forResponse !== response;
  };
  if (form) {
    form.addEventListener("change", applies);
    applies();
  }
  const box = document.getElementById("builder");
  const json = document.getElementById("conditions");
  if (!box || !json) return;
  const fields = box.dataset.fields.split(",");
  const operators = JSON.parse(box.dataset.operators);
  let tree;
  try { tree = JSON.parse(json.value || '{"all": []}'); } catch { return; }
  const kind = Object.keys(tree)[0];
  const items = tree[kind] || [];
  // Only flat groups fit in rows; nested groups stay in the JSON field.
  if (!["all", "any"].includes(kind) || items.some((i) => !("field" in i))) return;
  const el = (tag, attrs = {}, label) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (label != null) e.textContent = label;
    return e;
  };
  const list = el("datalist", { id: "condition-fields" });
  for (const f of fields) list.append(el("option", { value: f }));
  const match = el("select", { "aria-label": "Match" });
  match.append(el("option", { value: "all" }, "All of these"), el("option", { value: "any" }, "Any of these"));
  match.value = kind;
  const rows = el("div");
  const add = el("button", { type: "button" }, "Add condition");
  box.append(el("strong", {}, "Conditions"), " ", match, list, rows, add);
  box.hidden = false;

  function row(item = { field: "page.path", op: "contains", value: "" }) {
    const r = el("div", { class: "cond" });
    const f = el("input", { list: "condition-fields", "aria-label": "Field", value: item.field });
    const o = el("select", { "aria-label": "Operator" });
    for (const [op, label] of Object.entries(operators)) o.append(el("option", { value: op }, label));
    o.value = item.op;
    const v = el("input", { "aria-label": "Value", value: item.value == null ? "" : String(item.value) });
    const x = el("button", { type: "button", "aria-label": "Remove condition" }, "✕");
    x.addEventListener("click", () => { r.remove(); write(); });
    for (const input of [f, o, v]) input.addEventListener("input", write);
    r.append(f, o, v, x);
    rows.append(r);
    return r;
  }
  // Numbers and booleans as JSON types; the server checks each against its field.
  function typed(raw) {
    if (raw === "true" || raw === "false") return raw === "true";
    return raw !== "" && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
  }
  function write() {
    const conditions = [...rows.children].map((r) => {
      const [f, o, v] = r.querySelectorAll("input, select");
      return o.value === "is_set" ? { field: f.value, op: o.value } : { field: f.value, op: o.value, value: typed(v.value) };
    });
    json.value = JSON.stringify({ [match.value]: conditions }, null, 2);
  }
  items.forEach(row);
  match.addEventListener("change", write);
  add.addEventListener("click", () => { row().querySelector("input").focus(); write(); });
});
