/* Page behaviours, declared in templates with data- attributes instead of inline handlers,
   which the Content-Security-Policy forbids (script-src 'self' plus a per-response nonce):

   data-submit-on-change        a form control that submits its form when changed
   data-print                   a button that opens the print dialog
   data-select-on-click         an input whose text is selected when clicked
   data-navigate-to="NAME"      a GET form that goes to the URL held in its control NAME
   data-current-tab             an htmx tab link marked aria-current once its panel loads
   data-draw-plots              a Plotly <script> that draws waiting charts once loaded
   data-plotly="JSON-ID"        a chart container drawn from the figure in <script id=JSON-ID>,
     data-plotly-src="URL"        loading Plotly from URL first when it is not yet on the page;
     data-plotly-compact          with the legend below a shorter plot (the session panel). */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var control = event.target;
    if (control.matches && control.matches("[data-submit-on-change]") && control.form) {
      control.form.submit();
    }
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target.closest) { return; }
    if (target.closest("[data-print]")) { window.print(); }
    var selectable = target.closest("[data-select-on-click]");
    if (selectable && selectable.select) { selectable.select(); }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var name = form.dataset && form.dataset.navigateTo;
    if (!name || !form.elements[name]) { return; }
    event.preventDefault();
    window.location.href = form.elements[name].value;
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var link = event.detail && event.detail.elt;
    if (!link || !link.matches || !link.matches("[data-current-tab]")) { return; }
    document.querySelectorAll("[data-current-tab]").forEach(function (other) {
      other.removeAttribute("aria-current");
    });
    link.setAttribute("aria-current", "page");
  });

  // Resource load events do not bubble, but they pass the document while capturing.
  document.addEventListener("load", function (event) {
    var script = event.target;
    if (script.matches && script.matches("script[data-draw-plots]") && window.kcDrawPlots) {
      window.kcDrawPlots();
    }
    if (script.matches && script.matches("script[data-plotly-loader]")) { drawFigures(document); }
  }, true);

  function loadPlotly(src) {
    if (window.Plotly || !src || document.querySelector("script[data-plotly-loader]")) { return; }
    var script = document.createElement("script");
    script.src = src;
    script.dataset.plotlyLoader = "";
    document.head.appendChild(script);
  }

  function drawFigures(root) {
    (root || document).querySelectorAll("[data-plotly]").forEach(function (el) {
      if (el.dataset.drawn) { return; }
      if (!window.Plotly) { loadPlotly(el.dataset.plotlySrc); return; }
      var source = document.getElementById(el.dataset.plotly);
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
      if (el.dataset.plotlyCompact !== undefined) {
        figure.layout.height = 360;
        if (figure.layout.legend) { figure.layout.legend.y = -0.4; }
        if (figure.layout.margin) { figure.layout.margin.b = 90; }
      }
      el.dataset.drawn = "1";
      window.Plotly.react(el, figure.data, figure.layout, {responsive: true, displaylogo: false});
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawFigures(document); });
  } else {
    drawFigures(document);
  }
  window.addEventListener("load", function () { drawFigures(document); });
  document.addEventListener("htmx:afterSettle", function () { drawFigures(document); });
})();
