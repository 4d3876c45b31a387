// tcptrace HTML report. Reads the JSON in #tcptrace-data, lists the
// connections a page at a time, and draws one connection's pictures when it
// is opened (a click, or a #conn-ID fragment). The ladder and the
// time-sequence graph mirror report/svg.go, element for element: keep the
// two in step. <html data-ready="1"> says the page rendered; data-errors
// collects script errors; data-open names the connection shown.
(function () {
  'use strict';
  var root = document.documentElement;
  function fail(msg) {
    root.setAttribute('data-errors', (root.getAttribute('data-errors') ? root.getAttribute('data-errors') + ' | ' : '') + msg);
  }
  window.addEventListener('error', function (e) { fail(String(e.message || e.type) + (e.lineno ? ' (line ' + e.lineno + ')' : '')); });
  window.addEventListener('unhandledrejection', function (e) { fail('unhandled rejection: ' + e.reason); });

  var D = JSON.parse(document.getElementById('tcptrace-data').textContent);
  var STATES = D.states, CAUSES = D.causes, CONNS = D.conns;
  var V = {};
  D.verdicts.forEach(function (n, i) { V[n] = 1 << i; });
  var FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16, URG = 32, ECE = 64, CWR = 128;
  var SEVRANK = { info: 1, low: 2, medium: 3, high: 4, critical: 5 };
  var STATECOLOR = {
    'UNKNOWN': '#bdbdbd', 'CLOSED': '#9e9e9e', 'LISTEN': '#78909c', 'SYN-SENT': '#42a5f5', 'SYN-RECEIVED': '#29b6f6',
    'ESTABLISHED': '#43a047', 'FIN-WAIT-1': '#fb8c00', 'FIN-WAIT-2': '#ef6c00', 'CLOSE-WAIT': '#ab47bc', 'CLOSING': '#e53935',
    'LAST-ACK': '#8e24aa', 'TIME-WAIT': '#6d4c41'
  };

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]; });
  }
  function f1(x) { return x.toFixed(1); }
  function secs(us) { return (us / 1e6).toFixed(6); }
  function flagStr(f) {
    if (!f) { return 'none'; }
    var o = '';
    [[SYN, 'S'], [FIN, 'F'], [RST, 'R'], [PSH, 'P'], [URG, 'U'], [ECE, 'E'], [CWR, 'W'], [ACK, '.']].forEach(function (x) { if (f & x[0]) { o += x[1]; } });
    return o;
  }
  function verdictStr(v) {
    var o = [];
    D.verdicts.forEach(function (n, i) { if (v & (1 << i)) { o.push(n); } });
    return o.join(',');
  }
  function dirName(d) { return d === 0 ? 'client' : 'server'; }
  function svgText(cls, x, y, anchor, body) {
    return '<text class="' + cls + '" x="' + f1(x) + '" y="' + f1(y) + '" text-anchor="' + anchor + '">' + esc(body) + '</text>\n';
  }
  // niceStep and trimFloat: as in svg.go.
  function niceStep(span, n) {
    if (span <= 0) { return 1; }
    var raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw))), r = raw / mag;
    if (r <= 1) { return mag; }
    if (r <= 2) { return 2 * mag; }
    if (r <= 5) { return 5 * mag; }
    return 10 * mag;
  }
  function trimFloat(v) {
    if (Math.abs(v) < 1e-12) { return '0'; }
    return v.toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
  }

  // packets decodes a connection's rows (report/html.go packetRows).
  function packets(c) {
    if (c._pk) { return c._pk; }
    c._pk = (c.p || []).map(function (r) {
      var p = { us: r[0], frame: r[1], dir: r[2] >> 8, flags: r[2] & 255, seq: r[3], ack: r[4], len: r[5], win: r[6], v: r[7], sacks: 0, sl: 0, sr: 0 };
      if (r.length > 8) { p.sacks = r[8]; p.sl = r[9]; p.sr = r[10]; }
      p.end = p.seq + p.len + (p.flags & SYN ? 1 : 0) + (p.flags & FIN ? 1 : 0);
      return p;
    });
    return c._pk;
  }
  // timeline decodes one side's transitions.
  function timeline(c, d) {
    return ((c.tl && c.tl[d]) || []).map(function (r) {
      return { us: r[0], frame: r[1], from: STATES[r[2]], to: STATES[r[3]], cause: CAUSES[r[4]], inferred: r[5] === 1 };
    });
  }
  function packetLabel(p) {
    var l = flagStr(p.flags) + ' ' + p.seq;
    if (p.flags & ACK) { l += ' ack ' + p.ack; }
    if (p.len > 0) { l += ' len ' + p.len; }
    return l;
  }
  function packetTitle(p) {
    var s = 'frame ' + p.frame + ', +' + secs(p.us) + ' s, ' + dirName(p.dir) + ': ' + flagStr(p.flags) + ' seq ' + p.seq + ':' + p.end;
    if (p.flags & ACK) { s += ' ack ' + p.ack; }
    s += ' win ' + p.win;
    if (p.sacks > 0) { s += ' sack ' + p.sl + ':' + p.sr + ' (' + p.sacks + ' blocks)'; }
    if (p.v) { s += ' [' + verdictStr(p.v) + ']'; }
    return s;
  }

  // ---- ladder diagram (svg.go WriteLadderSVG) ----
  var LADDER = { W: 820, XC: 250, XS: 610, TOP: 64, ROW: 28, SLANT: 14 };
  var ARROWFILLS = ['#1f5fa8', '#2a8a3e', '#d62728', '#8b0000'];
  function packetClass(p) {
    var c = p.dir === 0 ? 'pkt c2s' : 'pkt s2c', arrow = p.dir;
    if (p.v & V.retransmission) { c += ' rexmit'; arrow = 2; }
    if (p.flags & RST) { c += ' rst'; arrow = 3; }
    return [c, arrow];
  }
  function ladderMarks(c, P) {
    var index = {}, marks = [{}, {}], orphans = [[], []];
    P.forEach(function (p, i) { if (!(p.frame in index)) { index[p.frame] = i; } });
    [0, 1].forEach(function (d) {
      var last = 0;
      timeline(c, d).forEach(function (x) {
        var i = index[x.frame];
        if (i === undefined || /timer|stopped/.test(x.cause)) { orphans[d].push(x); return; }
        last = Math.max(last, i);
        (marks[d][last] = marks[d][last] || []).push(x);
      });
    });
    return { marks: marks, orphans: orphans };
  }
  function stateList(xs) {
    var inferred = false;
    var parts = xs.map(function (x) { if (x.inferred) { inferred = true; return '~' + x.to; } return x.to; });
    return [parts.join(' → '), inferred];
  }
  function ladderSVG(c) {
    var L = LADDER, P = packets(c), m = ladderMarks(c, P);
    var rows = P.length + m.orphans[0].length + m.orphans[1].length + (c.el ? 1 : 0);
    var height = L.TOP + rows * L.ROW + 56, o = [];
    o.push('<svg xmlns="http://www.w3.org/2000/svg" class="ladder" width="' + L.W + '" height="' + height + '" viewBox="0 0 ' + L.W + ' ' + height + '">\n');
    o.push('<rect width="100%" height="100%" fill="#fff"/>\n<defs>');
    ARROWFILLS.forEach(function (fill, i) {
      o.push('<marker id="ah-' + c.id + '-' + i + '" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto"><path d="M0,0L10,5L0,10z" fill="' + fill + '"/></marker>');
    });
    o.push('</defs>\n');
    o.push(svgText('host', L.XC, 18, 'middle', 'client ' + c.c));
    o.push(svgText('host', L.XS, 18, 'middle', 'server ' + c.s));
    o.push(svgText('state', L.XC - 8, L.TOP - 20, 'end', STATES[c.is[0]]));
    o.push(svgText('state', L.XS + 8, L.TOP - 20, 'start', STATES[c.is[1]]));
    var bottom = height - 36;
    o.push('<line class="life" x1="' + L.XC + '" y1="' + (L.TOP - 30) + '" x2="' + L.XC + '" y2="' + f1(bottom) + '"/>\n');
    o.push('<line class="life" x1="' + L.XS + '" y1="' + (L.TOP - 30) + '" x2="' + L.XS + '" y2="' + f1(bottom) + '"/>\n');
    var row = 0;
    P.forEach(function (p, i) {
      if (c.el && i === c.head) {
        var ye = L.TOP + row * L.ROW + L.SLANT / 2;
        o.push('<line class="elided" x1="' + L.XC + '" y1="' + f1(ye) + '" x2="' + L.XS + '" y2="' + f1(ye) + '"/>\n');
        o.push(svgText('note', (L.XC + L.XS) / 2, ye - 5, 'middle', '… ' + c.el + ' packets not kept (--ladder-packets) …'));
        row++;
      }
      var y0 = L.TOP + row * L.ROW, y1 = y0 + L.SLANT, x0 = L.XC, x1 = L.XS;
      if (p.dir === 1) { x0 = L.XS; x1 = L.XC; }
      var pc = packetClass(p);
      o.push('<line class="' + pc[0] + '" x1="' + f1(x0) + '" y1="' + f1(y0) + '" x2="' + f1(x1) + '" y2="' + f1(y1) + '" marker-end="url(#ah-' + c.id + '-' + pc[1] + ')"><title>' + esc(packetTitle(p)) + '</title></line>\n');
      var mx = (x0 + x1) / 2, my = (y0 + y1) / 2 - 5;
      var angle = Math.atan2(y1 - y0, x1 - x0) * 180 / Math.PI;
      if (p.dir === 1) { angle -= 180; }
      o.push('<text class="lbl" x="' + f1(mx) + '" y="' + f1(my) + '" text-anchor="middle" transform="rotate(' + angle.toFixed(2) + ' ' + f1(mx) + ' ' + f1(my + 5) + ')">' + esc(packetLabel(p)) + '</text>\n');
      o.push(svgText('time', 8, y0 + 4, 'start', secs(p.us)));
      o.push(svgText('frame', L.W - 6, y0 + 4, 'end', '#' + p.frame));
      [0, 1].forEach(function (d) {
        var ms = m.marks[d][i];
        if (!ms) { return; }
        var y = d === p.dir ? y0 : y1, sl = stateList(ms), cls = sl[1] ? 'state inferred' : 'state';
        if (d === 0) { o.push(svgText(cls, L.XC - 8, y + 4, 'end', sl[0])); } else { o.push(svgText(cls, L.XS + 8, y + 4, 'start', sl[0])); }
      });
      row++;
    });
    [0, 1].forEach(function (d) {
      m.orphans[d].forEach(function (x) {
        var y = L.TOP + row * L.ROW + L.SLANT / 2, sl = stateList([x]), cls = sl[1] ? 'state inferred' : 'state';
        o.push(svgText('time', 8, y + 4, 'start', secs(x.us)));
        if (d === 0) {
          o.push(svgText(cls, L.XC - 8, y + 4, 'end', sl[0]));
          o.push(svgText('note', L.XC + 8, y + 4, 'start', x.cause));
        } else {
          o.push(svgText(cls, L.XS + 8, y + 4, 'start', sl[0]));
          o.push(svgText('note', L.XS - 8, y + 4, 'end', x.cause));
        }
        row++;
      });
    });
    o.push(svgText('state final', L.XC - 8, bottom + 16, 'end', STATES[c.fs[0]]));
    o.push(svgText('state final', L.XS + 8, bottom + 16, 'start', STATES[c.fs[1]]));
    o.push('</svg>\n');
    return o.join('');
  }

  // ---- time-sequence graph (svg.go WriteTimeSeqSVG) ----
  var TSEQ = { W: 820, H: 440, L: 80, R: 800, T: 44, B: 390 };
  // zoom, when set, is a [from, to] µs range the user dragged across (the
  // page only; --svg draws the whole connection): the sequence axis fits
  // what falls in it, and the ACK in force when it starts.
  function tseqScale(P, d, zoom) {
    var sc = { t0: Infinity, t1: -Infinity, lo: Infinity, hi: -Infinity }, wmax = -Infinity, before = null;
    function see(v) { sc.lo = Math.min(sc.lo, v); sc.hi = Math.max(sc.hi, v); }
    P.forEach(function (p) {
      if (zoom && p.us < zoom[0]) {
        if (p.dir !== d && (p.flags & ACK)) { before = p; }
        return;
      }
      if (zoom && p.us > zoom[1]) { return; }
      sc.t0 = Math.min(sc.t0, p.us); sc.t1 = Math.max(sc.t1, p.us);
      if (p.dir === d && p.end > p.seq) { see(p.seq); see(p.end); } else if (p.dir !== d && (p.flags & ACK)) {
        see(p.ack);
        wmax = Math.max(wmax, p.ack + p.win);
        if (p.sacks > 0) { see(p.sl); see(p.sr); }
      }
    });
    if (before) { see(before.ack); wmax = Math.max(wmax, before.ack + before.win); }
    if (zoom) { sc.t0 = zoom[0]; sc.t1 = zoom[1]; }
    if (sc.t0 === Infinity) { sc.t0 = 0; sc.t1 = 1; }
    if (sc.t1 <= sc.t0) { sc.t1 = sc.t0 + 1; }
    if (sc.lo === Infinity) { sc.lo = 0; sc.hi = 1; }
    if (sc.hi <= sc.lo) { sc.hi = sc.lo + 1; }
    sc.hi = Math.max(sc.hi, Math.min(wmax, sc.hi + 3 * (sc.hi - sc.lo)));
    var pad = (sc.hi - sc.lo) * 0.04;
    sc.lo -= pad; sc.hi += pad;
    sc.x = function (us) { return TSEQ.L + (us - sc.t0) / (sc.t1 - sc.t0) * (TSEQ.R - TSEQ.L); };
    sc.y = function (s) { return TSEQ.B - (s - sc.lo) / (sc.hi - sc.lo) * (TSEQ.B - TSEQ.T); };
    return sc;
  }
  function segClass(p) {
    var c = 'seg';
    if (p.v & V.retransmission) { c += ' rexmit'; } else if (p.v & V.out_of_order) { c += ' ooo'; } else if (p.v & V.zero_window_probe) { c += ' probe'; }
    if (p.flags & SYN) { c += ' syn'; }
    if (p.flags & FIN) { c += ' fin'; }
    return c;
  }
  function zeroWindows(P, d) {
    var out = [], start = -1;
    P.forEach(function (p) {
      if (p.dir === d) { return; }
      if (p.win === 0 && !(p.flags & (SYN | FIN | RST))) { if (start < 0) { start = p.us; } } else if (p.win > 0 && start >= 0) { out.push([start, p.us]); start = -1; }
    });
    if (start >= 0 && P.length > 0) { out.push([start, P[P.length - 1].us]); }
    return out;
  }
  var lastScale = null; // the scale of the graph drawn last, for dragging
  function tseqSVG(c, d, zoom) {
    var P = packets(c), sc = tseqScale(P, d, zoom), T = TSEQ, o = [];
    lastScale = sc;
    o.push('<svg xmlns="http://www.w3.org/2000/svg" class="tseq" width="' + T.W + '" height="' + T.H + '" viewBox="0 0 ' + T.W + ' ' + T.H + '">\n');
    o.push('<rect width="100%" height="100%" fill="#fff"/>\n');
    var clip = 'clip-' + c.id + '-' + d;
    o.push('<defs><clipPath id="' + clip + '"><rect x="' + T.L + '" y="' + T.T + '" width="' + (T.R - T.L) + '" height="' + (T.B - T.T) + '"/></clipPath></defs>\n');
    var from = d === 0 ? c.c : c.s, to = d === 0 ? c.s : c.c;
    o.push(svgText('title', T.L, 20, 'start', '#' + c.id + ' time-sequence graph: ' + dirName(d) + ' ' + from + ' → ' + to));
    o.push(svgText('note', T.R, 36, 'end', 'segments (red: retransmitted), ACK (green), window (yellow), SACK (violet)'));
    var step = niceStep(sc.t1 - sc.t0, 6), v;
    for (v = Math.ceil(sc.t0 / step) * step; v <= sc.t1; v += step) {
      var x = sc.x(Math.trunc(v));
      o.push('<line class="grid" x1="' + f1(x) + '" y1="' + T.T + '" x2="' + f1(x) + '" y2="' + T.B + '"/>\n');
      o.push(svgText('tick', x, T.B + 16, 'middle', trimFloat(v / 1e6)));
    }
    step = niceStep(sc.hi - sc.lo, 6);
    for (v = Math.ceil(sc.lo / step) * step; v <= sc.hi; v += step) {
      var y = sc.y(Math.trunc(v));
      o.push('<line class="grid" x1="' + T.L + '" y1="' + f1(y) + '" x2="' + T.R + '" y2="' + f1(y) + '"/>\n');
      o.push(svgText('tick', T.L - 6, y + 4, 'end', trimFloat(v)));
    }
    o.push('<path class="axis" d="M' + T.L + ',' + T.T + 'V' + T.B + 'H' + T.R + '" fill="none"/>\n');
    o.push(svgText('tick', (T.L + T.R) / 2, T.H - 12, 'middle', 'time since the first packet (s)'));
    o.push('<text class="tick" transform="translate(14 ' + ((T.T + T.B) / 2) + ') rotate(-90)" text-anchor="middle">relative sequence number</text>\n');
    o.push('<g clip-path="url(#' + clip + ')">\n');
    zeroWindows(P, d).forEach(function (z) {
      var x0 = sc.x(z[0]), x1 = sc.x(z[1]);
      o.push('<rect class="zwin" x="' + f1(x0) + '" y="' + T.T + '" width="' + f1(Math.max(x1 - x0, 2)) + '" height="' + (T.B - T.T) + '"><title>zero window advertised by the ' + dirName(1 - d) + ', +' + secs(z[0]) + ' s to +' + secs(z[1]) + ' s</title></rect>\n');
    });
    if (c.el && c.head > 0 && c.head < P.length) {
      var g0 = sc.x(P[c.head - 1].us), g1 = sc.x(P[c.head].us);
      o.push('<rect class="gap" x="' + f1(g0) + '" y="' + T.T + '" width="' + f1(Math.max(g1 - g0, 2)) + '" height="' + (T.B - T.T) + '"><title>' + c.el + ' packets not kept (--ladder-packets)</title></rect>\n');
    }
    var ack = '', win = '';
    P.forEach(function (p) {
      if (p.dir === d || !(p.flags & ACK)) { return; }
      var x = f1(sc.x(p.us)), ya = f1(sc.y(p.ack)), yw = f1(sc.y(p.ack + p.win));
      if (ack === '') { ack = 'M' + x + ',' + ya; win = 'M' + x + ',' + yw; } else { ack += 'H' + x + 'V' + ya; win += 'H' + x + 'V' + yw; }
    });
    if (ack !== '') {
      var end = f1(sc.x(Math.trunc(sc.t1)));
      o.push('<path class="winline" d="' + win + 'H' + end + '"/>\n');
      o.push('<path class="ackline" d="' + ack + 'H' + end + '"/>\n');
    }
    P.forEach(function (p) {
      var x = sc.x(p.us);
      if (p.dir !== d && p.sacks > 0) {
        var cls = p.sr <= p.ack ? 'sack dsack' : 'sack';
        o.push('<line class="' + cls + '" x1="' + f1(x + 2) + '" y1="' + f1(sc.y(p.sl)) + '" x2="' + f1(x + 2) + '" y2="' + f1(sc.y(p.sr)) + '"><title>' + esc(packetTitle(p)) + '</title></line>\n');
      } else if (p.dir !== d && (p.v & V.duplicate_ack)) {
        o.push('<circle class="dupack" cx="' + f1(x) + '" cy="' + f1(sc.y(p.ack)) + '" r="2.5"><title>' + esc(packetTitle(p)) + '</title></circle>\n');
      }
    });
    P.forEach(function (p) {
      if (p.dir !== d) { return; }
      var x = sc.x(p.us);
      if (p.flags & RST) {
        var yr = sc.y(p.seq);
        o.push('<path class="rst" d="M' + f1(x - 4) + ',' + f1(yr - 4) + 'l8,8m0,-8l-8,8"><title>' + esc(packetTitle(p)) + '</title></path>\n');
      }
      if (p.end <= p.seq) { return; }
      var y0 = sc.y(p.seq), y1 = sc.y(p.end);
      o.push('<path class="' + segClass(p) + '" d="M' + f1(x - 3) + ',' + f1(y0) + 'H' + f1(x + 3) + 'M' + f1(x) + ',' + f1(y0) + 'V' + f1(y1) + 'M' + f1(x - 3) + ',' + f1(y1) + 'H' + f1(x + 3) + '"><title>' + esc(packetTitle(p)) + '</title></path>\n');
    });
    o.push('</g>\n</svg>\n');
    return o.join('');
  }
  // dataDir: as Trace.DataDir.
  function dataDir(c) {
    var n = [0, 0];
    packets(c).forEach(function (p) { n[p.dir] += p.end - p.seq; });
    return n[1] > n[0] ? 1 : 0;
  }

  // ---- state bars (HTML only) ----
  function barsSVG(c) {
    var W = 820, L = 110, R = W - 20, top = 26, rowH = 24, gapH = 12, H = top + 2 * rowH + gapH + 34;
    var tl = [timeline(c, 0), timeline(c, 1)];
    var end = Math.max(c.dur, 1);
    tl.forEach(function (xs) { xs.forEach(function (x) { end = Math.max(end, x.us); }); });
    function x(us) { return L + us / end * (R - L); }
    var o = ['<svg xmlns="http://www.w3.org/2000/svg" class="bars" width="' + W + '" height="' + H + '" viewBox="0 0 ' + W + ' ' + H + '">\n'];
    o.push('<rect width="100%" height="100%" fill="#fff"/>\n');
    o.push(svgText('title', L, 16, 'start', 'endpoint states over time (shared axis, seconds since the first packet)'));
    [0, 1].forEach(function (d) {
      var y = top + d * (rowH + gapH), state = STATES[c.is[d]], from = 0, inferred = false, cause = 'initial state';
      o.push(svgText('sidelbl', L - 8, y + rowH / 2 + 4, 'end', dirName(d)));
      function seg(to) {
        var x0 = x(from), w = Math.max(x(to) - x0, 1.5);
        o.push('<rect class="bar st-' + state + (inferred ? ' inferred' : '') + '" x="' + f1(x0) + '" y="' + y + '" width="' + f1(w) + '" height="' + rowH + '" fill="' + (STATECOLOR[state] || '#999') + '"' + (inferred ? ' fill-opacity="0.55"' : '') +
          '><title>' + esc(dirName(d) + ' ' + state + ' from +' + secs(from) + ' s to +' + secs(to) + ' s (' + cause + ')') + '</title></rect>\n');
        if (w > state.length * 7 + 6) { o.push(svgText('barlbl', x0 + 4, y + rowH / 2 + 4, 'start', (inferred ? '~' : '') + state)); }
      }
      tl[d].forEach(function (t) {
        seg(t.us);
        state = t.to; from = t.us; inferred = t.inferred; cause = 'frame ' + t.frame + ': ' + t.cause;
      });
      seg(end);
    });
    var axisY = top + 2 * rowH + gapH + 4, step = niceStep(end, 8);
    o.push('<path class="axis" d="M' + L + ',' + axisY + 'H' + R + '"/>\n');
    for (var v = 0; v <= end; v += step) { o.push(svgText('tick', x(v), axisY + 14, 'middle', trimFloat(v / 1e6))); }
    o.push('</svg>\n');
    return o.join('');
  }

  // ---- page ----
  var app = document.getElementById('app');
  var byID = {}, connFindings = {};
  CONNS.forEach(function (c, i) { byID[c.id] = i; });
  D.findings.forEach(function (f) {
    if (!f.connection) { return; }
    var cf = connFindings[f.connection] = connFindings[f.connection] || { n: 0, rank: 0, sev: '', list: [] };
    cf.n++; cf.list.push(f);
    if (SEVRANK[f.severity] > cf.rank) { cf.rank = SEVRANK[f.severity]; cf.sev = f.severity; }
  });
  function sevBadge(s) { return '<span class="sev sev-' + esc(s) + '">' + esc(s) + '</span>'; }

  function header() {
    var cap = D.capture, o = ['<h1>tcptrace report</h1><p class="muted">'];
    o.push(esc(cap.sources.join(', ')) + ' — ' + esc(cap.formats.join(', ')) + '; ' + cap.packets + ' packets, ' + cap.tcp_packets + ' TCP, ' + CONNS.length + ' connections');
    if (cap.first) { o.push('; ' + esc(cap.first) + ' .. ' + esc(cap.last)); }
    if (cap.filter) { o.push('; filter <code>' + esc(cap.filter) + '</code>'); }
    o.push('. ' + esc(D.tool) + '.</p>');
    (cap.warnings || []).forEach(function (w) { o.push('<p class="warn">warning: ' + esc(w) + '</p>'); });
    (cap.errors || []).forEach(function (w) { o.push('<p class="warn">error: ' + esc(w) + '</p>'); });
    return o.join('');
  }
  // Services first, then the per-host rows (r.host), as in the text report.
  function rollups() {
    var svc = D.rollups.filter(function (r) { return !r.host; }), hosts = D.rollups.filter(function (r) { return r.host; });
    var o = ['<section id="rollups"><h2>Services (worst first)</h2>'];
    if (!svc.length) { return o.join('') + '<p class="muted">No services.</p></section>'; }
    o.push('<table><tr><th>service</th><th class="num">connections</th><th class="num">handshake success</th><th class="num">resets</th><th class="num">refused</th><th class="num">unanswered</th><th class="num">half-close leaks</th><th class="num">retransmitted</th><th class="num">RTT p50/p95/p99 ms</th><th class="num">findings</th></tr>');
    svc.slice(0, 200).forEach(function (r) {
      var rtt = r.rtt_samples ? [r.rtt_p50_us, r.rtt_p95_us, r.rtt_p99_us].map(function (x) { return (x / 1000).toFixed(2); }).join('/') : '';
      o.push('<tr><td>' + esc(r.service) + '</td><td class="num">' + r.connections + '</td><td class="num">' + (100 * r.handshake_success).toFixed(0) + ' %</td><td class="num">' + r.resets +
        '</td><td class="num">' + r.refused + '</td><td class="num">' + r.unanswered + '</td><td class="num">' + r.half_close_leaks + '</td><td class="num">' + (100 * r.retransmission_rate).toFixed(1) + ' %</td><td class="num">' + rtt + '</td><td class="num">' + r.findings + '</td></tr>');
    });
    o.push('</table>');
    if (svc.length > 200) { o.push('<p class="muted">' + (svc.length - 200) + ' more services in -T json.</p>'); }
    if (hosts.length) {
      o.push('<h2>Hosts (worst first)</h2><table><tr><th>host</th><th class="num">services</th><th class="num">connections</th><th class="num">handshake success</th><th class="num">resets</th><th class="num">half-close leaks</th><th class="num">findings</th><th>IP-ID class</th><th>ISN verdict</th></tr>');
      hosts.slice(0, 200).forEach(function (r) {
        o.push('<tr><td>' + esc(r.host) + '</td><td class="num">' + r.services + '</td><td class="num">' + r.connections + '</td><td class="num">' + (100 * r.handshake_success).toFixed(0) + ' %</td><td class="num">' + r.resets +
          '</td><td class="num">' + r.half_close_leaks + '</td><td class="num">' + r.findings + '</td><td>' + esc(r.ipid_class || '') + '</td><td>' + esc(r.isn_verdict || '') + '</td></tr>');
      });
      o.push('</table>');
      if (hosts.length > 200) { o.push('<p class="muted">' + (hosts.length - 200) + ' more hosts in -T json.</p>'); }
    }
    return o.join('') + '</section>';
  }
  function findingItem(f) {
    var o = '<li>' + sevBadge(f.severity) + ' <b>' + esc(f.kind) + '</b> ' + esc(f.where);
    if (f.count > 1) { o += ' ×' + f.count; }
    if (f.connection) { o += ' — <a href="#conn-' + f.connection + '">connection #' + f.connection + '</a>, frames ' + f.first_frame + '–' + f.last_frame; }
    o += '<br><span class="expl">' + esc(f.explanation) + ' [' + esc(f.rfc) + ']';
    if (f.zeek) { o += ' Zeek: ' + esc(f.zeek) + '.'; }
    if (f.wireshark) { o += ' Wireshark: ' + esc(f.wireshark) + '.'; }
    return o + '</span></li>';
  }
  var findingsShown = 100;
  function findings() {
    var o = ['<h2>Findings (worst first)</h2>'];
    if (!D.findings.length) { return o.join('') + '<p class="muted">No findings.</p>'; }
    o.push('<ol class="findings">' + D.findings.slice(0, findingsShown).map(findingItem).join('') + '</ol>');
    if (D.findings.length > findingsShown) { o.push('<button id="morefindings">show all ' + D.findings.length + ' findings</button>'); }
    return o.join('');
  }

  // The connection list: filtered and sorted in memory, drawn a page at a time.
  var PAGE = 100;
  var list = { q: '', state: '', only: false, key: 'id', dir: 1, page: 0, rows: null };
  var COLS = [
    ['id', '#', function (c) { return c.id; }, true],
    ['c', 'client', function (c) { return c.c; }],
    ['s', 'server', function (c) { return c.s; }],
    ['hs', 'opened', function (c) { return c.hs; }],
    ['cl', 'closed', function (c) { return c.cl; }],
    ['f0', 'client state', function (c) { return STATES[c.fs[0]]; }],
    ['f1', 'server state', function (c) { return STATES[c.fs[1]]; }],
    ['dur', 'duration (s)', function (c) { return c.dur; }, true],
    ['np', 'packets', function (c) { return c.np[0] + c.np[1]; }, true],
    ['zs', 'zeek', function (c) { return c.zs; }],
    ['nf', 'findings', function (c) { var f = connFindings[c.id]; return f ? f.rank * 1e6 + f.n : 0; }, true]
  ];
  var hay = null;
  function haystack(i) {
    var c = CONNS[i];
    return ('#' + c.id + ' ' + c.c + ' ' + c.s + ' ' + c.hs + ' ' + c.cl + ' ' + STATES[c.fs[0]] + ' ' + STATES[c.fs[1]] + ' ' + c.zs + ' ' + c.zh).toLowerCase();
  }
  function computeRows() {
    var q = list.q.toLowerCase().trim(), st = list.state === '' ? -1 : +list.state, out = [];
    if (q && !hay) { hay = CONNS.map(function (c, i) { return haystack(i); }); }
    var words = q ? q.split(/\s+/) : [];
    for (var i = 0; i < CONNS.length; i++) {
      var c = CONNS[i];
      if (st >= 0 && c.fs[0] !== st && c.fs[1] !== st) { continue; }
      if (list.only && !connFindings[c.id]) { continue; }
      var ok = true;
      for (var w = 0; w < words.length; w++) {
        // #ID names one connection exactly; other words match anywhere.
        if (words[w].charAt(0) === '#' ? words[w] !== '#' + c.id : hay[i].indexOf(words[w]) < 0) { ok = false; break; }
      }
      if (ok) { out.push(i); }
    }
    var col = COLS.filter(function (x) { return x[0] === list.key; })[0], get = col[2], dir = list.dir;
    var keys = {};
    out.forEach(function (i) { keys[i] = get(CONNS[i]); });
    out.sort(function (a, b) { var ka = keys[a], kb = keys[b]; if (ka < kb) { return -dir; } if (ka > kb) { return dir; } return CONNS[a].id - CONNS[b].id; });
    list.rows = out;
  }
  function connsSection() {
    var opts = STATES.map(function (s, i) { return '<option value="' + i + '">' + esc(s) + '</option>'; }).join('');
    return '<section id="conns"><h2>Connections</h2><div class="controls">' +
      '<input type="search" id="q" placeholder="filter: id, address, port, state, handshake, close, zeek…">' +
      '<select id="state"><option value="">any final state</option>' + opts + '</select>' +
      '<label><input type="checkbox" id="only"> with findings only</label><span id="count" class="muted"></span></div>' +
      '<table id="clist"><thead><tr>' + COLS.map(function (x) { return '<th class="sort' + (x[3] ? ' num' : '') + '" data-key="' + x[0] + '">' + esc(x[1]) + '</th>'; }).join('') +
      '</tr></thead><tbody></tbody></table><div class="pager"><button id="prev">◀ previous</button><span id="pageinfo"></span><button id="next">next ▶</button></div></section>';
  }
  function renderList() {
    if (!list.rows) { computeRows(); }
    var rows = list.rows, pages = Math.max(1, Math.ceil(rows.length / PAGE));
    list.page = Math.min(list.page, pages - 1);
    var open = +root.getAttribute('data-open') || 0, o = [];
    rows.slice(list.page * PAGE, (list.page + 1) * PAGE).forEach(function (i) {
      var c = CONNS[i], f = connFindings[c.id];
      o.push('<tr class="row' + (c.id === open ? ' open' : '') + '" data-id="' + c.id + '" id="row-' + c.id + '"><td class="num"><a href="#conn-' + c.id + '">' + c.id + '</a></td><td>' + esc(c.c) + '</td><td>' + esc(c.s) + '</td><td>' + esc(c.hs) + '</td><td>' + esc(c.cl) +
        '</td><td>' + esc(STATES[c.fs[0]]) + '</td><td>' + esc(STATES[c.fs[1]]) + '</td><td class="num">' + secs(c.dur) + '</td><td class="num">' + (c.np[0] + c.np[1]) + '</td><td>' + esc(c.zs) +
        '</td><td class="num">' + (f ? sevBadge(f.sev) + ' ' + f.n : '') + '</td></tr>');
    });
    document.querySelector('#clist tbody').innerHTML = o.join('');
    document.getElementById('count').textContent = rows.length + ' of ' + CONNS.length + ' connections';
    document.getElementById('pageinfo').textContent = ' page ' + (list.page + 1) + ' of ' + pages + ' ';
    document.getElementById('prev').disabled = list.page === 0;
    document.getElementById('next').disabled = list.page >= pages - 1;
    document.querySelectorAll('#clist th').forEach(function (th) {
      th.classList.remove('asc', 'desc');
      if (th.getAttribute('data-key') === list.key) { th.classList.add(list.dir > 0 ? 'asc' : 'desc'); }
    });
  }

  function transitionsTable(c) {
    var rows = [];
    [0, 1].forEach(function (d) { timeline(c, d).forEach(function (t) { rows.push([t, d]); }); });
    rows.sort(function (a, b) { return a[0].us - b[0].us || a[0].frame - b[0].frame; });
    return '<table><tr><th class="num">frame</th><th class="num">+seconds</th><th>client</th><th>server</th><th>cause</th></tr>' + rows.map(function (r) {
      var t = r[0], cell = (t.inferred ? '~' : '') + esc(t.from) + ' → ' + esc(t.to);
      return '<tr><td class="num">' + t.frame + '</td><td class="num">' + secs(t.us) + '</td><td>' + (r[1] === 0 ? cell : '') + '</td><td>' + (r[1] === 1 ? cell : '') + '</td><td>' + esc(t.cause) + '</td></tr>';
    }).join('') + '</table>';
  }
  // tseqView draws the time-sequence graph of d into #tseq, zoomed to a
  // µs range or whole, and lets a drag across it zoom in.
  function tseqView(c, d, zoom) {
    var box = document.getElementById('tseq');
    box.innerHTML = tseqSVG(c, d, zoom);
    var svg = box.querySelector('svg'), sc = lastScale, T = TSEQ, from = null, sel = null;
    function at(e) {
      var r = svg.getBoundingClientRect();
      return Math.min(T.R, Math.max(T.L, (e.clientX - r.left) * T.W / r.width));
    }
    svg.addEventListener('mousedown', function (e) {
      from = at(e);
      sel = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
      sel.setAttribute('class', 'zoomsel');
      sel.setAttribute('y', T.T); sel.setAttribute('height', T.B - T.T); sel.setAttribute('x', from); sel.setAttribute('width', 0);
      svg.appendChild(sel);
      e.preventDefault();
    });
    svg.addEventListener('mousemove', function (e) {
      if (from === null) { return; }
      var x = at(e);
      sel.setAttribute('x', Math.min(from, x)); sel.setAttribute('width', Math.abs(x - from));
    });
    svg.addEventListener('mouseup', function (e) {
      if (from === null) { return; }
      var x = at(e), a = Math.min(from, x), b = Math.max(from, x);
      from = null;
      if (b - a < 4) { sel.remove(); return; }
      function us(px) { return Math.round(sc.t0 + (px - T.L) / (T.R - T.L) * (sc.t1 - sc.t0)); }
      tseqView(c, d, [us(a), us(b)]);
    });
    svg.addEventListener('dblclick', function () { tseqView(c, d, null); });
    // The address names the view (#conn-ID/t=FROM-TO, µs), to come back
    // to or pass on; replaceState does not reopen the connection.
    var hash = '#conn-' + c.id + (zoom ? '/t=' + zoom[0] + '-' + zoom[1] : '');
    if (location.hash !== hash && d === dataDir(c)) { history.replaceState(null, '', hash); }
  }
  function openConn(id, zoom) {
    var det = document.getElementById('detail'), i = byID[id];
    if (i === undefined) { det.hidden = false; det.innerHTML = '<h2>Connection #' + esc(id) + '</h2><p class="warn">No such connection in this report.</p>'; return; }
    var c = CONNS[i], P = packets(c), f = connFindings[c.id], o = [];
    o.push('<h2>Connection #' + c.id + ': ' + esc(c.c) + ' → ' + esc(c.s) + '</h2>');
    o.push('<table class="facts"><tr><td>opened ' + esc(c.hs) + ', closed ' + esc(c.cl) + '</td><td>final: client ' + esc(STATES[c.fs[0]]) + ', server ' + esc(STATES[c.fs[1]]) + '</td><td>duration ' + secs(c.dur) + ' s</td></tr>' +
      '<tr><td>start ' + esc(c.t0) + '</td><td>client ' + c.np[0] + ' pkts ' + c.nb[0] + ' B (payload ' + c.pl[0] + '), server ' + c.np[1] + ' pkts ' + c.nb[1] + ' B (payload ' + c.pl[1] + ')</td><td>zeek ' + esc(c.zs) + ' ' + esc(c.zh) + ', ' + esc(c.er) + '</td></tr></table>');
    if (c.rg) { o.push('<p class="muted">Roles guessed: ' + esc(c.rg) + '</p>'); }
    if (c.v) { o.push('<p class="warn">violations: ' + Object.keys(c.v).sort().map(function (k) { return esc(k) + ' ×' + c.v[k]; }).join(', ') + '</p>'); }
    if (f) { o.push('<ol class="findings">' + f.list.map(findingItem).join('') + '</ol>'); }
    if (c.el) {
      o.push('<p class="cut" id="cut">Packets cut: only the first ' + c.head + ' and the last ' + (P.length - c.head) + ' of this connection\'s ' + (P.length + c.el) + ' packets were kept (--ladder-packets ' + D.ladder_packets + '); ' + c.el + ' in between are not drawn.</p>');
    }
    o.push('<h3>State timelines</h3><div class="figure" id="bars">' + barsSVG(c) + '</div>');
    if (!P.length) {
      o.push('<p class="muted">No packets were kept for this connection.</p>');
    } else {
      var dd = dataDir(c);
      o.push('<h3>Ladder diagram</h3><div class="figure" id="ladder">' + ladderSVG(c) + '</div>');
      o.push('<h3>Time-sequence graph</h3><div class="dirs">direction: <button data-dir="0"' + (dd === 0 ? ' disabled' : '') + '>client → server</button><button data-dir="1"' + (dd === 1 ? ' disabled' : '') + '>server → client</button></div>');
      o.push('<div class="figure" id="tseq"></div><p class="muted">Drag across the graph to zoom in on a stretch of time; double-click to see it all.</p>');
    }
    o.push('<h3>Transitions</h3>' + transitionsTable(c));
    det.innerHTML = o.join('');
    det.hidden = false;
    if (P.length) { tseqView(c, dataDir(c), zoom); }
    det.querySelectorAll('.dirs button').forEach(function (b) {
      b.addEventListener('click', function () {
        tseqView(c, +b.getAttribute('data-dir'), null);
        det.querySelectorAll('.dirs button').forEach(function (x) { x.disabled = x === b; });
      });
    });
    root.setAttribute('data-open', String(c.id));
    document.querySelectorAll('#clist tr.row').forEach(function (tr) { tr.classList.toggle('open', +tr.getAttribute('data-id') === c.id); });
    det.scrollIntoView();
  }
  function onHash() {
    var m = /^#conn-(\d+)(?:\/t=(\d+)-(\d+))?$/.exec(location.hash);
    if (m) { openConn(+m[1], m[2] !== undefined && +m[3] > +m[2] ? [+m[2], +m[3]] : null); }
  }

  function start() {
    app.innerHTML = header() + rollups() + '<section id="findings">' + findings() + '</section>' + connsSection() + '<section id="detail" hidden></section>';
    var timer = 0;
    function refilter() { list.rows = null; list.page = 0; renderList(); }
    document.getElementById('q').addEventListener('input', function (e) {
      list.q = e.target.value; clearTimeout(timer); timer = setTimeout(refilter, 150);
    });
    document.getElementById('state').addEventListener('change', function (e) { list.state = e.target.value; refilter(); });
    document.getElementById('only').addEventListener('change', function (e) { list.only = e.target.checked; refilter(); });
    document.getElementById('prev').addEventListener('click', function () { list.page--; renderList(); });
    document.getElementById('next').addEventListener('click', function () { list.page++; renderList(); });
    document.querySelectorAll('#clist th').forEach(function (th) {
      th.addEventListener('click', function () {
        var k = th.getAttribute('data-key');
        if (list.key === k) { list.dir = -list.dir; } else { list.key = k; list.dir = 1; }
        list.rows = null; renderList();
      });
    });
    document.querySelector('#clist tbody').addEventListener('click', function (e) {
      var tr = e.target.closest('tr.row');
      if (tr && e.target.tagName !== 'A') { location.hash = '#conn-' + tr.getAttribute('data-id'); }
    });
    document.getElementById('findings').addEventListener('click', function (e) {
      if (e.target.id === 'morefindings') { findingsShown = D.findings.length; document.getElementById('findings').innerHTML = findings(); }
    });
    window.addEventListener('hashchange', onHash);
    renderList();
    onHash();
    root.setAttribute('data-ready', '1');
  }
  try {
    start();
  } catch (e) {
    fail(String(e && e.stack || e));
    throw e;
  }
}());
