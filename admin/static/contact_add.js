// "Add contact", wherever it is offered (the contacts page, the inbox): a dialog whose
// errors land on their field, and whose duplicate answer links to the contact that exists.
// Uses page.js for the API; people's words are set as text, never as HTML.
"use strict";
window.ParleyAddContact = (function () {
  const dialog = document.getElementById("add-contact");
  if (!dialog) return null;
  const form = document.getElementById("add-form");
  const problem = document.getElementById("add-problem");
  const { el, api } = window.ParleyPage;
  let added = () => {};
  function open(then) {
    added = then || (() => {});
    form.reset();
    problem.hidden = true;
    for (const f of form.querySelectorAll("[aria-invalid]")) f.removeAttribute("aria-invalid");
    dialog.showModal();
    form.elements.name.focus();
  }
  document.getElementById("add-cancel").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = form.elements;
    const tags = f.tags.value.split(",").map((t) => t.trim()).filter(Boolean);
    for (const x of form.querySelectorAll("[aria-invalid]")) x.removeAttribute("aria-invalid");
    try {
      const body = { name: f.name.value, email: f.email.value, phone: f.phone.value, tags };
      const made = await api(`/api/v1/sites/${dialog.dataset.site}/contacts`, "POST", body);
      dialog.close();
      window.ParleyConfirm.toast(`Added ${made.contact.name || made.contact.email || made.contact.phone}.`);
      added(made.contact);
    } catch (err) {
      problem.textContent = err.message + (err.code === "contact_exists" ? ". " : "");
      if (err.code === "contact_exists") {
        problem.append(el("a", "Open that contact", { href: `${err.url}?site=${dialog.dataset.site}` }));
      }
      problem.hidden = false;
      const field = f[err.field === "tag" ? "tags" : err.field];
      if (field) { field.setAttribute("aria-invalid", "true"); field.setAttribute("aria-describedby", "add-problem"); field.focus(); }
    }
  });
  return { open };
})();
