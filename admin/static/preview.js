// The editor's live preview: the bubble follows the text as it is typed (text only, never HTML).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const text = document.getElementById("text");
  const out = document.getElementById("preview-text");
  if (!text || !out) return;
  const update = () => { out.textContent = text.value || "Your message"; };
  text.addEventListener("input", update);
});
