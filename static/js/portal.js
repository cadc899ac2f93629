/* Small progressive enhancements. No inline handlers anywhere: everything is wired here. */
(function () {
  "use strict";

  // Move focus to an error summary when one appears, so keyboard and screen-reader users hear it.
  function focusErrors(root) {
    var summary = (root || document).querySelector(".error-summary");
    if (summary) { summary.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () { focusErrors(document); });
  document.addEventListener("htmx:afterSwap", function (evt) { focusErrors(evt.detail.target); });

  // A button marked data-confirm asks before it submits.
  document.addEventListener("click", function (evt) {
    var el = evt.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      evt.preventDefault();
      evt.stopPropagation();
    }
  }, true);

  // A button marked data-print prints the page (invoices, settlement statements).
  document.addEventListener("click", function (evt) {
    if (evt.target.closest("[data-print]")) { window.print(); }
  });

  // Stop a double click submitting a plain form twice.
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (form.dataset.submitting === "1") { evt.preventDefault(); return; }
    form.dataset.submitting = "1";
    window.setTimeout(function () { form.dataset.submitting = ""; }, 4000);
  });

  // htmx: an error status that is not swapped is told to the user in the live region.
  document.addEventListener("htmx:responseError", function (evt) {
    var region = document.getElementById("htmx-status");
    if (!region) { return; }
    var code = evt.detail.xhr.status;
    region.textContent = code === 429 ? "Too many attempts. Wait a minute and try again."
      : code === 403 || code === 404 ? "You cannot do that here. Reload the page."
      : "Something went wrong and nothing was saved. Try again.";
  });
})();
