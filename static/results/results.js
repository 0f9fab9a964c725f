/* Results pages: the scoreboard marks skills that just appeared and pages through
   the published skills when they do not fit on one screen. htmx does the
   polling (hx-trigger="every …"); this file only reacts to its swaps.
   No inline scripts anywhere (content-security policy). */
(function () {
  "use strict";

  var seen = null;
  function markFresh() {
    var cards = document.querySelectorAll(".sb-skill[data-skill]");
    var now = {};
    var fresh = null;
    cards.forEach(function (card) {
      var key = card.getAttribute("data-skill");
      now[key] = true;
      if (seen !== null && !seen[key]) {
        card.classList.add("fresh");
        if (fresh === null) fresh = card;
      }
    });
    seen = now;
    return fresh;
  }

  // Scoreboard pages: one shown at a time, the next every data-rotate
  // seconds. The index survives htmx swaps of the board; a skill that has
  // just been published brings its page up at once.
  var page = 0;
  var timer = null;
  function pages() {
    return document.querySelectorAll("#scoreboard .sb-page");
  }
  function show(index) {
    var all = pages();
    if (!all.length) return;
    page = ((index % all.length) + all.length) % all.length;
    all.forEach(function (el, i) {
      el.hidden = i !== page;
    });
  }
  function startRotation(fresh) {
    var board = document.getElementById("scoreboard");
    if (timer !== null) {
      window.clearInterval(timer);
      timer = null;
    }
    if (!board) return;
    var target = page;
    if (fresh) {
      var holder = fresh.closest(".sb-page");
      pages().forEach(function (el, i) {
        if (el === holder) target = i;
      });
    }
    show(target);
    var seconds = parseInt(board.getAttribute("data-rotate"), 10) || 12;
    if (pages().length > 1) {
      timer = window.setInterval(function () {
        show(page + 1);
      }, seconds * 1000);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    startRotation(markFresh());
  });
  document.addEventListener("htmx:afterSettle", function () {
    startRotation(markFresh());
  });
})();
