// The design system's confirmations and toasts (docs/design.md).
// A button with data-confirm="…" asks first, in a modal dialog whose focus starts on
// Cancel; ParleyConfirm.ask(text, verb) does the same for scripts. ParleyConfirm.toast(text)
// says what just happened in a polite live region, for a few seconds.
"use strict";
window.ParleyConfirm = (function () {
  let dialog = null;
  let region = null;
  function make() {
    dialog = document.createElement("dialog");
    dialog.className = "modal";
    dialog.setAttribute("aria-labelledby", "confirm-title");
    dialog.setAttribute("aria-describedby", "confirm-text");
    const form = document.createElement("form");
    form.method = "dialog";
    const title = Object.assign(document.createElement("h2"), { id: "confirm-title", textContent: "Are you sure?" });
    const text = Object.assign(document.createElement("p"), { id: "confirm-text" });
    const buttons = Object.assign(document.createElement("p"), { className: "buttons" });
    const cancel = Object.assign(document.createElement("button"), { className: "btn", value: "cancel", textContent: "Cancel" });
    const ok = Object.assign(document.createElement("button"), { className: "btn btn-danger", value: "ok" });
    cancel.autofocus = true;
    buttons.append(cancel, ok);
    form.append(title, text, buttons);
    dialog.append(form);
    document.body.append(dialog);
  }
  function ask(text, verb) {
    if (!dialog) make();
    dialog.querySelector("#confirm-text").textContent = text;
    dialog.querySelector("[value=ok]").textContent = verb || "Confirm";
    dialog.returnValue = "";
    const back = document.activeElement;
    dialog.showModal();
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => {
        if (back && back.isConnected) back.focus();
        resolve(dialog.returnValue === "ok");
      }, { once: true });
    });
  }
  function toast(text, bad) {
    if (!region) {
      region = Object.assign(document.createElement("div"), { className: "toasts" });
      region.setAttribute("role", "status");
      document.body.append(region);
    }
    const t = Object.assign(document.createElement("div"), { className: "toast" + (bad ? " bad" : ""), textContent: text });
    region.append(t);
    setTimeout(() => t.remove(), 5000);
  }
  document.addEventListener("click", (e) => {
    const button = e.target.closest("button[data-toast]");
    if (button) toast(button.dataset.toast);
  });
  document.addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-confirm]");
    if (!button || button.dataset.confirmed) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    if (await ask(button.dataset.confirm, button.textContent.trim())) {
      button.dataset.confirmed = "yes";
      if (button.form && button.type === "submit") button.form.requestSubmit(button);
      else button.click();
      delete button.dataset.confirmed;
    }
  }, true);
  return { ask, toast };
})();
