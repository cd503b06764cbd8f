/*! Tandem chat loader: draws the launcher, loads the app on intent. See docs/embedding.md. */
// Every page with the widget downloads this file: keep it small (budget: 3 KB brotli) and
// keep explanations in docs/embedding.md and docs/theming.md.
(function () {
  'use strict';
  var TAG = 'tandem-chat';
  var script = document.currentScript;
  if (!script || customElements.get(TAG)) return;
  var merchant = script.getAttribute('data-merchant');
  if (!merchant) {
    console.warn('Tandem: add data-merchant="<your merchant id>" to the tandem.js script tag.');
    return;
  }
  var base = script.src.replace(/[^/]*$/, '');
  var apiOrigin = new URL(base).origin;
  var preloadWhenIdle = script.getAttribute('data-preload') === 'idle';
  // The catalogues' launcher.open (a test compares them).
  var LABELS = { en: 'Chat with us', sv: 'Chatta med oss', de: 'Chatten Sie mit uns' };
  var pageLang = (document.documentElement.lang || navigator.language || 'en').slice(0, 2).toLowerCase();

  // The JS API: calls wait in `queue` until the app attaches (src/page_api.rs).
  var EVENTS = ['handoff', 'agent-joined', 'message', 'closed'];
  var queue = [];
  var app = null;
  var hostElement = null;
  var requestLoad = function () {};
  function call(method, opens) {
    return function () {
      var args = [].slice.call(arguments);
      if (app) return app[method].apply(null, args);
      queue.push([method, args]);
      if (opens) requestLoad();
    };
  }
  window.Tandem = {
    open: call('open', true),
    close: call('close', false),
    toggle: call('toggle', true),
    identify: call('identify', false),
    setLocale: call('setLocale', false),
    on: function (event, fn) {
      if (EVENTS.indexOf(event) < 0 || typeof fn !== 'function') {
        console.warn('Tandem.on: events are ' + EVENTS);
        return;
      }
      listeners.push([event, fn]);
      if (hostElement) listen(event, fn);
    }
  };
  var listeners = [];
  function listen(event, fn) {
    hostElement.addEventListener('tandem:' + event, function (e) { fn(e.detail); });
  }

  // `all:initial` keeps the page's styles out. The theme's defaults (style/widget.css) sit on
  // :host, where the page's own `tandem-chat` rule wins; the launcher needs its two colours
  // (light and dark) before that file loads.
  var DARK = '{--tandem-accent:#8ab4ff;--tandem-on-accent:#0b1530}';
  var CSS =
    ':host{all:initial!important}' +
    ':host([theme=dark])' + DARK + '@media (prefers-color-scheme:dark){:host(:not([theme=light]))' + DARK + '}' +
    '.launcher{position:fixed;right:var(--tandem-offset-x,20px);bottom:var(--tandem-offset-y,20px);z-index:2147483000;' +
    'display:inline-flex;align-items:center;gap:8px;' +
    'min-height:48px;padding:0 18px;border:0;border-radius:999px;box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer;' +
    'background:var(--tandem-accent,#1f4fd1);color:var(--tandem-on-accent,#fff);text-decoration:none;letter-spacing:normal;' +
    'font:600 15px/1.2 var(--tandem-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif)}' +
    ':host([position=left]) .launcher{right:auto;left:var(--tandem-offset-x,20px)}' +
    '.launcher:focus-visible{outline:3px solid var(--tandem-launcher-focus,#111);outline-offset:3px}' +
    '.launcher[aria-busy=true]{cursor:progress}' +
    '.launcher svg{width:20px;height:20px;flex:none}';
  var ICON = 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z';
  var SVG = 'http://www.w3.org/2000/svg';

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var name in attrs) node.setAttribute(name, attrs[name]);
    (children || []).forEach(function (child) { node.append(child); });
    return node;
  }

  function icon() {
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    var path = document.createElementNS(SVG, 'path');
    path.setAttribute('fill', 'currentColor');
    path.setAttribute('d', ICON);
    svg.append(path);
    return svg;
  }

  class TandemChat extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) return;
      var host = hostElement = this;
      // Script-tag options, unless set on the element.
      ['position', 'theme', 'label', 'skill'].forEach(function (name) {
        var value = script.getAttribute('data-' + name);
        if (value && !host.hasAttribute(name)) host.setAttribute(name, value);
      });
      listeners.forEach(function (l) { listen(l[0], l[1]); });
      var root = this.attachShadow({ mode: 'open' });
      var mountPoint = el('div', { class: 'app' });
      var label = host.getAttribute('label') || LABELS[pageLang] || LABELS.en;
      var launcher = el('button', {
        class: 'launcher', part: 'launcher', 'data-testid': 'launcher',
        'aria-haspopup': 'dialog', 'aria-expanded': 'false'
      }, [icon(), el('span', {}, [label])]);
      root.append(el('style', {}, [CSS]), launcher, mountPoint);

      var handover = null;
      function load() {
        if (handover) return;
        // Read by src/boot.rs.
        handover = window.__tandem_boot = {
          root: mountPoint, merchant: merchant, api: apiOrigin, placeholder: launcher, open: false,
          attach: function (implementation) {
            app = implementation;
            queue.splice(0).forEach(function (c) { app[c[0]].apply(null, c[1]); });
          }
        };
        root.append(el('link', { rel: 'stylesheet', href: base + 'widget.css' }));
        import(base + 'tandem-widget.js')
          .then(function (m) { return m.default({ module_or_path: base + 'tandem-widget_bg.wasm' }); })
          .catch(function (error) { fail(error); });
      }
      function fail(error) {
        console.warn('Tandem: the chat could not load; offering the contact page instead.', error);
        var hadFocus = launcher.matches(':focus');
        var fallback = el('a', {
          class: 'launcher', part: 'launcher', 'data-testid': 'launcher-fallback',
          href: apiOrigin + '/contact/' + encodeURIComponent(merchant), target: '_blank', rel: 'noopener'
        }, [icon(), el('span', {}, ['Chat unavailable: contact a person'])]);
        launcher.replaceWith(fallback);
        if (hadFocus) fallback.focus();
      }

      requestLoad = function () {
        load();
        launcher.setAttribute('aria-busy', 'true');
      };
      ['pointerenter', 'focus', 'touchstart'].forEach(function (type) {
        launcher.addEventListener(type, load, { once: true, passive: true });
      });
      launcher.addEventListener('click', function () {
        load();
        handover.open = true;
        launcher.setAttribute('aria-busy', 'true');
      });
      // An ongoing conversation (reload, next checkout page) reopens at once.
      var ongoing = false;
      try { ongoing = !!localStorage.getItem('tandem.conversation.' + merchant); } catch (e) { /* storage blocked */ }
      if (ongoing) {
        load();
        handover.open = true;
      } else if (queue.some(function (c) { return c[0] === 'open' || c[0] === 'toggle'; })) {
        requestLoad();
      } else if (preloadWhenIdle) {
        var idle = window.requestIdleCallback || function (fn) { setTimeout(fn, 1); };
        if (document.readyState === 'complete') idle(load);
        else window.addEventListener('load', function () { idle(load); }, { once: true });
      }
    }
  }

  customElements.define(TAG, TandemChat);
  function place() {
    if (!document.querySelector(TAG)) document.body.append(document.createElement(TAG));
  }
  if (document.body) place();
  else document.addEventListener('DOMContentLoaded', place, { once: true });
})();
