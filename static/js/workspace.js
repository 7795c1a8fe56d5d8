// Township workspace behaviours (loaded after htmx; the CSP forbids inline scripts and handlers).
(function () {
  "use strict";

  // When an htmx request fails, say so where the user is looking instead of silently doing nothing.
  function reportFailure(event) {
    var source = event.detail && event.detail.elt;
    var status = event.detail && event.detail.xhr ? event.detail.xhr.status : 0;
    var container = source && source.closest("[data-htmx-errors]");
    var box = container && container.querySelector(".htmx-error");
    if (!box) {
      return;
    }
    var messages = document.documentElement.lang === "en"
      ? { 403: "You may not change this record.", 404: "The record was not found.", other: "Could not save. Please try again." }
      : { 403: "您的角色无权修改此记录。", 404: "未找到该记录。", other: "保存失败，请稍后重试。" };
    box.textContent = messages[status] || messages.other;
  }
  document.addEventListener("htmx:responseError", reportFailure);
  document.addEventListener("htmx:sendError", reportFailure);

  // Keep keyboard focus on the control the user just used after htmx replaced it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.matches && target.matches("[data-employment-control]")) {
      var focus = document.getElementById(target.id) && document.getElementById(target.id).querySelector("select");
      if (focus) {
        focus.focus();
      }
    }
  });
})();
