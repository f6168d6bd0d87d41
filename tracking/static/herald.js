// Herald in-app messages. Include it with the reader's inbox token (minted by your backend):
//   <script src="https://herald.example.com/inbox/v1/herald.js" data-token="…"></script>
// or call Herald.start({url: "https://herald.example.com", token: "…"}) yourself.
// It shows waiting messages one at a time (modal, or a banner for display_type "banner"),
// receives new ones live over server-sent events, and reports opened, clicked and dismissed.
(function () {
  'use strict';
  var me = document.currentScript;
  var state = { url: '', token: '', queue: [], shown: {}, open: null };

  // keepalive: a click on a link in a message unloads the page at once, which would otherwise
  // cancel the report (its CORS preflight alone takes a round trip).
  function report(id, metric) {
    return fetch(state.url + '/inbox/v1/messages/' + encodeURIComponent(id) + '/' + metric, {
      method: 'POST', headers: { Authorization: 'Bearer ' + state.token }, keepalive: true,
    }).catch(function () {});
  }

  function enqueue(msgs) {
    msgs.forEach(function (m) {
      if (m.state === 'dismissed' || state.shown[m.delivery_id]) return;
      state.shown[m.delivery_id] = true;
      state.queue.push(m);
    });
    next();
  }

  function close(el, m, metric) {
    el.remove();
    state.open = null;
    report(m.delivery_id, metric);
    next();
  }

  function next() {
    if (state.open || !state.queue.length || !document.body) return;
    var m = state.queue.shift();
    var banner = m.display_type === 'banner';
    var el = document.createElement('div');
    el.className = 'herald-message herald-' + (banner ? 'banner' : 'modal');
    el.setAttribute('role', banner ? 'status' : 'dialog');
    el.style.cssText = banner
      ? 'position:fixed;left:0;right:0;top:0;z-index:2147483647;background:#fff;box-shadow:0 2px 8px rgba(0,0,0,.2);padding:1rem'
      : 'position:fixed;inset:0;z-index:2147483647;background:rgba(0,0,0,.4);display:flex;align-items:center;justify-content:center';
    var box = document.createElement('div');
    if (!banner) box.style.cssText = 'background:#fff;max-width:28rem;width:90%;border-radius:8px;padding:1.5rem;position:relative';
    if (m.title) {
      var h = document.createElement('h2');
      h.textContent = m.title;
      box.appendChild(h);
    }
    var body = document.createElement('div');
    body.innerHTML = m.body; // the workspace's own rendered HTML
    box.appendChild(body);
    var x = document.createElement('button');
    x.type = 'button';
    x.setAttribute('aria-label', 'Close');
    x.textContent = '\u00d7';
    x.style.cssText = 'position:absolute;top:.5rem;right:.75rem;border:0;background:none;font-size:1.5rem;cursor:pointer';
    x.onclick = function () { close(el, m, 'dismissed'); };
    box.appendChild(x);
    box.addEventListener('click', function (e) {
      var a = e.target.closest && e.target.closest('a');
      if (a) report(m.delivery_id, 'clicked');
    });
    if (m.link) {
      box.style.cursor = 'pointer';
      body.onclick = function () { report(m.delivery_id, 'clicked').then(function () { location.href = m.link; }); };
    }
    el.appendChild(box);
    document.body.appendChild(el);
    state.open = m;
    if (m.state !== 'opened' && m.state !== 'clicked') report(m.delivery_id, 'opened');
  }

  function start(opts) {
    state.url = (opts.url || '').replace(/\/+$/, '');
    state.token = opts.token;
    if (window.EventSource) {
      var es = new EventSource(state.url + '/inbox/v1/stream?token=' + encodeURIComponent(state.token));
      es.addEventListener('inbox', function (e) { enqueue(JSON.parse(e.data).messages || []); });
      es.addEventListener('message', function (e) { enqueue([JSON.parse(e.data)]); });
    } else {
      fetch(state.url + '/inbox/v1/messages', { headers: { Authorization: 'Bearer ' + state.token } })
        .then(function (r) { return r.json(); })
        .then(function (d) { enqueue(d.messages || []); });
    }
    document.addEventListener('DOMContentLoaded', next);
  }

  window.Herald = { start: start };
  if (me && me.dataset.token) {
    start({ url: me.dataset.url || new URL(me.src).origin, token: me.dataset.token });
  }
})();
