// Dashboards: ECharts (SVG renderer, aria on, zh/en locale), the trend chooser, navigation selects
// and print. Chart data comes from <script type="application/json"> blocks (the CSP forbids inline
// scripts); every chart has a table with the same numbers on the page.
(function () {
  "use strict";

  var english = document.documentElement.lang === "en";
  var text = english
    ? { met: "Met", near: "Near target (≥95%)", far: "Below target", na: "n/a", target: "Target" }
    : { met: "达标", near: "接近目标（≥95%）", far: "差距较大", na: "不适用", target: "目标" };
  var charts = [];

  // Names come from users (a site may be named "<img src=x onerror=...>"): every text put into an
  // HTML tooltip is escaped first. Axis labels are SVG text and need no escaping.
  var HTML_ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  function escapeHTML(value) {
    return String(value === null || value === undefined ? "" : value).replace(/[&<>"']/g, function (c) {
      return HTML_ESCAPES[c];
    });
  }

  function readJSON(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function init(el) {
    var locale = el.dataset.locale === "EN" ? "EN" : "ZH";
    var chart = echarts.init(el, null, { renderer: "svg", locale: locale });
    charts.push(chart);
    return chart;
  }

  function drawHeatmap(el) {
    var data = readJSON(el.dataset.source);
    if (!data || !data.x.length) {
      return;
    }
    var chart = init(el);
    chart.setOption({
      aria: { enabled: true, decal: { show: true } },
      title: { show: false, text: el.dataset.title },
      animation: false,
      tooltip: {
        position: "top",
        formatter: function (p) {
          var i = p.dataIndex;
          return escapeHTML(data.y[p.value[1]]) + "<br>" + escapeHTML(data.x[p.value[0]]) + "：" + escapeHTML(data.texts[i]);
        }
      },
      grid: { left: 8, right: 16, top: 8, bottom: 70, containLabel: true },
      xAxis: { type: "category", data: data.x, axisLabel: { interval: 0, rotate: data.x.length > 6 ? 40 : 0 }, splitArea: { show: true } },
      yAxis: { type: "category", data: data.y, inverse: true, axisLabel: { width: 230, overflow: "truncate" } },
      visualMap: {
        type: "piecewise",
        orient: "horizontal",
        left: "center",
        bottom: 0,
        pieces: [
          { value: 100, label: text.met, color: "#2f7d32" },
          { gte: 95, lt: 100, label: text.near, color: "#f0b429" },
          { lt: 95, label: text.far, color: "#c62828" }
        ],
        outOfRange: { color: "#cbd2d9" }
      },
      series: [{
        type: "heatmap",
        data: data.cells,
        label: { show: false },
        itemStyle: { borderColor: "#fff", borderWidth: 1 },
        emphasis: { itemStyle: { borderColor: "#1f2933", borderWidth: 2 } }
      }]
    });
    chart.on("click", function (p) {
      var url = data.urls[p.dataIndex];
      if (url) {
        window.location.href = url;
      }
    });
  }

  function drawTrend(el, code) {
    var data = readJSON(el.dataset.source);
    if (!data) {
      return;
    }
    var series = data.series[code];
    if (!series) {
      return;
    }
    var chart = el._chart || (el._chart = init(el));
    var percent = series.kind === "rate";
    var options = {
      aria: { enabled: true, decal: { show: true } },
      title: { show: false, text: series.name },
      animation: false,
      tooltip: { trigger: "axis" },
      grid: { left: 8, right: 24, top: 30, bottom: 24, containLabel: true },
      xAxis: { type: "category", data: data.periods },
      yAxis: { type: "value", axisLabel: { formatter: percent ? "{value}%" : (series.kind === "gap_pp" ? "{value} pp" : "{value}") } },
      series: [{
        name: series.name,
        type: "line",
        data: series.data,
        connectNulls: false,
        label: { show: true, formatter: function (p) { return p.value === null ? "" : p.value + (percent ? "%" : ""); } },
        markLine: series.target === null ? undefined : {
          symbol: "none",
          label: { formatter: text.target + " {c}" },
          lineStyle: { type: "dashed", color: "#8b1a1a" },
          data: [{ yAxis: series.target }]
        }
      }]
    };
    chart.setOption(options, true);
  }

  function start() {
    if (typeof echarts !== "undefined") {
      document.querySelectorAll("[data-chart='heatmap']").forEach(drawHeatmap);
      document.querySelectorAll("[data-chart='trend']").forEach(function (el) {
        var select = document.querySelector("[data-trend-select]");
        drawTrend(el, select ? select.value : el.dataset.default);
        if (select) {
          select.addEventListener("change", function () { drawTrend(el, select.value); });
        }
      });
    }
    document.querySelectorAll("select[data-navigate]").forEach(function (select) {
      select.addEventListener("change", function () { window.location.href = select.value; });
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  function resizeAll() {
    charts.forEach(function (chart) { chart.resize(); });
  }
  window.addEventListener("resize", resizeAll);
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
