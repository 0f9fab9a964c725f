/* The print button of the credentials sheet (no inline handlers: CSP). */
(function () {
  'use strict';
  var print = document.getElementById('print');
  if (print) print.addEventListener('click', function () { window.print(); });
})();
