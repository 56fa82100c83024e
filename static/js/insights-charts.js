/*
 * The insights charts (templates/insights/_charts.html): Chart.js (static/vendor/chart.js/) draws each
 * <canvas data-insights-chart="revenue|purchases|customers|cost"> from the JSON in #insights-chart-data
 * (json_script, which the CSP allows; no inline script). Amounts arrive in minor units with the
 * currency's exponent and are divided here for the axis only; the exact figures are in the tables under
 * each chart, which are the page without JavaScript.
 */
(function () {
  "use strict";

  var COLOURS = {
    primary: "#0e5a4b",
    primarySoft: "rgba(14, 90, 75, 0.15)",
    accent: "#c98a0b",
    info: "#184d74",
    danger: "#a3262c"
  };

  function major(values, exponent) {
    var divisor = Math.pow(10, exponent);
    return values.map(function (value) { return value / divisor; });
  }

  function datasetsFor(kind, data) {
    if (kind === "revenue") {
      return {
        type: "line",
        datasets: [{
          label: "Revenue (" + data.currency + ")",
          data: major(data.revenue, data.exponent),
          borderColor: COLOURS.primary,
          backgroundColor: COLOURS.primarySoft,
          fill: true,
          tension: 0.25,
          pointRadius: data.labels.length > 45 ? 0 : 2
        }]
      };
    }
    if (kind === "purchases") {
      return {
        type: "bar",
        datasets: [{ label: "Purchases", data: data.purchases, backgroundColor: COLOURS.primary }]
      };
    }
    if (kind === "customers") {
      return {
        type: "bar",
        stacked: true,
        datasets: [
          { label: "New", data: data.new_customers, backgroundColor: COLOURS.accent },
          { label: "Returning", data: data.returning_customers, backgroundColor: COLOURS.info }
        ]
      };
    }
    return {
      type: "line",
      datasets: [
        {
          label: "Cashback cost (" + data.currency + ")",
          data: major(data.cost, data.exponent),
          borderColor: COLOURS.danger,
          tension: 0.25,
          pointRadius: data.labels.length > 45 ? 0 : 2
        },
        {
          label: "To charity (" + data.currency + ")",
          data: major(data.charity, data.exponent),
          borderColor: COLOURS.accent,
          borderDash: [4, 4],
          tension: 0.25,
          pointRadius: 0
        }
      ]
    };
  }

  function draw(canvas, data) {
    var spec = datasetsFor(canvas.getAttribute("data-insights-chart"), data);
    var stacked = Boolean(spec.stacked);
    return new window.Chart(canvas, {
      type: spec.type,
      data: { labels: data.labels, datasets: spec.datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { display: spec.datasets.length > 1, position: "bottom" } },
        scales: {
          x: { stacked: stacked, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } },
          y: { stacked: stacked, beginAtZero: true, ticks: { maxTicksLimit: 6 } }
        }
      }
    });
  }

  function start() {
    var island = document.getElementById("insights-chart-data");
    if (!island || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(island.textContent);
    document.querySelectorAll("canvas[data-insights-chart]").forEach(function (canvas) {
      canvas.setAttribute("data-drawn", draw(canvas, data) ? "true" : "false");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
