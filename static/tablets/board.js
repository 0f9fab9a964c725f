/* The chief judge's board: refresh the progress grid every 5 s.
 * Also the print button of the QR sheet (no inline handlers: CSP). */
(function () {
  'use strict';
  var print = document.getElementById('print');
  if (print) print.addEventListener('click', function () { window.print(); });
  var grid = document.getElementById('grid');
  if (!grid) return;
  function refresh() {
    if (document.hidden) return;
    fetch(grid.dataset.url, { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) grid.innerHTML = html; })
      .catch(function () {});
  }
  setInterval(refresh, 5000);
})();
