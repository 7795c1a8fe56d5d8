// Fix from a 清零清单 (issue 20): 全选 ticks the page's rows, the bulk button counts them, and the
// browser's confirmation names the count before the one POST. Without script the server asks instead.
(function () {
  "use strict";
  function ready() {
    var form = document.querySelector("[data-fix-bulk]");
    if (!form) return;
    var all = document.querySelector("[data-fix-all]");
    var count = form.querySelector("[data-fix-count]");
    function picks() {
      return Array.prototype.slice.call(document.querySelectorAll("[data-fix-pick]"));
    }
    function ticked() {
      return picks().filter(function (pick) { return pick.checked; }).length;
    }
    function update() {
      var n = ticked();
      count.textContent = String(n);
      form.querySelector("[data-fix-bulk-submit]").disabled = n === 0;
      if (all) {
        var total = picks().length;
        all.checked = total > 0 && n === total;
        all.indeterminate = n > 0 && n < total;
      }
    }
    if (all) {
      all.addEventListener("change", function () {
        picks().forEach(function (pick) { pick.checked = all.checked; });
        update();
      });
    }
    document.addEventListener("change", function (event) {
      if (event.target.matches && event.target.matches("[data-fix-pick]")) update();
    });
    document.body.addEventListener("htmx:afterSwap", update); // a row fixed on its own leaves the count
    form.addEventListener("submit", function (event) {
      var n = ticked();
      if (n === 0 || !window.confirm(form.dataset.confirm.replace("%(count)s", String(n)))) {
        event.preventDefault();
        return;
      }
      form.querySelector("[name=confirm]").value = String(n);
    });
    update();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
