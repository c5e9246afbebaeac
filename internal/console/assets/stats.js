// The statistics page's charts: Apache ECharts draws the figures the page carries as JSON
// (#stats-data, written by the server from the API's answers). Every chart has a table under
// it, so the page reads and prints without this script; the tables fold away once drawn.
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("stats-data");
    if (!el || !window.echarts) { return; }
    var d;
    try { d = JSON.parse(el.textContent); } catch (e) { return; }
    var t = d.text || {};
    var palette = ["#1f4e8c", "#b3261e", "#1e6b3a", "#c98a00", "#6a4c93", "#2a9d8f", "#8d99ae", "#e76f51"];
    var font = '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif';
    var charts = [];
    function chart(id, option) {
      var box = document.getElementById(id);
      if (!box) { return; }
      option.color = palette;
      option.textStyle = { fontFamily: font };
      option.animation = false;
      var c = echarts.init(box, null, { renderer: "canvas" });
      c.setOption(option);
      charts.push(c);
      var table = box.parentNode.querySelector("details.chart-table");
      if (table) { table.removeAttribute("open"); }
    }
    function empty(list) { return !list || list.length === 0; }
    function noData(option, list) {
      if (empty(list)) {
        option.title = { text: t.none || "", left: "center", top: "middle", textStyle: { color: "#5b6576", fontSize: 14, fontWeight: "normal" } };
      }
      return option;
    }
    function pie(list) {
      return noData({
        tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
        legend: { bottom: 0, type: "scroll" },
        series: [{ type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"], data: list || [],
          label: { formatter: "{b}\n{c}" } }]
      }, list);
    }
    function units(id, series, percent, names) {
      names = names || d.units || [];
      var box = document.getElementById(id);
      if (box && names.length > 8) { box.style.height = (names.length * 24 + 70) + "px"; }
      return noData({
        tooltip: { trigger: "axis", valueFormatter: percent ? function (v) { return v == null ? "—" : v + "%"; } : undefined },
        legend: series.length > 1 ? { top: 0 } : undefined,
        grid: { left: 8, right: 24, top: series.length > 1 ? 30 : 10, bottom: 8, containLabel: true },
        xAxis: { type: "value", min: 0, max: percent ? 100 : undefined, minInterval: percent ? 0 : 1, axisLabel: { formatter: percent ? "{value}%" : "{value}" } },
        yAxis: { type: "category", data: names, inverse: true, axisLabel: { interval: 0, width: 150, overflow: "truncate" } },
        series: series.map(function (s) {
          return { name: s.name, type: "bar", data: s.data, label: { show: names.length <= 12, position: "right", formatter: percent ? "{c}%" : "{c}" } };
        })
      }, names);
    }
    chart("chart-channel", pie(d.channel));
    chart("chart-category", pie(d.category));
    chart("chart-ontime", units("chart-ontime", [{ name: t.on_time_rate, data: d.ontime || [] }], true));
    chart("chart-satisfaction", units("chart-satisfaction", [
      { name: t.satisfaction, data: d.satisfaction || [] },
      { name: t.participation, data: d.participation || [] }
    ], true));
    chart("chart-overdue", units("chart-overdue", [{ name: t.overdue_now, data: d.overdue || [] }], false));
    var topics = (d.topics || []).slice(0, 10);
    chart("chart-topic", units("chart-topic", [{ name: t.received, data: topics.map(function (x) { return x.value; }) }], false,
      topics.map(function (x) { return x.name; })));
    chart("chart-screening", units("chart-screening", [{ name: t.screening_rate, data: d.screening_ontime || [] }], true,
      d.screening_units || []));
    chart("chart-trend", {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 8, top: 34, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: d.months || [] },
      yAxis: [
        { type: "value", name: t.count, min: 0, minInterval: 1 },
        { type: "value", name: t.rate, min: 0, max: 100, axisLabel: { formatter: "{value}%" }, splitLine: { show: false } }
      ],
      series: [
        { name: t.received, type: "bar", data: d.received || [] },
        { name: t.closed, type: "bar", data: d.closed || [] },
        { name: t.on_time_rate, type: "line", yAxisIndex: 1, data: d.trend_ontime || [], connectNulls: false,
          tooltip: { valueFormatter: function (v) { return v == null ? "—" : v + "%"; } } }
      ]
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
    // Paper gets the tables too.
    var folded = [];
    window.addEventListener("beforeprint", function () {
      folded = Array.prototype.slice.call(document.querySelectorAll("details.chart-table:not([open])"));
      folded.forEach(function (x) { x.setAttribute("open", ""); });
    });
    window.addEventListener("afterprint", function () {
      folded.forEach(function (x) { x.removeAttribute("open"); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
