// Small behaviours that would otherwise need inline handlers (forbidden by the CSP).
document.addEventListener("change", function (event) {
  if (event.target.matches("select[data-autosubmit]")) {
    event.target.form.submit();
  }
});
// 返回上一页 on the error pages: the browser's back when there is a page to go back to, else the
// link's own target (the home page).
document.addEventListener("click", function (event) {
  var link = event.target.closest("a[data-back]");
  if (link && window.history.length > 1) {
    event.preventDefault();
    window.history.back();
  }
});
// Filters folded behind 筛选 on a phone stand open on a wide screen.
document.addEventListener("DOMContentLoaded", function () {
  if (window.matchMedia("(min-width: 700px)").matches) {
    document.querySelectorAll("details.filter-fold").forEach(function (fold) {
      fold.open = true;
    });
  }
});
// The header's unread count (消息中心): htmx loads it where the page has htmx; elsewhere this does.
document.addEventListener("DOMContentLoaded", function () {
  if (window.htmx) {
    return;
  }
  document.querySelectorAll("a[data-notice-count]").forEach(function (link) {
    fetch(link.getAttribute("hx-get"), { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html) {
          link.innerHTML = html;
        }
      });
  });
});
