// Small behaviours that would otherwise need inline handlers (forbidden by the CSP).
document.addEventListener("change", function (event) {
  if (event.target.matches("select[data-autosubmit]")) {
    event.target.form.submit();
  }
});
