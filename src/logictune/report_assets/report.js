// logictune report page: the question table, its filters and each question's work.
// Model text is hostile: it only ever enters the page through textContent (el() below), never as markup.
(function () {
  'use strict';
  var T = {script: performance.now()};
  var D = JSON.parse(document.getElementById('data').textContent);
  T.parsed = performance.now();
  // Each question's chains and programs (WORK[question][run]): JSON, gzipped and base64-encoded by
  // report_html.pack, inflated by the browser itself once the first rows are drawn.
  var WORK = null, waiting = [];
  function withWork(cb) { if (WORK) cb(); else waiting.push(cb); }
  function inflate() {
    var text = document.getElementById('work').textContent, bytes;
    if (Uint8Array.fromBase64) bytes = Uint8Array.fromBase64(text);
    else {
      var raw = atob(text);
      bytes = new Uint8Array(raw.length);
      for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    }
    if (typeof DecompressionStream === 'undefined') {
      document.getElementById('count').textContent += ' (this browser cannot inflate the programs: no DecompressionStream)';
      return;
    }
    new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).text().then(function (t) {
      WORK = JSON.parse(t);
      T.work = performance.now();
      window.__reportWork = T.work;
      waiting.splice(0).forEach(function (cb) { cb(); });
    });
  }
  var Q = D.questions, RUNS = D.runs, NR = RUNS.length, PAGE = 200;
  var LONG_LINES = 25, LONG_CHARS = 1500;
  var shown = [], drawn = 0, open = {};

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }
  function $(id) { return document.getElementById(id); }
  function key(q) { return q.id + '#' + q.qi; }
  function letter(i) { return String.fromCharCode(65 + i); }
  function votes(v) { return Object.keys(v).sort().map(function (k) { return k + ':' + v[k]; }).join(' '); }
  function mark(c) { return c === true ? '✓' : c === false ? '✗' : '?'; }
  function markCls(c) { return c === true ? 'right' : c === false ? 'wrong' : 'muted'; }
  function status(s) { return el('span', 'st st-' + String(s).replace(/[^a-z_]/g, ''), s); }

  // ------------------------------------------------------------ filters
  function uniq(values) {
    var seen = {}, out = [];
    values.forEach(function (v) { if (!(v in seen)) { seen[v] = 1; out.push(v); } });
    return out.sort(function (a, b) { return String(a).localeCompare(String(b), 'en', {numeric: true}); });
  }
  function fill(id, items) {
    var s = $(id);
    items.forEach(function (it) {
      var o = el('option', null, it[1]);
      o.value = it[0];
      s.appendChild(o);
    });
  }
  function counted(values) {
    var n = {};
    values.forEach(function (v) { n[v] = (n[v] || 0) + 1; });
    return uniq(values).map(function (v) { return [v, v + ' (' + n[v] + ')']; });
  }
  function all(label) { return [['', label]]; }
  fill('f-family', all('all').concat(counted(Q.map(function (q) { return q.family; }))));
  var statuses = [];
  Q.forEach(function (q) { q.runs.forEach(function (r, i) { statuses.push((NR > 1 ? letter(i) + ': ' : '') + r.status); }); });
  fill('f-status', all('all').concat(counted(statuses)));
  var progs = [];
  Q.forEach(function (q) { q.runs.forEach(function (r) { Object.keys(r.programs).forEach(function (s) { progs.push(s); }); }); });
  fill('f-program', all('any').concat(uniq(progs).map(function (s) { return [s, 'has a program: ' + s]; })));
  $('f-program').parentNode.hidden = progs.length === 0;
  var correct = NR === 1 ? [['right', 'right'], ['wrong', 'wrong']]
    : [['a', 'right → wrong (A right, B wrong)'], ['b', 'wrong → right (B right, A wrong)'],
       ['both', 'both right'], ['neither', 'both wrong'], ['differ', 'answers differ']];
  fill('f-correct', all('all').concat(correct));
  fill('f-options', all('all').concat(counted(Q.map(function (q) { return String(q.options.length); }))));

  var haystack = null, deepstack = null;
  function text(q) { return (q.id + '#' + q.qi + '\n' + D.problems[q.problem] + '\n' + q.question + '\n' + q.options.join('\n')).toLowerCase(); }
  function deep(q, i) {
    var parts = [];
    WORK[i].forEach(function (r) {
      r.samples.concat(r.fallback_samples).forEach(function (s) { parts.push(s.text, s.stdout || ''); });
    });
    return parts.join('\n').toLowerCase();
  }

  function keep(q, f) {
    if (f.family && q.family !== f.family) return false;
    if (f.options && String(q.options.length) !== f.options) return false;
    if (f.status && !q.runs.some(function (r, i) { return (NR > 1 ? letter(i) + ': ' : '') + r.status === f.status; })) return false;
    if (f.program && !q.runs.some(function (r) { return r.programs[f.program]; })) return false;
    var c = q.runs.map(function (r) { return r.correct; });
    if (f.correct === 'right' && c[0] !== true) return false;
    if (f.correct === 'wrong' && c[0] !== false) return false;
    if (f.correct === 'a' && !(c[0] === true && c[1] === false)) return false;
    if (f.correct === 'b' && !(c[0] === false && c[1] === true)) return false;
    if (f.correct === 'both' && !(c[0] === true && c[1] === true)) return false;
    if (f.correct === 'neither' && !(c[0] === false && c[1] === false)) return false;
    if (f.correct === 'differ' && q.runs[0].answer === q.runs[1].answer) return false;
    return true;
  }

  function apply() {
    var f = {family: $('f-family').value, status: $('f-status').value, program: $('f-program').value,
             correct: $('f-correct').value, options: $('f-options').value};
    var needle = $('f-search').value.trim().toLowerCase(), isDeep = $('f-deep').checked;
    if (needle && !haystack) haystack = Q.map(text);
    if (needle && isDeep && !WORK) { $('count').textContent = 'reading the programs…'; withWork(apply); return; }
    if (needle && isDeep && !deepstack) deepstack = Q.map(function (q, i) { return deep(q, i); });
    shown = [];
    for (var i = 0; i < Q.length; i++) {
      if (!keep(Q[i], f)) continue;
      if (needle && haystack[i].indexOf(needle) < 0 && !(isDeep && deepstack[i].indexOf(needle) >= 0)) continue;
      shown.push(i);
    }
    $('tbody').textContent = '';
    drawn = 0;
    $('count').textContent = shown.length + ' of ' + Q.length + ' questions';
    $('count').dataset.n = shown.length;
    more();
  }

  // ------------------------------------------------------------ the table
  var head = ['id', 'family', 'opts', 'gold'];
  if (NR === 1) head = head.concat(['method', 'answer', '', 'votes', 'tokens', 'status', 'programs']);
  else RUNS.forEach(function (r, i) { head = head.concat([letter(i) + ' answer', '', letter(i) + ' status', letter(i) + ' tokens']); });
  var tr = el('tr');
  head.forEach(function (h, i) {
    var th = add(el('th', null, h));
    if (NR > 1 && /^[A-Z] answer$/.test(h)) th.title = RUNS[h.charCodeAt(0) - 65].name;
    tr.appendChild(th);
  });
  $('thead').appendChild(tr);

  function programs(p) { return Object.keys(p).sort().map(function (k) { return k + '×' + p[k]; }).join(' '); }

  function row(i) {
    var q = Q[i], tr = el('tr', 'q');
    tr.dataset.i = i;
    tr.dataset.key = key(q);
    add(tr, el('td', null, key(q)), el('td', null, q.family), el('td', null, q.options.length), el('td', null, q.gold || '-'));
    q.runs.forEach(function (r) {
      if (NR === 1) add(tr, el('td', null, r.method || '-'));
      add(tr, el('td', null, r.answer || '-'), el('td', markCls(r.correct), mark(r.correct)));
      if (NR === 1) add(tr, el('td', null, votes(r.votes)));
      var st = el('td');
      st.appendChild(status(r.status));
      if (NR === 1) add(tr, el('td', null, r.tokens), st, el('td', 'muted', programs(r.programs)));
      else add(tr, st, el('td', null, r.tokens));
    });
    tr.addEventListener('click', function () { toggle(tr); });
    return tr;
  }

  function more() {
    var body = $('tbody'), end = Math.min(drawn + PAGE, shown.length);
    for (; drawn < end; drawn++) {
      var r = row(shown[drawn]);
      body.appendChild(r);
      if (open[r.dataset.key]) toggle(r);
    }
    $('more').hidden = drawn >= shown.length;
    $('more').textContent = 'show ' + Math.min(PAGE, shown.length - drawn) + ' more of ' + (shown.length - drawn);
  }
  $('more').addEventListener('click', more);
  if ('IntersectionObserver' in window) {
    new IntersectionObserver(function (es) { if (es[0].isIntersecting && drawn < shown.length) more(); },
                             {rootMargin: '400px'}).observe($('more'));
  }

  // ------------------------------------------------------------ one question's work
  function fold(label, body, cls) {
    var lines = body.split('\n').length;
    var pre = el('pre', cls, body);
    if (lines <= LONG_LINES && body.length <= LONG_CHARS) return pre;
    var d = el('details');
    add(d, el('summary', null, label + ' (' + lines + ' lines, ' + body.length + ' characters)'), pre);
    return d;
  }

  function sample(s, n, kind, counts) {
    var box = el('div', 'sample' + (counts ? ' counted' : ''));
    var h = el('div');
    add(h, el('strong', null, kind + ' ' + n));
    if (s.status) { h.appendChild(document.createTextNode(' ')); h.appendChild(status(s.status)); }
    var bits = [];
    if (s.status) bits.push('matched ' + (s.matched || '-'));
    bits.push('answer ' + (s.answer || '-'));
    if (s.tokens !== null && s.tokens !== undefined) bits.push(s.tokens + ' tokens');
    if (s.seconds !== null && s.seconds !== undefined) bits.push(s.seconds + ' s');
    if (s.error) bits.push('error ' + s.error);
    if (s.logprob !== null) bits.push('logprob ' + s.logprob);
    add(h, el('span', 'muted', ' · ' + bits.join(' · ')));
    box.appendChild(h);
    if (s.status) {
      add(box, el('div', 'muted', 'stdout' + (s.stdout ? '' : ': (empty)')));
      if (s.stdout) box.appendChild(fold('stdout', s.stdout, 'stdout'));
    }
    box.appendChild(fold(s.status ? 'program' : 'chain', s.text || '', 'text'));
    return box;
  }

  function runWork(q, r, i, w) {
    var col = el('div', 'run');
    var title = el('h3', null, (NR > 1 ? letter(i) + ': ' : '') + RUNS[i].name + ' — answer ' + (r.answer || '-') + ' ');
    add(title, el('span', markCls(r.correct), mark(r.correct)));
    col.appendChild(title);
    var info = ['method ' + (r.method || '-'), 'status ' + r.status, 'from ' + (r.source || '-')];
    if (Object.keys(r.votes).length) info.push('votes ' + votes(r.votes));
    if (r.probs) info.push('option probabilities ' + Object.keys(r.probs).map(function (k) { return k + ' ' + r.probs[k]; }).join(', '));
    col.appendChild(el('div', 'muted', info.join(' · ')));
    var kind = r.method === 'program' ? 'program' : 'chain';
    w.samples.forEach(function (s, n) { col.appendChild(sample(s, n + 1, kind, !!s.answer && !r.fallback)); });
    if (w.fallback_samples.length) col.appendChild(el('h4', null, 'fallback chains'));
    w.fallback_samples.forEach(function (s, n) { col.appendChild(sample(s, n + 1, 'chain', !!s.answer)); });
    if (!w.samples.length && !w.fallback_samples.length) col.appendChild(el('p', 'muted', 'no chains or programs'));
    return col;
  }

  function work(qi) {
    var q = Q[qi];
    var box = el('div', 'work');
    var p = D.problems[q.problem];
    box.appendChild(el('h3', null, 'problem'));
    box.appendChild(p.length > 600 ? fold('problem', p, 'problem') : el('pre', 'problem', p));
    box.appendChild(el('pre', 'question', q.question));
    var ol = el('ul', 'options');
    q.options.forEach(function (o, k) {
      var L = letter(k), li = el('li', L === q.gold ? 'gold' : null);
      li.appendChild(document.createTextNode(L + '. ' + o));
      if (L === q.gold) li.appendChild(el('span', 'badge gold', 'gold'));
      q.runs.forEach(function (r, i) {
        if (r.answer === L) li.appendChild(el('span', 'badge pick' + (q.gold && L !== q.gold ? ' wrong-pick' : ''), NR > 1 ? letter(i) + "'s answer" : 'answer'));
      });
      ol.appendChild(li);
    });
    box.appendChild(ol);
    var cols = el('div', 'cols');
    cols.style.setProperty('--n', NR);
    cols.appendChild(el('p', 'muted', 'reading the programs…'));
    withWork(function () {
      cols.textContent = '';
      q.runs.forEach(function (r, i) { cols.appendChild(runWork(q, r, i, WORK[qi][i])); });
    });
    box.appendChild(cols);
    return box;
  }

  function toggle(tr) {
    var next = tr.nextSibling, k = tr.dataset.key;
    if (next && next.classList.contains('detail-row')) {
      next.remove();
      tr.classList.remove('open');
      delete open[k];
      return;
    }
    var d = el('tr', 'detail-row'), td = el('td', 'detail');
    td.colSpan = head.length;
    td.appendChild(work(+tr.dataset.i));
    d.appendChild(td);
    tr.parentNode.insertBefore(d, tr.nextSibling);
    tr.classList.add('open');
    open[k] = 1;
  }

  // ------------------------------------------------------------ wiring
  var timer = null;
  ['f-family', 'f-status', 'f-program', 'f-correct', 'f-options', 'f-deep'].forEach(function (id) {
    $(id).addEventListener('change', apply);
  });
  $('f-search').addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(apply, 150); });
  $('f-reset').addEventListener('click', function () {
    ['f-family', 'f-status', 'f-program', 'f-correct', 'f-options', 'f-search'].forEach(function (id) { $(id).value = ''; });
    $('f-deep').checked = false;
    apply();
  });
  Array.prototype.forEach.call(document.querySelectorAll('a.flip'), function (a) {
    a.addEventListener('click', function (ev) {
      ev.preventDefault();
      $('f-reset').click();
      $('f-search').value = a.dataset.key;
      open[a.dataset.key] = 1;
      apply();
      $('questions').scrollIntoView();
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('button.flipset'), function (b) {
    b.addEventListener('click', function () {
      $('f-reset').click();
      $('f-correct').value = b.dataset.value;
      apply();
      $('questions').scrollIntoView();
    });
  });
  T.filters = performance.now();
  apply();
  T.ready = performance.now();
  window.__reportTimes = T;
  window.__reportReady = T.ready;
  document.body.dataset.ready = '1';
  setTimeout(inflate, 0);
})();
