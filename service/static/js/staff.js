/* Staff pages: warn before the idle timeout ends the session. Works from the server's
   own clock (data-now), so a wrong clock on the computer does not matter. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var banner = document.getElementById("session-banner");
    var warning = document.getElementById("session-warning");
    if (!banner || !warning) { return; }
    var remaining = Date.parse(banner.dataset.endsAt) - Date.parse(banner.dataset.now);
    var warnBefore = 2 * 60 * 1000;
    window.setTimeout(function () {
      warning.hidden = false;
      warning.setAttribute("role", "alert");
    }, Math.max(remaining - warnBefore, 0));
  });
}());
