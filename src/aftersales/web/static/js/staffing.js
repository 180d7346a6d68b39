// The staffing page's charts: for each canvas[data-staffing], the agents the forecast needs per
// interval (bars, red where the roster falls short) against the agents on the roster (a line).
// The server computes every number; this only draws them (no inline script: CSP).
(function () {
  function draw(canvas) {
    if (canvas.dataset.drawn || typeof Chart === "undefined") return;
    var data = JSON.parse(canvas.dataset.staffing);
    canvas.dataset.drawn = "1";
    var colors = data.short.map(function (s) { return s ? "rgba(211, 47, 47, 0.75)" : "rgba(25, 118, 210, 0.45)"; });
    new Chart(canvas, {
      data: {
        labels: data.labels,
        datasets: [
          { type: "bar", label: canvas.dataset.labelRequired, data: data.required, backgroundColor: colors, order: 2 },
          { type: "line", label: canvas.dataset.labelRostered, data: data.rostered, borderColor: "#2e7d32",
            backgroundColor: "#2e7d32", stepped: "middle", pointRadius: 0, borderWidth: 2, order: 1 }
        ]
      },
      options: {
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { ticks: { maxTicksLimit: 12 } } },
        plugins: {
          legend: { onClick: function (e, item, legend) {
            if (item.datasetIndex !== undefined) Chart.defaults.plugins.legend.onClick.call(this, e, item, legend);
          }, labels: { generateLabels: function (chart) {
            var items = Chart.defaults.plugins.legend.labels.generateLabels(chart);
            items.push({ text: canvas.dataset.labelShort, fillStyle: "rgba(211, 47, 47, 0.75)", strokeStyle: "transparent" });
            return items;
          } } }
        }
      }
    });
  }
  function drawAll() { document.querySelectorAll("canvas[data-staffing]").forEach(draw); }
  document.addEventListener("DOMContentLoaded", drawAll);
  document.addEventListener("htmx:afterSwap", drawAll);
})();
