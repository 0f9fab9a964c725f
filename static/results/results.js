/* Results pages: the export page starts the download once the workbook is
   ready; the scoreboard marks skills that just appeared. htmx does the
   polling (hx-trigger="every …"); this file only reacts to its swaps.
   No inline scripts anywhere (content-security policy). */
(function () {
  "use strict";

  function startDownloads() {
    document.querySelectorAll("[data-auto-download]:not([data-started])").forEach(function (el) {
      el.setAttribute("data-started", "1");
      window.location.assign(el.getAttribute("data-auto-download"));
    });
  }

  var seen = null;
  function markFresh() {
    var cards = document.querySelectorAll(".sb-skill[data-skill]");
    var now = {};
    cards.forEach(function (card) {
      var key = card.getAttribute("data-skill");
      now[key] = true;
      if (seen !== null && !seen[key]) card.classList.add("fresh");
    });
    seen = now;
  }

  document.addEventListener("DOMContentLoaded", function () {
    startDownloads();
    markFresh();
  });
  document.addEventListener("htmx:afterSettle", function () {
    startDownloads();
    markFresh();
  });
})();
