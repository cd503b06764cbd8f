/*! Tandem chat loader. Embed with one tag:
 *  <script src="https://YOUR-TANDEM-SERVER/widget/tandem.js" data-merchant="YOUR-ID" async></script>
 *  Optional: data-preload="idle" loads the chat when the browser is idle after page load.
 *
 *  At page load this draws only the launcher, in a shadow root, and fetches and stores nothing.
 *  The chat app (wasm) and its styles are fetched once the customer shows intent: pointer over,
 *  focus on, or a click on the launcher. See docs/embedding.md. */
(function () {
  'use strict';
  var TAG = 'tandem-chat';
  var script = document.currentScript;
  if (!script || customElements.get(TAG)) return;
  var merchant = script.getAttribute('data-merchant');
  if (!merchant) {
    console.warn('Tandem: the chat is not shown: add data-merchant="<your merchant id>" to the tandem.js script tag.');
    return;
  }
  var base = script.src.replace(/[^/]*$/, '');
  var api = new URL(base).origin;
  var preloadWhenIdle = script.getAttribute('data-preload') === 'idle';

  // The launcher's look. `all: initial` on the host keeps the page's inherited styles out
  // (an !important rule inside the shadow root beats the page's own !important rules);
  // custom properties still inherit, which is how designers theme the widget.
  var CSS =
    ':host{all:initial!important}' +
    '.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;display:inline-flex;align-items:center;gap:8px;' +
    'min-height:48px;padding:0 18px;border:0;border-radius:999px;box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer;' +
    'background:var(--tandem-accent,#1f4fd1);color:var(--tandem-on-accent,#fff);text-decoration:none;letter-spacing:normal;' +
    'font:600 15px/1.2 var(--tandem-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif)}' +
    '.launcher:focus-visible{outline:3px solid var(--tandem-focus,#111);outline-offset:3px}' +
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
      var root = this.attachShadow({ mode: 'open' });
      var app = el('div', { class: 'app' });
      var launcher = el('button', {
        class: 'launcher', part: 'launcher', 'data-testid': 'launcher',
        'aria-haspopup': 'dialog', 'aria-expanded': 'false'
      }, [icon(), el('span', {}, ['Chat with us'])]);
      root.append(el('style', {}, [CSS]), launcher, app);

      var handover = null;
      function load() {
        if (handover) return;
        // Read by the app's `boot` when its module starts (src/boot.rs).
        handover = window.__tandem_boot = { root: app, merchant: merchant, api: api, placeholder: launcher, open: false };
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
          href: api + '/contact/' + encodeURIComponent(merchant), target: '_blank', rel: 'noopener'
        }, [icon(), el('span', {}, ['Chat unavailable: contact a person'])]);
        launcher.replaceWith(fallback);
        if (hadFocus) fallback.focus();
      }

      ['pointerenter', 'focus', 'touchstart'].forEach(function (type) {
        launcher.addEventListener(type, load, { once: true, passive: true });
      });
      launcher.addEventListener('click', function () {
        load();
        handover.open = true;
        launcher.setAttribute('aria-busy', 'true');
      });
      // A conversation with a person already under way (a reload, the next page of the
      // checkout) is intent enough: reopen it at once.
      var ongoing = false;
      try { ongoing = !!localStorage.getItem('tandem.conversation.' + merchant); } catch (e) { /* storage blocked */ }
      if (ongoing) {
        load();
        handover.open = true;
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
