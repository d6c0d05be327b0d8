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

/* 目标 — targets, tasks, imports: filter forms submit themselves when a [data-autosubmit] control changes. */
(function () {
  "use strict";
  document.addEventListener("change", function (evt) {
    var el = evt.target;
    if (el && el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) el.form.submit();
  });
})();

/* A form with [data-confirm] (销号 …) asks before it is sent; the server checks everything again. */
(function () {
  "use strict";
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) evt.preventDefault();
  }, true);
})();
