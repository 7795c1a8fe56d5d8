// Import pages: a form submits once (a second click would upload or confirm twice). The progress bar
// is polled by htmx (hx-trigger="every 1s" on the fragment); nothing else needs script.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-import-form]")) {
      return;
    }
    if (form.dataset.submitted === "true") {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "true";
    var button = form.querySelector("button[type=submit]");
    if (button) {
      // Disabled after this tick, so that the button's own name/value (if any) is still sent.
      window.setTimeout(function () {
        button.disabled = true;
        if (button.dataset.busyText) {
          button.textContent = button.dataset.busyText;
        }
      }, 0);
    }
  });

  // Back/forward cache: a page restored from it must accept a new submission.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) {
      return;
    }
    document.querySelectorAll("[data-import-form]").forEach(function (form) {
      delete form.dataset.submitted;
      var button = form.querySelector("button[type=submit]");
      if (button) {
        button.disabled = false;
      }
    });
  });
})();
