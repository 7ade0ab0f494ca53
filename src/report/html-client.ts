/**
 * The browser-side scripts of report.html, as text. The page's plots are described in full by
 * the embedded JSON (html-plots.ts); these scripts only hand them to uPlot and record, on
 * <body>, how many plots were drawn and what failed, so a headless browser can check the page.
 */

/** Runs before anything else, so that errors in the library or the data are recorded too. */
export const RECORDER_JS = `(function () {
  'use strict';
  var body = document.body;
  var errors = [];
  var drawn = 0;
  function record(message) {
    errors.push(String(message));
    body.setAttribute('data-errors', errors.join(' | '));
  }
  window.onerror = function (message, source, line, column, error) {
    record(error && error.message ? error.message : message);
  };
  window.addEventListener('unhandledrejection', function (e) {
    record('unhandled rejection: ' + (e.reason && e.reason.message ? e.reason.message : e.reason));
  });
  // The page's Content-Security-Policy forbids every fetch; any attempt shows up here.
  document.addEventListener('securitypolicyviolation', function (e) {
    record('blocked by the content policy: ' + e.violatedDirective + ' ' + e.blockedURI);
  });
  window.numatierReport = {
    error: record,
    drawn: function () {
      drawn += 1;
      body.setAttribute('data-plots-drawn', String(drawn));
    }
  };
})();`;

