/* Generated files (templates/files/_progress.html): htmx polls the progress
   partial; once the file is ready and the page asked for it, the download
   starts by itself, once. No inline scripts (content-security policy). */
(function () {
  "use strict";

  function startDownloads() {
    document.querySelectorAll("[data-auto-download]:not([data-started])").forEach(function (el) {
      el.setAttribute("data-started", "1");
      window.location.assign(el.getAttribute("data-auto-download"));
    });
  }

  document.addEventListener("DOMContentLoaded", startDownloads);
  document.addEventListener("htmx:afterSettle", startDownloads);
})();
