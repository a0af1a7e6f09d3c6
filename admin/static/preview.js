// The editor, better with JavaScript: a live preview of the bubble, and only the fields
// that apply (conditions.js builds the conditions).
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
});
