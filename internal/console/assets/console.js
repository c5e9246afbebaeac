// The console's own script: small enhancements only. Every page works without it; business
// rules are never here (the API and the workflow decide).
(function () {
  "use strict";
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)petitions_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  // htmx requests (fragments) carry the CSRF token like forms do.
  document.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-CSRF-Token"] = csrf();
  });
  document.addEventListener("DOMContentLoaded", function () {
    // A session whose access token ran out: renew it with the refresh cookie, then come back.
    var r = document.querySelector("[data-refresh-next]");
    if (r) {
      var next = r.getAttribute("data-refresh-next") || "/";
      fetch("/api/v1/auth/refresh", { method: "POST", headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin" })
        .then(function (res) {
          var sep = next.indexOf("?") < 0 ? "?" : "&";
          window.location.replace(res.ok ? next + sep + "refreshed=1" : "/sign-in?next=" + encodeURIComponent(next));
        })
        .catch(function () { window.location.replace("/sign-in?next=" + encodeURIComponent(next)); });
    }
    document.querySelectorAll("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
    document.querySelectorAll("[data-back]").forEach(function (a) {
      a.addEventListener("click", function (e) { e.preventDefault(); history.back(); });
    });
  });
})();
