(function () {
  // Redraw the preview from the unsaved form a moment after each change.
  var form = document.getElementById("layout-form"), img = document.getElementById("preview");
  var state = document.getElementById("preview-state"), timer = null, url = img.getAttribute("src");
  function redraw() {
    state.textContent = "…";
    fetch(url, {method: "POST", body: new FormData(form), credentials: "same-origin"})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.blob(); })
      .then(function (b) { var old = img.src; img.src = URL.createObjectURL(b); if (old.indexOf("blob:") === 0) URL.revokeObjectURL(old); state.textContent = ""; })
      .catch(function () { state.textContent = state.dataset.error; });
  }
  function later() { clearTimeout(timer); timer = setTimeout(redraw, 400); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
})();
