// The design system's menus (docs/design.md): a button with aria-haspopup="menu" and
// aria-controls naming a .popover of items. Items act only on a choice (a click, Enter or
// Space), never on arrow keys; Escape, a click outside or focus leaving close the menu.
"use strict";
window.ParleyMenus = (function () {
  function closeMenus(except) {
    for (const b of document.querySelectorAll("[aria-haspopup=menu]")) {
      if (b === except) continue;
      b.setAttribute("aria-expanded", "false");
      document.getElementById(b.getAttribute("aria-controls")).hidden = true;
    }
  }
  for (const b of document.querySelectorAll("[aria-haspopup=menu]")) {
    const items = document.getElementById(b.getAttribute("aria-controls"));
    b.addEventListener("click", () => {
      const open = b.getAttribute("aria-expanded") !== "true";
      closeMenus(b);
      b.setAttribute("aria-expanded", String(open));
      items.hidden = !open;
      if (open) (items.querySelector("[aria-checked=true]") || items.querySelector("[role^=menuitem]")).focus();
    });
    items.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { e.preventDefault(); closeMenus(); b.focus(); }
    });
    items.parentElement.addEventListener("focusout", (e) => {
      if (!items.parentElement.contains(e.relatedTarget)) closeMenus();
    });
  }
  document.addEventListener("click", (e) => { if (!e.target.closest(".pop")) closeMenus(); });
  return { close: closeMenus };
})();
