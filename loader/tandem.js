/*! Tandem chat loader: draws the launcher, loads the app on intent. See docs/embedding.md. */
// Every page with the widget downloads this file: keep it small (budget: 4 KB brotli as served,
// after the build minifies it) and keep explanations in docs/embedding.md and docs/theming.md.
// It must run on payment pages with the strictest Content-Security-Policy: no <style> element
// (an adopted stylesheet instead), no style attribute, nothing evaluated.
(function () {
  var TAG = 'tandem-chat';
  var script = document.currentScript;
  if (!script || customElements.get(TAG)) return;
  function warn(text) {
    console.warn('Tandem: ' + text);
  }
  var merchant = script.getAttribute('data-merchant');
  if (!merchant) return warn('add data-merchant="<merchant id>" to the script tag.');
  // The app's files as [path, SRI hash] pairs, written in by the build (xtask/src/publish.rs).
  var FILES = /*@files*/null;
  if (!FILES) return warn('unpublished: build with cargo xtask.');
  var apiOrigin = new URL(script.src).origin;
  var nonce = script.nonce || '';
  var mode = script.getAttribute('data-mode') || 'auto';
  if (!/^(auto|inline|frame)$/.test(mode)) {
    warn('data-mode is auto, inline or frame: using auto.');
    mode = 'auto';
  }
  var preloadWhenIdle = script.getAttribute('data-preload') === 'idle';
  // The catalogues' launcher.open, and for the panel's shell human.button, panel.fallback-name,
  // composer.label and panel.close (frame.js's launcher.close too): a test compares them.
  var TEXTS = {
    en: ['Chat with us', 'Talk to a human', 'Customer support', 'Message', 'Close chat'],
    sv: ['Chatta med oss', 'Prata med en människa', 'Kundtjänst', 'Meddelande', 'Stäng chatten'],
    de: ['Chatten Sie mit uns', 'Mit einem Menschen sprechen', 'Kundenservice', 'Nachricht', 'Chat schließen']
  };
  var lang2 = function (tag) { return (tag || '').slice(0, 2).toLowerCase(); };
  var pageLang = lang2(document.documentElement.lang || navigator.language || 'en');
  var label = (TEXTS[pageLang] || TEXTS.en)[0];
  // Where a conversation under way is remembered, so a reload reopens it at once: the app's
  // own key when it runs in this page, the loader's when it runs in the frame.
  var ONGOING = ['tandem.conversation.' + merchant, 'tandem.ongoing.' + merchant];
  function storage(write, value) {
    try {
      if (!write) return ONGOING.some(function (key) { return localStorage.getItem(key); });
      if (value) localStorage.setItem(ONGOING[1], '1');
      else localStorage.removeItem(ONGOING[1]);
    } catch (e) { /* storage blocked */ }
  }

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
  function attach(implementation) {
    app = implementation;
    queue.splice(0).forEach(function (c) { app[c[0]].apply(null, c[1]); });
  }
  window.Tandem = {
    open: call('open', true),
    close: call('close', false),
    toggle: call('toggle', true),
    identify: call('identify', false),
    setContext: call('setContext', false),
    setLocale: call('setLocale', false),
    on: function (event, fn) {
      if (EVENTS.indexOf(event) < 0 || typeof fn !== 'function') return warn('Tandem.on: events are ' + EVENTS);
      listeners.push([event, fn]);
      if (hostElement) listen(event, fn);
    }
  };
  var listeners = [];
  function listen(event, fn) {
    hostElement.addEventListener('tandem:' + event, function (e) { fn(e.detail); });
  }

  // `all:initial` keeps the page's styles out. The theme's defaults (style/widget.css, which the
  // app adopts once it runs) sit on :host, where the page's own `tandem-chat` rule wins. The
  // launcher and the panel's shell are drawn before the app, so their rules are here too, with the colours they use
  // (light as fallbacks, dark on :host) and the same geometry as that file's: when it applies,
  // nothing moves.
  var DARK = '{--tandem-accent:#8ab4ff;--tandem-on-accent:#0b1530;--tandem-surface:#17191e;--tandem-text:#e8eaed;--tandem-border:#7b8494}';
  var X = 'var(--tandem-offset-x,20px)';
  var Y = 'var(--tandem-offset-y,20px)';
  var H = 'var(--tandem-viewport-height,100vh)';
  var ACCENT = 'var(--tandem-accent,#1f4fd1)';
  var SURFACE = 'var(--tandem-surface,#fff)';
  var BORDER = '1px solid var(--tandem-border,#6b7280)';
  var LEFT = ':host([position=left]) ';
  var CSS =
    ':host{all:initial!important}' +
    ':host([theme=dark])' + DARK + '@media (prefers-color-scheme:dark){:host(:not([theme=light]))' + DARK + '}' +
    '.launcher{position:fixed;right:' + X + ';bottom:' + Y + ';z-index:2147483000;' +
    'display:inline-flex;align-items:center;gap:8px;' +
    'min-height:48px;padding:0 18px;border:0;border-radius:999px;box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer;' +
    'background:' + ACCENT + ';color:var(--tandem-on-accent,#fff);text-decoration:none;letter-spacing:normal;' +
    'font:600 15px/1.2 var(--tandem-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif)}' +
    LEFT + '.launcher,' + LEFT + '.panel{right:auto;left:' + X + '}' +
    '.launcher:focus-visible{outline:3px solid var(--tandem-launcher-focus,#111);outline-offset:3px}' +
    '.launcher[aria-busy=true]{cursor:progress}' +
    '.launcher svg{flex:none}' +
    // The shell: style/widget.css's .tandem, .panel, .header, .title, .human-button, .close,
    // .messages, .composer and .composer-input, and its rule for phones.
    '.tandem{font:400 15px/1.45 var(--tandem-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);' +
    'color:var(--tandem-text,#1b1f24)}' +
    '.panel{position:fixed;right:' + X + ';bottom:calc(' + Y + ' + 64px);z-index:2147483000;display:flex;flex-direction:column;' +
    'width:min(380px,calc(100vw - 24px));height:min(560px,calc(' + H + ' - ' + Y + ' - 88px));background:' + SURFACE + ';' +
    'border-radius:var(--tandem-radius,14px);box-shadow:0 12px 40px rgba(0,0,0,.28);overflow:hidden}' +
    '.header{display:flex;flex-wrap:wrap;align-items:center;gap:8px;padding-block:12px;padding-inline:16px 12px;' +
    'background:' + ACCENT + ';color:var(--tandem-on-accent,#fff)}' +
    '.title{flex:1 1 8em;margin:0;font-size:16px;font-weight:600;line-height:1.3}' +
    '.human-button,.close{min-height:36px;min-width:36px;border:0;border-radius:999px;font:inherit;font-weight:600;cursor:pointer}' +
    '.human-button{padding:6px 14px;background:' + SURFACE + ';color:' + ACCENT + '}' +
    '.close{display:grid;place-items:center;padding:0;background:none;color:inherit}' +
    '.human-button:focus-visible,.close:focus-visible{outline:3px solid var(--tandem-focus,#ffbf47);outline-offset:2px}' +
    '.messages{flex:1}' +
    '.composer{display:flex;gap:8px;padding:8px 12px 4px;border-top:' + BORDER + '}' +
    '.composer-input{flex:1;min-height:40px;padding:8px 10px;border:' + BORDER + ';border-radius:10px;' +
    'font:inherit;font-size:16px;color:inherit;background:' + SURFACE + ';resize:none}' +
    '@media (max-width:480px){.panel,' + LEFT + '.panel{inset:0 auto auto 0;width:100vw;height:' + H + ';border-radius:0}' +
    '.launcher[aria-expanded=true]{display:none}}';
  var ICON = 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z';
  var SVG = 'http://www.w3.org/2000/svg';

  function el(tag, attrs, children, svg) {
    var node = svg ? document.createElementNS(SVG, tag) : document.createElement(tag);
    for (var name in attrs) node.setAttribute(name, attrs[name]);
    (children || []).forEach(function (child) { node.append(child); });
    return node;
  }

  // Sized by its own attributes: small even where no stylesheet applies.
  function icon(cross) {
    var path = cross ? { stroke: 'currentColor', 'stroke-width': '2', d: cross } : { fill: 'currentColor', d: ICON };
    return el('svg', { viewBox: '0 0 24 24', width: '20', height: '20', 'aria-hidden': 'true' }, [el('path', path, [], 1)], 1);
  }

  // Constructable stylesheets are not subject to style-src; a <style> (with the tag's nonce)
  // only where a browser lacks them.
  function adopt(root, css) {
    if ('adoptedStyleSheets' in root && 'replaceSync' in CSSStyleSheet.prototype) {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      root.adoptedStyleSheets = root.adoptedStyleSheets.concat(sheet);
    } else {
      var style = el('style', nonce ? { nonce: nonce } : {});
      style.textContent = css;
      root.append(style);
    }
  }

  // Compiles the empty module in a throwaway frame, which has this page's policy but its own
  // document: a refusal is reported there, not to the page's violation listeners.
  function wasmAllowed(root) {
    var probe = el('iframe', { hidden: '' });
    root.append(probe);
    try {
      return !!new probe.contentWindow.WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    } catch (e) {
      return false;
    } finally {
      probe.remove();
    }
  }

  function checked(file, attrs) {
    attrs.integrity = file[1];
    attrs.crossorigin = 'anonymous';
    if (nonce) attrs.nonce = nonce;
    return attrs;
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
      adopt(root, CSS);
      var mountPoint = el('div', { class: 'app' });
      var custom = host.getAttribute('label');
      var text = el('span', {}, [custom || label]);
      var launcher = el('button', {
        class: 'launcher', part: 'launcher', 'data-testid': 'launcher',
        'aria-haspopup': 'dialog', 'aria-expanded': 'false'
      }, [icon(), text]);
      root.append(launcher, mountPoint);

      var started = null;
      var deferred = false;
      function load() {
        if (!started) started = mode === 'frame' || (mode === 'auto' && !wasmAllowed(root)) ? inFrame() : inPage();
        return started;
      }
      function busy() {
        launcher.setAttribute('aria-busy', 'true');
      }

      // Read by src/boot.rs: `config` and `flow` are the merchant's widget configuration and bot
      // flow (or null), `shell` the panel drawn before the app (see `drawShell`), `human`
      // whether its button was pressed, `style` how the app adopts its stylesheet here.
      var handover = {
        root: mountPoint, merchant: merchant, api: apiOrigin, placeholder: launcher, open: false, attach: attach,
        config: null, flow: null, shell: null, human: false, style: function (css) { adopt(root, css); }
      };
      // The panel at once on a click, before the app: its header with the merchant's name and
      // the human button (pressed, it is carried out once the app runs), and a text box that
      // keeps what is typed. Same classes as the app's panel, which takes it over (src/boot.rs).
      function drawShell() {
        if (handover.shell) return;
        var text = TEXTS[lang2(handover.config && handover.config.locale)] || TEXTS[pageLang] || TEXTS.en;
        var human = el('button', { class: 'human-button', part: 'human-button' }, [text[1]]);
        var close = el('button', { class: 'close', 'aria-label': text[4] }, [icon('M6 6l12 12M18 6L6 18')]);
        var box = el('textarea', {
          class: 'composer-input', part: 'composer-input', rows: '2', maxlength: '4000', 'aria-label': text[3]
        });
        var shell = el('div', { class: 'tandem', lang: pageLang }, [
          el('section', {
            class: 'panel', part: 'panel', role: 'dialog', 'aria-labelledby': 'tandem-shell-title', 'aria-busy': 'true'
          }, [
            el('header', { class: 'header', part: 'header' }, [
              el('h2', { id: 'tandem-shell-title', class: 'title', part: 'title' }, [text[2]]), human, close
            ]),
            el('div', { class: 'messages', part: 'messages' }),
            el('form', { class: 'composer', part: 'composer' }, [box])
          ])
        ]);
        shell.box = box;
        human.onclick = function () {
          handover.human = true;
          human.setAttribute('aria-busy', 'true');
        };
        close.onclick = closeShell;
        shell.onkeydown = function (event) {
          if (event.key === 'Escape') {
            event.stopPropagation();
            closeShell();
          }
          // Enter sends, as in the app: the app sends the text once it runs.
          if (event.target === box && event.key === 'Enter' && !event.shiftKey) {
            event.preventDefault();
            if (box.value.trim()) shell.send = true;
          }
        };
        handover.shell = shell;
        named(shell);
        mountPoint.append(shell);
        launcher.setAttribute('aria-expanded', 'true');
        human.focus();
      }
      function toggleShell() {
        if (handover.shell) return closeShell();
        handover.open = true;
        drawShell();
      }
      function closeShell() {
        handover.shell.remove();
        handover.shell = null;
        handover.open = handover.human = false;
        launcher.setAttribute('aria-expanded', 'false');
        launcher.focus();
      }
      function named(shell) {
        var name = handover.config && handover.config.display_name;
        if (name) shell.querySelector('h2').textContent = name;
      }

      // Inline: the app mounts into this shadow root and replaces the placeholder launcher.
      function inPage() {
        window.__tandem_boot = handover;
        var url = function (file) { return apiOrigin + file[0]; };
        // Beside the app's files, for the app to start with: the configuration (the shell's name
        // too) and the bot's flow, so the bot can answer what was typed into the shell at once.
        var ask = function (what) {
          return fetch(apiOrigin + '/v1/merchants/' + encodeURIComponent(merchant) + '/' + what, { credentials: 'omit' })
            .then(function (answer) { return answer.ok ? answer.json() : null; })
            .catch(function () { return null; });
        };
        var config = Promise.all([
          ask('widget-config').then(function (loaded) {
            handover.config = loaded;
            if (handover.shell) named(handover.shell);
          }),
          ask('bot-flow').then(function (flow) { handover.flow = flow; })
        ]);

        // The wasm, the largest file, is asked for at once, beside the module it is started by.
        var wasm = fetch(url(FILES.wasm), { integrity: FILES.wasm[1], mode: 'cors', credentials: 'omit' });
        wasm.catch(function () {}); // a failure is told where it is awaited, by the app's start
        // import() takes no integrity: the module preloads, checked, fill the module map it
        // then reads from.
        var preloads = FILES.modules.map(function (file) {
          return new Promise(function (resolve, reject) {
            var link = el('link', checked(file, { rel: 'modulepreload', href: url(file) }));
            link.onload = resolve;
            link.onerror = reject;
            document.head.append(link);
          });
        });
        Promise.all(preloads)
          .then(function () { return import(url(FILES.modules[0])); })
          .then(function (m) {
            // The app starts with the configuration when it is in, or after 3 s without it.
            var late = new Promise(function (resolve) { setTimeout(resolve, 3000); });
            return Promise.race([config, late]).then(function () { return m.default({ module_or_path: wasm }); });
          })
          .catch(function (error) { fail('the chat could not load (' + error + ').'); });
        return { page: true, click: toggleShell, resume: function () { handover.open = true; } };
      }

      // Frame mode: the same app in an iframe from the Tandem origin, run by loader/frame.js,
      // fetched (checked) only now.
      function inFrame() {
        // Resuming, frame.js opens the frame only if the frame still has the conversation.
        var driver = { click: function () { driver.wanted = true; }, resume: function () {} };
        window.__tandem_frame = {
          root: root, host: host, launcher: launcher, text: text, lang: pageLang, merchant: merchant,
          labels: [custom || label, (TEXTS[pageLang] || TEXTS.en)[4]], api: apiOrigin, events: EVENTS, driver: driver, adopt: adopt, attach: attach, storage: storage, fail: fail
        };
        var runner = el('script', checked(FILES.host, { src: apiOrigin + FILES.host[0] }));
        runner.onerror = function () { fail('the chat could not load.'); };
        document.head.append(runner);
        return driver;
      }

      function fail(reason) {
        warn(reason); // the launcher becomes the link to the contact page
        var frame = root.querySelector('iframe');
        if (frame) frame.remove();
        var shell = root.querySelector('[aria-labelledby=tandem-shell-title]');
        if (shell) shell.parentNode.remove();
        var current = root.querySelector('[data-testid=launcher]');
        if (!current) return;
        var hadFocus = current.matches(':focus');
        var fallback = el('a', {
          class: 'launcher', part: 'launcher',
          href: apiOrigin + '/contact/' + encodeURIComponent(merchant), target: '_blank', rel: 'noopener'
        }, [icon(), el('span', {}, ['Chat unavailable: contact a person'])]);
        current.replaceWith(fallback);
        if (hadFocus) fallback.focus();
      }

      requestLoad = function () {
        load();
        busy();
      };
      ['pointerenter', 'focus', 'touchstart'].forEach(function (type) {
        launcher.addEventListener(type, load, { once: true, passive: true });
      });
      launcher.addEventListener('click', function () {
        if (!app) busy();
        if (started || mode === 'frame') return load().click();
        // A click with no sign of intent before it (from a script, or some assistive
        // technology): the shell at once, and the loading once it is on screen. Loading may
        // choose frame mode, which has no shell: then the frame opens in its place.
        toggleShell();
        if (deferred) return;
        deferred = true;
        requestAnimationFrame(function () {
          setTimeout(function () {
            if (load().page || !handover.shell) return;
            closeShell();
            started.click();
          });
        });
      });
      // An ongoing conversation (reload, next checkout page) reopens at once.
      if (storage(false)) {
        var driver = load();
        (driver.resume || driver.click)();
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
