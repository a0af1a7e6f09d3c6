// Import contacts from a CSV: upload it as it is, map its columns, dry-run, import, and
// watch the progress (the job runs on the server and survives a restart). Cells and
// headers from the file are set as text, never as HTML.
"use strict";
(function () {
  const root = document.getElementById("importer");
  const site = root.dataset.site;
  const { el, api } = window.ParleyPage;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);
  const CHOICES = [["ignore", "Ignore"], ["name", "Name"], ["first_name", "First name"], ["last_name", "Last name"],
    ["email", "Email"], ["phone", "Phone"], ["user_id", "User id"], ["tags", "Tags"], ["attribute", "A custom field…"]];
  // The site's custom fields, each a column may go to (its values checked by the field's type).
  const FIELDS = JSON.parse(root.dataset.fields || "[]");
  CHOICES.splice(CHOICES.length - 1, 0, ...FIELDS.map((f) => ["attribute:" + f.key, `Field: ${f.label}`]));
  const DELIMITERS = { ",": "commas", ";": "semicolons", "\t": "tabs", "|": "bars" };
  let current = null;
  let timer = null;

  $("file-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = e.target.elements.file.files[0];
    const status = e.target.querySelector(".status-line");
    if (!file) return;
    status.textContent = "Uploading…";
    status.className = "status-line";
    const r = await fetch(`/api/v1/sites/${site}/imports`, {
      method: "POST", body: file, headers: { "X-CSRF-Token": csrf, "X-Filename": encodeURIComponent(file.name) },
    });
    const body = await r.json();
    if (!r.ok) { status.textContent = body.message; status.className = "status-line bad"; return; }
    status.textContent = "Read.";
    status.className = "status-line ok";
    show(body);
  });

  function show(body) {
    current = body.import;
    $("mapping-step").hidden = false;
    $("read").textContent = `${current.filename}: ${current.rows_total} rows, ${current.encoding.toUpperCase()}, separated by ${DELIMITERS[current.delimiter] || current.delimiter}.`;
    const tbody = document.querySelector("#columns tbody");
    tbody.textContent = "";
    current.headers.forEach((header, i) => {
      const tr = el("tr");
      const examples = body.sample.map((row) => row[i] || "").filter(Boolean).slice(0, 3).join(" · ");
      const pick = el("select", null, { name: `col-${i}`, "aria-label": `Column ${header} goes to` });
      for (const [value, label] of CHOICES) pick.append(new Option(label, value));
      const key = el("input", null, { name: `key-${i}`, "aria-label": `Custom field for ${header}`, maxlength: "64", placeholder: "field name" });
      let target = current.mapping[String(i)] || "ignore";
      const named = FIELDS.find((f) => [f.key, f.label.toLowerCase()].includes(header.trim().toLowerCase()));
      if (target === "ignore" && named) target = "attribute:" + named.key;
      const defined = FIELDS.some((f) => target === "attribute:" + f.key);
      pick.value = target.startsWith("attribute:") && !defined ? "attribute" : target;
      key.value = target.startsWith("attribute:") ? target.slice(10) : header.replace(/[^A-Za-z0-9_.-]+/g, "_").toLowerCase();
      key.hidden = pick.value !== "attribute";
      pick.addEventListener("change", () => { key.hidden = pick.value !== "attribute"; });
      const cell = el("td");
      cell.append(pick, document.createTextNode(" "), key);
      tr.append(el("th", header, { scope: "row" }), el("td", examples, { class: "muted" }), cell);
      tbody.append(tr);
    });
    $("dry").focus();
  }

  $("map-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target.elements;
    const mapping = {};
    current.headers.forEach((_, i) => {
      const v = f[`col-${i}`].value;
      mapping[String(i)] = v === "attribute" ? "attribute:" + f[`key-${i}`].value.trim() : v;
    });
    const dry = (e.submitter || $("dry")).value === "dry";
    try {
      const body = await api(`/api/v1/imports/${current.id}/run`, "POST",
        { mapping, mode: f.mode.value, keep_existing: f.keep_existing.checked, dry });
      $("map-status").textContent = "";
      follow(body.import);
    } catch (err) { $("map-status").textContent = err.message; $("map-status").className = "status-line bad"; }
  });

  function follow(imp) {
    $("progress-step").hidden = false;
    $("progress-what").textContent = imp.dry ? "Dry run" : "Import";
    clearTimeout(timer);
    draw(imp);
    const tick = async () => {
      const body = await api(`/api/v1/imports/${imp.id}`);
      draw(body.import);
      if (!["done", "failed"].includes(body.import.status)) timer = setTimeout(tick, 400);
    };
    timer = setTimeout(tick, 300);
  }

  function draw(imp) {
    const bar = $("bar");
    bar.max = Math.max(1, imp.rows_total);
    bar.value = imp.rows_done;
    const c = imp.counts || {};
    const verbs = imp.dry ? ["would add", "would update", "would skip", "would reject"] : ["added", "updated", "skipped", "rejected"];
    const counts = [c.added || 0, c.updated || 0, c.skipped || 0, c.rejected || 0].map((n, i) => `${n} ${verbs[i]}`).join(", ");
    const where = imp.status === "done" ? "Done" : imp.status === "failed" ? `Failed: ${imp.error}` : imp.status === "queued" ? "Waiting to start" : "Working";
    $("progress-line").textContent = `${where}: ${imp.rows_done} of ${imp.rows_total} rows. ${counts}.`;
    const reasons = Object.entries(c.reasons || {});
    $("reasons").hidden = !reasons.length;
    const tbody = document.querySelector("#reasons tbody");
    tbody.textContent = "";
    for (const [why, n] of reasons) { const tr = el("tr"); tr.append(el("td", why), el("td", String(n), { class: "num" })); tbody.append(tr); }
    const link = $("rejected");
    link.hidden = !(imp.status === "done" && (c.rejected || 0) > 0);
    link.href = `/api/v1/imports/${imp.id}/rejected.csv`;
    link.textContent = `Download the ${c.rejected || 0} rejected rows (CSV)`;
    if (imp.status === "done" && imp.dry) $("real").focus();
  }
})();