export const MAIN_JS = `(function () {
  'use strict';
  var R = window.numatierReport;
  var HEIGHT = 300;
  var data;
  try {
    data = JSON.parse(document.getElementById('numatier-data').textContent);
  } catch (e) {
    R.error('report data: ' + (e && e.message ? e.message : e));
    return;
  }

  function sig(v, digits) {
    return String(Number(v.toPrecision(digits)));
  }
  // Short numbers for ticks, labels and the legend: 12.5k, 3.2M.
  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    var a = Math.abs(v);
    if (a >= 1e9) return sig(v / 1e9, 3) + 'G';
    if (a >= 1e6) return sig(v / 1e6, 3) + 'M';
    if (a >= 1e4) return sig(v / 1e3, 3) + 'k';
    return sig(v, 4);
  }
  // Category names are user-chosen; a long one would run into its neighbours (the legend has it whole).
  function shorten(name) {
    if (name === undefined || name === null) return '';
    return name.length > 24 ? name.slice(0, 23) + '…' : name;
  }
  function ticks(u, splits) {
    return splits.map(fmt);
  }
  // Room for the widest tick label, so large numbers are not clipped.
  function axisSize(u, values, axisIdx) {
    var axis = u.axes[axisIdx];
    var font = Array.isArray(axis.font) ? axis.font[0] : axis.font;
    var widest = 0;
    u.ctx.save();
    if (font) u.ctx.font = font;
    (values || []).forEach(function (s) {
      widest = Math.max(widest, u.ctx.measureText(String(s)).width);
    });
    u.ctx.restore();
    var ratio = window.devicePixelRatio || 1;
    return Math.ceil(widest / ratio) + (axis.ticks && axis.ticks.size ? axis.ticks.size : 10) + 12;
  }
  // Every quantity plotted is non-negative: start the axis at 0 so heights compare honestly.
  function fromZero(u, min, max) {
    var hi = max === null || max === undefined || !(max > 0) ? 1 : max * 1.08;
    return [0, hi];
  }
  function countOnce(el) {
    var counted = false;
    return function () {
      if (counted) return;
      counted = true;
      el.setAttribute('data-drawn', 'true');
      R.drawn();
    };
  }

  function lineChart(p, el, width) {
    var series = [{ label: p.xLabel, value: function (u, v) { return fmt(v); } }];
    p.series.forEach(function (s) {
      var thin = s.dash && s.dash[0] < 4;
      series.push({
        label: s.label,
        stroke: s.color,
        width: thin ? 1.5 : 2,
        dash: s.dash || undefined,
        paths: s.stepped ? uPlot.paths.stepped({ align: -1 }) : undefined,
        points: { show: false },
        spanGaps: false,
        value: function (u, v) { return fmt(v); }
      });
    });
    var opts = {
      width: width,
      height: HEIGHT,
      scales: {
        x: { time: false },
        y: { range: p.yRange ? function () { return p.yRange; } : fromZero }
      },
      axes: [
        { label: p.xLabel, values: ticks },
        { label: p.yLabel, values: ticks, size: axisSize }
      ],
      series: series,
      legend: { live: true },
      hooks: { draw: [countOnce(el)] }
    };
    var columns = [p.x].concat(p.series.map(function (s) { return s.values; }));
    return new uPlot(opts, columns, el);
  }

  function barChart(p, el, width) {
    var n = p.categories.length;
    var k = Math.max(1, p.series.length);
    var group = 0.7;
    var bar = group / k;
    var xs = p.categories.map(function (c, i) { return i; });
    var left = function (j) {
      return xs.map(function (i) { return i - group / 2 + j * bar; });
    };
    var series = [{
      label: p.xLabel,
      value: function (u, v) { return v === null || v === undefined ? '–' : p.categories[v]; }
    }];
    p.series.forEach(function (s, j) {
      series.push({
        label: s.label,
        stroke: s.color,
        fill: s.color,
        width: 0,
        points: { show: false },
        value: function (u, v) { return fmt(v); },
        paths: uPlot.paths.bars({
          disp: {
            x0: { unit: 1, values: function () { return left(j); } },
            size: { unit: 1, values: function () { return [bar]; } }
          }
        })
      });
    });
    // Values printed on the bars when there is room for them.
    function labels(u) {
      var ratio = window.devicePixelRatio || 1;
      if (u.valToPos(bar, 'x') - u.valToPos(0, 'x') < 30) return;
      var ctx = u.ctx;
      ctx.save();
      ctx.font = Math.round(11 * ratio) + 'px sans-serif';
      ctx.fillStyle = '#222';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      p.series.forEach(function (s, j) {
        if (!u.series[j + 1].show) return;
        s.values.forEach(function (v, i) {
          if (v === null) return;
          var x = u.valToPos(i - group / 2 + (j + 0.5) * bar, 'x', true);
          var y = u.valToPos(v, 'y', true);
          ctx.fillText(fmt(v), x, y - 2 * ratio);
        });
      });
      ctx.restore();
    }
    var opts = {
      width: width,
      height: HEIGHT,
      scales: {
        x: { time: false, range: function () { return [-0.5, n - 0.5]; } },
        y: {
          range: p.yMax !== undefined && p.yMax !== null
            ? function () { return [0, p.yMax * 1.08]; }
            : fromZero
        }
      },
      axes: [
        {
          label: p.xLabel,
          splits: function () { return xs; },
          values: function (u, splits) {
            return splits.map(function (v) { return shorten(p.categories[v]); });
          },
          grid: { show: false }
        },
        { label: p.yLabel, values: ticks, size: axisSize }
      ],
      cursor: { points: { show: false } },
      series: series,
      legend: { live: true },
      hooks: { draw: [labels, countOnce(el)] }
    };
    var columns = [xs].concat(p.series.map(function (s) { return s.values; }));
    return new uPlot(opts, columns, el);
  }

  var charts = [];
  data.plots.forEach(function (p) {
    var el = document.getElementById(p.id);
    if (!el) {
      R.error(p.id + ': no element for this plot');
      return;
    }
    try {
      if (typeof uPlot !== 'function') throw new Error('the plotting library did not load');
      var width = Math.max(360, el.clientWidth || 900);
      var chart = p.kind === 'bar' ? barChart(p, el, width) : lineChart(p, el, width);
      charts.push({ el: el, chart: chart });
    } catch (e) {
      var message = e && e.message ? e.message : String(e);
      el.textContent = 'This plot could not be drawn: ' + message;
      el.className += ' failed';
      R.error(p.id + ': ' + message);
    }
  });
  window.addEventListener('resize', function () {
    charts.forEach(function (c) {
      try {
        c.chart.setSize({ width: Math.max(360, c.el.clientWidth || 900), height: HEIGHT });
      } catch (e) {
        R.error('resize: ' + (e && e.message ? e.message : e));
      }
    });
  });
})();`;
