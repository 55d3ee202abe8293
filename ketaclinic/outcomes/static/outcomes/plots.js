/* Draw every [data-figure] container with the locally served Plotly. Runs on page load, after
   HTMX swaps (chart tabs) and when plotly.min.js finishes loading, whichever comes last.
   Figures are JSON written by the server; nothing is fetched here. */
(function () {
  "use strict";
  function draw(root) {
    if (!window.Plotly) { return; }
    (root || document).querySelectorAll("[data-figure]").forEach(function (el) {
      if (el.dataset.drawn) { return; }
      var source = document.getElementById(el.dataset.figure);
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
      el.dataset.drawn = "1";
      window.Plotly.newPlot(el, figure.data, figure.layout, {
        responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"],
      });
    });
  }
  function resizeAll() {
    if (!window.Plotly) { return; }
    document.querySelectorAll(".plot[data-drawn]").forEach(function (el) { window.Plotly.Plots.resize(el); });
  }
  window.kcDrawPlots = draw;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { draw(document); });
  } else {
    draw(document);
  }
  document.addEventListener("htmx:afterSettle", function () { draw(document); });
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);
})();
