// qunlian web: charts from data-chart attributes (JSON options built by the server). No inline scripts.
(function () {
  "use strict";
  function drawCharts(root) {
    if (typeof window.echarts === "undefined") return;
    (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) return;
      try {
        var chart = window.echarts.init(el, null, { renderer: "canvas" });
        chart.setOption(JSON.parse(el.dataset.chart));
        el.dataset.drawn = "1";
        window.addEventListener("resize", function () { chart.resize(); });
      } catch (err) {
        el.textContent = "chart error: " + err;
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:afterSwap", function (evt) { drawCharts(evt.target); });
})();
