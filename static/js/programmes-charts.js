/*
 * The programmes dashboard's chart (templates/programmes/dashboard.html): Chart.js (static/vendor/chart.js/)
 * draws achieved against target per region from the JSON in #programmes-chart-data (json_script, which
 * the CSP allows). The exact figures are in the table under the chart, which is the page without JavaScript.
 */
(function () {
  "use strict";

  function draw() {
    var canvas = document.querySelector("canvas[data-programmes-chart]");
    var source = document.getElementById("programmes-chart-data");
    if (!canvas || !source || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var divisor = Math.pow(10, data.exponent || 0);
    var scale = function (values) { return values.map(function (value) { return value / divisor; }); };
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.achieved_label || "Achieved (" + data.unit + ")", data: scale(data.achieved), backgroundColor: "#0e5a4b" },
          { label: data.target_label || "Target (" + data.unit + ")", data: scale(data.target), backgroundColor: "rgba(201, 138, 11, 0.6)" }
        ]
      },
      options: { responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true } } }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
