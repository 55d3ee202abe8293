/* Page behaviours, declared in templates with data- attributes instead of inline handlers,
   which the Content-Security-Policy forbids (script-src 'self' plus a per-response nonce):

   data-submit-on-change        a form control that submits its form when changed
   data-print                   a button that opens the print dialog
   data-select-on-click         an input whose text is selected when clicked
   data-navigate-to="NAME"      a GET form that goes to the URL held in its control NAME
   data-current-tab             an htmx tab link marked aria-current once its panel loads
   data-draw-plots              a Plotly <script> that draws waiting charts once loaded
   data-plotly="JSON-ID"        a chart container drawn from the figure in <script id=JSON-ID>
                                (its sibling, swapped in and out with it),
     data-plotly-src="URL"        loading Plotly from URL first when it is not yet on the page;
     data-plotly-compact          with the legend below a shorter plot and the title clear of the
                                  toolbar (the session panel). */
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

  // The figure travels beside its container: look for it there, not by id in the whole
  // document. A container whose panel was swapped out while Plotly loaded (a write refreshes
  // the session body) has no figure any more, and is skipped: the panel that replaced it
  // draws its own.
  function figureOf(el) {
    var panel = el.parentNode;
    if (!panel || !el.isConnected) { return null; }
    var source = panel.querySelector("script#" + CSS.escape(el.dataset.plotly));
    return source ? JSON.parse(source.textContent) : null;
  }

  // The session panel is narrow: the legend goes below a shorter plot, and the title sits
  // left, under the toolbar Plotly shows at the top right while the pointer is on the chart.
  var COMPACT_TOP = 96;       // px above the plot area: toolbar, then title, then "now"
  var COMPACT_TITLE_AT = 46;  // px from the top of the chart to the top of the title

  function compact(layout) {
    layout.height = 360;
    if (layout.legend) { layout.legend.y = -0.4; }
    layout.margin = Object.assign({}, layout.margin, {t: COMPACT_TOP, b: 90});
    layout.title = Object.assign({}, layout.title, {
      x: 0, xref: "paper", xanchor: "left",
      y: 1 - COMPACT_TITLE_AT / layout.height, yref: "container", yanchor: "top"
    });
  }

  function drawFigures(root) {
    (root || document).querySelectorAll("[data-plotly]").forEach(function (el) {
      if (el.dataset.drawn) { return; }
      if (!window.Plotly) { loadPlotly(el.dataset.plotlySrc); return; }
      var figure = figureOf(el);
      if (!figure) { return; }
      if (el.dataset.plotlyCompact !== undefined) { compact(figure.layout); }
      el.dataset.drawn = "1";
      window.Plotly.react(el, figure.data, figure.layout, {responsive: true, displaylogo: false});
    });
  }

  // A drawn chart leaving the page (its panel swapped) lets go of its resize listener.
  document.addEventListener("htmx:beforeCleanupElement", function (event) {
    var el = event.detail && event.detail.elt;
    if (el && el.dataset && el.dataset.drawn && window.Plotly) { window.Plotly.purge(el); }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawFigures(document); });
  } else {
    drawFigures(document);
  }
  window.addEventListener("load", function () { drawFigures(document); });
  document.addEventListener("htmx:afterSettle", function () { drawFigures(document); });
})();
