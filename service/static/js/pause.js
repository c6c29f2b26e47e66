/* Progressive enhancement only: every page works without this file. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function leave(url) {
    // replace(): the page being left does not stay in the back-button history.
    document.body.style.visibility = "hidden";
    window.location.replace(url);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var print = document.getElementById("print-page");
    if (print) { print.addEventListener("click", function () { window.print(); }); }
    var exit = document.getElementById("quick-exit");
    if (!exit) { return; }
    exit.addEventListener("click", function (event) {
      event.preventDefault();
      leave(exit.href);
    });
    document.addEventListener("keydown", function (event) {
      // Not on staff pages (no data-escape-key there): Esc closed their work.
      if (event.key === "Escape" && !event.defaultPrevented && exit.dataset.escapeKey === "on") {
        leave(exit.href);
      }
    });
  });
}());
