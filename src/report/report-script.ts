/**
 * The report page's script: draws the charts from the precomputed summary and runs the table
 * (search, sort, pages) over the rows array. Plain browser JavaScript, kept as a string so the
 * report stays one file; it uses no template literals so it can live inside one here.
 */
export const REPORT_SCRIPT = String.raw`
(function () {
  "use strict";
  var summary = JSON.parse(document.getElementById("summary-data").textContent);
  var rows = JSON.parse(document.getElementById("rows-data").textContent);
  var COLORS = { POSITIVE: "#2e9e57", NEUTRAL: "#9e9e9e", NEGATIVE: "#d0453a", skipped: "#b9b2e0", none: "#d8c77a" };
  // Text drawn on a slice: dark on the light colours, white on the others.
  var INK = { POSITIVE: "#fff", NEUTRAL: "#fff", NEGATIVE: "#fff", skipped: "#222", none: "#222" };
  var SENTIMENTS = ["POSITIVE", "NEUTRAL", "NEGATIVE", "skipped", "none"];
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;

  // A long label goes on up to three lines of about 28 characters (the last cut with "…"), so that
  // the axis has room for it whole; the tooltip shows it in full.
  var LINE = 28;
  var LINES = 3;
  function wrap(label) {
    var lines = [];
    var line = "";
    String(label).split(/\s+/).forEach(function (word) {
      while (word.length > LINE) {
        if (line) { lines.push(line); line = ""; }
        lines.push(word.slice(0, LINE));
        word = word.slice(LINE);
      }
      if (!word) return;
      if (!line) line = word;
      else if (line.length + 1 + word.length <= LINE) line += " " + word;
      else { lines.push(line); line = word; }
    });
    if (line) lines.push(line);
    if (lines.length > LINES) {
      lines = lines.slice(0, LINES);
      lines[LINES - 1] = lines[LINES - 1].slice(0, LINE - 1) + "…";
    }
    return lines.length === 1 ? lines[0] : lines;
  }
  function fullTitles(labels) {
    return { callbacks: { title: function (items) { return items.length ? String(labels[items[0].dataIndex]) : ""; } } };
  }
  // Counts are whole numbers: ticks at integers only, from zero, and the axis says what it counts.
  function countAxis(title, stacked) {
    return { stacked: stacked, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: title } };
  }
  function categoryAxis(title, stacked, skip) {
    return { stacked: stacked, ticks: { autoSkip: skip }, title: { display: true, text: title } };
  }
  function stacked(labels, counts, horizontal, category) {
    var series = SENTIMENTS.filter(function (s) { return counts[s].some(function (n) { return n > 0; }); });
    var count = countAxis("articles", true);
    var categories = categoryAxis(category, true, !horizontal);
    return {
      type: "bar",
      data: { labels: labels.map(wrap), datasets: series.map(function (s) { return { label: s, data: counts[s], backgroundColor: COLORS[s] }; }) },
      options: {
        indexAxis: horizontal ? "y" : "x",
        scales: horizontal ? { x: count, y: categories } : { x: categories, y: count },
        plugins: { tooltip: fullTitles(labels) }
      }
    };
  }
  function bars(labels, values, counted, category, color) {
    return {
      type: "bar",
      data: { labels: labels.map(wrap), datasets: [{ label: counted, data: values, backgroundColor: color }] },
      options: {
        indexAxis: "y",
        plugins: { legend: { display: false }, tooltip: fullTitles(labels) },
        scales: { x: countAxis(counted, false), y: categoryAxis(category, false, false) }
      }
    };
  }
  // Each slice's count drawn on it (where the slice is wide enough), so the numbers show without hovering.
  var sliceNumbers = {
    id: "sliceNumbers",
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      var values = chart.data.datasets[0].data;
      ctx.save();
      ctx.font = "600 13px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      chart.getDatasetMeta(0).data.forEach(function (arc, i) {
        if (!chart.getDataVisibility(i) || !values[i] || arc.endAngle - arc.startAngle < 0.3) return;
        var at = arc.tooltipPosition();
        ctx.fillStyle = chart.data.ink[i];
        ctx.fillText(String(values[i]), at.x, at.y);
      });
      ctx.restore();
    }
  };
  var configs = {
    sentiment: function () {
      if (summary.records === 0) return null;
      var shown = SENTIMENTS.filter(function (s) { return summary.sentiment[s] > 0; });
      var values = shown.map(function (s) { return summary.sentiment[s]; });
      return {
        type: "doughnut",
        data: {
          // The legend says each count and share too.
          labels: shown.map(function (s, i) { return s + ": " + values[i] + " (" + Math.round(values[i] * 100 / summary.records) + "%)"; }),
          datasets: [{ data: values, backgroundColor: shown.map(function (s) { return COLORS[s]; }) }],
          ink: shown.map(function (s) { return INK[s]; })
        },
        options: { plugins: { legend: { position: "right" } } },
        plugins: [sliceNumbers]
      };
    },
    topics: function () {
      return summary.byTopic.labels.length ? stacked(summary.byTopic.labels, summary.byTopic.counts, true, "topic") : null;
    },
    time: function () {
      return summary.overTime.labels.length ? stacked(summary.overTime.labels, summary.overTime.counts, false, "publication " + summary.overTime.unit) : null;
    },
    experts: function () {
      if (!summary.activations.labels.length) return null;
      return {
        type: "bar",
        data: { labels: summary.activations.labels.map(wrap), datasets: [
          { label: "activations", data: summary.activations.activations, backgroundColor: "#4a78c2" },
          { label: "of which fallbacks", data: summary.activations.fallbacks, backgroundColor: "#e39b2d" }
        ] },
        options: {
          indexAxis: "y",
          plugins: { tooltip: fullTitles(summary.activations.labels) },
          scales: { x: countAxis("items", false), y: categoryAxis("expert", false, false) }
        }
      };
    },
    reasons: function () { return summary.reasons.labels.length ? bars(summary.reasons.labels, summary.reasons.counts, "decisions (an expert chosen or a task skipped, per item)", "routing reason", "#6a5acd") : null; },
    errors: function () {
      if (!summary.errors.counts.some(function (n) { return n > 0; })) {
        return { note: summary.records === 0 ? "Nothing to show." : "No errors: every item was valid and every expert succeeded on it." };
      }
      return bars(summary.errors.labels, summary.errors.counts, "items", "error", "#b3261e");
    },
    lengths: function () {
      if (!summary.lengths.length) return null;
      return {
        type: "scatter",
        data: { datasets: [{ label: "items", data: summary.lengths.map(function (p) { return { x: p[0], y: p[1] }; }), backgroundColor: "rgba(74,120,194,0.45)", pointRadius: 2 }] },
        options: {
          plugins: { legend: { display: false } },
          scales: {
            x: { beginAtZero: true, grace: "5%", ticks: { precision: 0 }, title: { display: true, text: "article (characters)" } },
            y: { beginAtZero: true, grace: "5%", ticks: { precision: 0 }, title: { display: true, text: "summary (characters)" } }
          }
        }
      };
    }
  };
  Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), function (box) {
    var config = configs[box.getAttribute("data-chart")]();
    if (!config || config.note) {
      var note = document.createElement("p");
      var needs = box.getAttribute("data-needs");
      note.className = config ? "note" : "empty";
      note.textContent = config ? config.note : needs ? "No " + needs + " in the data (news-moe report RESULTS --items INPUT adds them)." : "Nothing to show.";
      box.replaceWith(note);
      return;
    }
    var canvas = document.createElement("canvas");
    box.append(canvas);
    new Chart(canvas, config);
  });

  // The table: rows are [headline, url, summary, sentiment, score, experts, reasons, topic, date, errors].
  var SORT_FIELD = [0, 2, 3, 5, 6, 7, 8, 9];
  var PAGE = 50;
  var haystack = rows.map(function (r) {
    return [r[0], r[2], r[3], r[5], r[6], r[7], r[8], r[9]].join("\u0001").toLowerCase();
  });
  var shown = rows.map(function (_, i) { return i; });
  var page = 0;
  var sortColumn = -1;
  var descending = false;
  var body = document.querySelector("#articles tbody");
  var search = document.getElementById("search");

  function cell(text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }
  function render() {
    var pages = Math.max(1, Math.ceil(shown.length / PAGE));
    if (page >= pages) page = pages - 1;
    var fragment = document.createDocumentFragment();
    shown.slice(page * PAGE, page * PAGE + PAGE).forEach(function (index) {
      var r = rows[index];
      var tr = document.createElement("tr");
      var head = document.createElement("td");
      // The report only ever holds http(s) URLs here (linkableUrl); checked again, as it is a link.
      if (r[1] && /^https?:\/\//i.test(r[1])) {
        var link = document.createElement("a");
        link.href = r[1];
        link.rel = "noreferrer";
        link.textContent = r[0];
        head.append(link);
      } else {
        head.textContent = r[0];
      }
      tr.append(head, cell(r[2], r[2] === "skipped" ? "summary skipped" : "summary"), cell(r[3] ? r[3] + (r[4] === null ? "" : " " + r[4].toFixed(2)) : "", r[3]),
        cell(r[5]), cell(r[6]), cell(r[7]), cell(r[8]), cell(r[9]));
      fragment.append(tr);
    });
    body.replaceChildren(fragment);
    document.getElementById("count").textContent = shown.length + " of " + rows.length + " articles";
    document.getElementById("page").textContent = "page " + (page + 1) + " of " + pages;
    document.getElementById("prev").disabled = page === 0;
    document.getElementById("next").disabled = page + 1 >= pages;
  }
  function compare(a, b) {
    var field = SORT_FIELD[sortColumn];
    var x = rows[a][field], y = rows[b][field];
    var order = x < y ? -1 : x > y ? 1 : 0;
    if (order === 0 && field === 3) order = (rows[a][4] || 0) - (rows[b][4] || 0);
    return (descending ? -order : order) || a - b;
  }
  function filter() {
    var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    shown = [];
    for (var i = 0; i < rows.length; i++) {
      var text = haystack[i];
      var ok = true;
      for (var t = 0; t < terms.length && ok; t++) ok = text.indexOf(terms[t]) !== -1;
      if (ok) shown.push(i);
    }
    if (sortColumn >= 0) shown.sort(compare);
    page = 0;
    render();
  }
  var pending = null;
  search.addEventListener("input", function () {
    clearTimeout(pending);
    pending = setTimeout(filter, 120);
  });
  Array.prototype.forEach.call(document.querySelectorAll("#articles th"), function (th) {
    th.addEventListener("click", function () {
      var column = Number(th.getAttribute("data-column"));
      descending = sortColumn === column ? !descending : false;
      sortColumn = column;
      Array.prototype.forEach.call(document.querySelectorAll("#articles th"), function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      shown.sort(compare);
      page = 0;
      render();
    });
  });
  document.getElementById("prev").addEventListener("click", function () { page--; render(); });
  document.getElementById("next").addEventListener("click", function () { page++; render(); });
  render();
  document.body.setAttribute("data-ready", "true");
})();
`;
