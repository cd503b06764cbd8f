/*! Tandem frame mode, on the merchant's page. See docs/embedding.md. */
// Fetched by the loader (tandem.js), with its integrity checked, only when the page's policy
// refuses WebAssembly or the tag asks for data-mode="frame": the chat then runs in an iframe
// from the Tandem origin, under that origin's own policy. This file places the frame like the
// panel, opens and closes it, and talks to it by postMessage: an exact target origin both
// ways, and only messages from that frame's window and origin, of schema version 1.
(function () {
  'use strict';
  var h = window.__tandem_frame;
  if (!h) return;
  // The frame's page, beside the app's files (Trunk's public_url).
  var page = h.api + '/widget/frame.html';
  delete window.__tandem_frame;
  var X = 'var(--tandem-offset-x,20px)';
  var Y = 'var(--tandem-offset-y,20px)';
  h.adopt(h.root,
    '.frame{position:fixed;right:' + X + ';bottom:calc(' + Y + ' + 64px);z-index:2147483001;display:block;' +
    'width:min(380px,calc(100vw - 24px));height:min(560px,calc(100vh - ' + Y + ' - 88px));' +
    'border:0;border-radius:var(--tandem-radius,14px);box-shadow:0 12px 40px rgba(0,0,0,.28);background:transparent}' +
    ':host([position=left]) .frame{right:auto;left:' + X + '}.frame[hidden]{display:none}' +
    '@media (max-width:480px){.frame,:host([position=left]) .frame{inset:0;width:100%;height:100%;border-radius:0}}');
  // The launcher's label, and the catalogues' launcher.close from the loader's texts.
  var labels = h.labels;
  // The custom properties the frame takes from the page (docs/theming.md).
  var THEMED = 'accent on-accent surface text muted bubble border link focus focus-inner warning-surface warning-text danger radius font'.split(' ');
  var host = h.host;
  var launcher = h.launcher;
  var skill = host.getAttribute('skill');
  var frame = document.createElement('iframe');
  [['class', 'frame'], ['part', 'frame'], ['id', 'tandem-frame'], ['title', labels[0]], ['hidden', ''],
    ['src', page + '?merchant=' + encodeURIComponent(h.merchant) + '&parent=' + encodeURIComponent(location.origin) +
      '&lang=' + encodeURIComponent(h.lang) + (skill ? '&skill=' + encodeURIComponent(skill) : '')]].forEach(function (a) {
    frame.setAttribute(a[0], a[1]);
  });
  launcher.setAttribute('aria-controls', 'tandem-frame');
  var ready = false;
  var shown = false;

  function post(message) {
    message.tandem = 1;
    try {
      frame.contentWindow.postMessage(message, h.api);
    } catch (e) {
      console.warn('Tandem: cannot pass that to the chat (' + e + ').');
    }
  }

  function show(open) {
    var hadFocus = h.root.activeElement === frame;
    shown = open;
    frame.hidden = !open;
    launcher.setAttribute('aria-expanded', String(open));
    h.text.textContent = labels[open ? 1 : 0];
    post({ type: 'open', open: open });
    if (open) frame.focus();
    else if (hadFocus) launcher.focus();
  }

  function start(ongoing) {
    ready = true;
    clearTimeout(timer);
    launcher.removeAttribute('aria-busy');
    h.storage(true, ongoing);
    var vars = {};
    var computed = getComputedStyle(host);
    THEMED.forEach(function (name) {
      var value = computed.getPropertyValue('--tandem-' + name).trim();
      if (value) vars['--tandem-' + name] = value;
    });
    post({ type: 'init', theme: host.getAttribute('theme') || '', vars: vars, page: location.href });
    h.attach({
      open: function () { show(true); },
      close: function () { show(false); },
      toggle: function () { show(!shown); },
      identify: function (identity) { post({ type: 'call', method: 'identify', arg: identity }); },
      setLocale: function (tag) { post({ type: 'call', method: 'setLocale', arg: tag }); },
      setContext: function (context) { post({ type: 'call', method: 'setContext', arg: context }); }
    });
    if (h.driver.wanted || ongoing) show(true);
  }

  window.addEventListener('message', function (e) {
    var m = e.data;
    if (e.source !== frame.contentWindow || e.origin !== h.api || !m || m.tandem !== 1) return;
    if (m.type === 'ready' && !ready) {
      start(m.ongoing === true);
    } else if (m.type === 'close') {
      show(false);
    } else if (m.type === 'event' && h.events.indexOf(m.name) >= 0 && typeof m.detail === 'object') {
      if (m.name === 'handoff' || m.name === 'closed') h.storage(true, m.name === 'handoff');
      host.dispatchEvent(new CustomEvent('tandem:' + m.name, { detail: m.detail, bubbles: true, composed: true }));
    }
  });
  document.addEventListener('securitypolicyviolation', function (e) {
    if (!ready && e.blockedURI.indexOf(h.api) === 0 && /^(frame|child|default)-src/.test(e.effectiveDirective)) {
      h.fail("this page's Content-Security-Policy refuses the chat's frame: add " + h.api + ' to its frame-src directive.');
    }
  });
  var timer = setTimeout(function () {
    if (!ready) h.fail("the chat frame did not start: is this page's origin one of the merchant's allowed origins?");
  }, 20000);
  h.driver.click = function () {
    if (ready) show(!shown);
    else h.driver.wanted = true;
  };
  h.root.append(frame);
})();
