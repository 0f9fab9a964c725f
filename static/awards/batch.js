(function () {
  // Poll the batch until it is finished, then start the zip download once.
  var box = document.getElementById("batch");
  var bar = document.getElementById("batch-bar");
  if (bar) bar.style.width = bar.dataset.percent + "%";  // CSSOM, allowed by the CSP
  if (!box || box.dataset.finished === "1") return;
  function tick() {
    fetch(box.dataset.url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (p) {
      document.getElementById("batch-status").textContent = p.status_display;
      document.getElementById("batch-done").textContent = p.done;
      document.getElementById("batch-total").textContent = p.total;
      document.getElementById("batch-errors").textContent = p.errors;
      document.getElementById("batch-bar").style.width = p.percent + "%";
      if (p.finished) {
        if (p.download_url) {
          document.getElementById("batch-download-link").href = p.download_url;
          document.getElementById("batch-download").hidden = false;
          window.location.href = p.download_url;
        }
        setTimeout(function () { window.location.reload(); }, 1500);
      } else {
        setTimeout(tick, 1000);
      }
    }).catch(function () { setTimeout(tick, 3000); });
  }
  setTimeout(tick, 500);
})();
