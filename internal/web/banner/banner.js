/* Custos consent banner. One tag on any page:
 *   <script src="https://custos.example.com/banner.js" data-lang="en" defer></script>
 * Scripts written as <script type="text/plain" data-custos-category="analytics" src="…">
 * run only once their category is allowed. Choices are recorded in the Custos
 * consent ledger; the browser keeps one localStorage entry ("custos-consent")
 * and sets no cookie. API: Custos.consent.show(), Custos.consent.get(). */
(() => {
  'use strict';
  const me = document.currentScript;
  if (!me || window.Custos && window.Custos.consent) return;
  const base = new URL(me.src, location.href).origin;
  const KEY = 'custos-consent';
  const ALWAYS = ['necessary', 'security'];
  // Opt-out signals the browser sends; a category lists those that refuse it.
  const sent = [].concat(navigator.globalPrivacyControl === true ? ['gpc'] : [], navigator.doNotTrack === '1' ? ['dnt'] : []);
  const refusedBy = (c) => (c.signals || []).find((s) => sent.includes(s));
  let cfg = null;
  let root = null;
  let lastFocus = null;
  let wanted = false;

  const pickLang = () => {
    const asked = [me.dataset.lang].concat(navigator.languages || [navigator.language]);
    for (const l of asked) {
      if (!l) continue;
      const s = l.toLowerCase();
      if (s.startsWith('zh')) return 'zh-CN';
      if (s.startsWith('en')) return 'en';
    }
    return '';
  };

  const load = () => {
    try {
      const s = JSON.parse(localStorage.getItem(KEY));
      return s && /^v_[0-9a-f]{32}$/.test(s.v) && s.choices ? s : null;
    } catch (e) {
      return null;
    }
  };
  const save = (s) => {
    try { localStorage.setItem(KEY, JSON.stringify(s)); } catch (e) { /* private mode: ask again next time */ }
  };
  const visitor = () => {
    const s = load();
    if (s) return s.v;
    const b = crypto.getRandomValues(new Uint8Array(16));
    return 'v_' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  };

  // valid: the stored choice, if the policy in force still accepts it.
  const valid = () => {
    const s = load();
    return s && cfg && cfg.consent_versions.includes(s.version) ? s : null;
  };
  const required = () => (cfg ? cfg.notice.categories.filter((c) => c.required).map((c) => c.id) : []).concat(ALWAYS);
  const allowed = () => {
    const s = valid();
    const out = {};
    for (const c of required()) out[c] = true;
    if (s) for (const k of Object.keys(s.choices)) out[k] = out[k] || s.choices[k] === true;
    return out;
  };

  // activate turns the page's tagged scripts of allowed categories into
  // real ones. A script already running cannot be stopped: a withdrawal
  // takes effect on the next page load.
  const activate = () => {
    const ok = allowed();
    for (const old of document.querySelectorAll('script[type="text/plain"][data-custos-category]')) {
      if (!ok[old.dataset.custosCategory]) continue;
      const s = document.createElement('script');
      for (const a of old.attributes) s.setAttribute(a.name, a.value);
      s.type = 'text/javascript';
      s.async = false;
      if (!old.src) s.text = old.text;
      old.replaceWith(s);
    }
  };

  const el = (tag, attrs, text) => {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text) e.textContent = text;
    return e;
  };

  const CSS = `
#custos-root{position:fixed;inset:0;z-index:2147483000;display:flex;align-items:flex-end;justify-content:center;background:rgba(0,0,0,.45);font:15px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif}
#custos-banner{box-sizing:border-box;background:#fff;color:#1a1a1a;max-width:44rem;width:100%;max-height:90vh;overflow:auto;margin:0 auto 1rem;padding:1.25rem 1.5rem;border-radius:8px;box-shadow:0 4px 24px rgba(0,0,0,.3)}
#custos-banner h2{font-size:1.2rem;margin:0 0 .5rem;color:#1a1a1a}
#custos-banner p{margin:.4rem 0}
#custos-banner a{color:#0b4f9c;text-decoration:underline}
#custos-banner .custos-actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1rem}
#custos-banner button{flex:1 1 10rem;font:inherit;font-weight:600;padding:.65rem 1rem;border:2px solid #0b4f9c;border-radius:6px;background:#0b4f9c;color:#fff;cursor:pointer}
#custos-banner button:hover{background:#083b75;border-color:#083b75}
#custos-banner :focus-visible{outline:3px solid #b34700;outline-offset:2px}
#custos-banner:focus{outline:none}
#custos-banner .custos-cat{border-top:1px solid #767676;padding:.6rem 0}
#custos-banner .custos-cat label{font-weight:600;display:flex;gap:.5rem;align-items:center}
#custos-banner .custos-cat input{width:1.2rem;height:1.2rem;accent-color:#0b4f9c}
#custos-banner .custos-note{color:#4a4a4a;font-size:.9rem}
#custos-banner .custos-error{color:#a10000;font-weight:600}
#custos-banner [hidden]{display:none}
#custos-banner details{font-size:.9rem;color:#333}
#custos-banner ul{margin:.2rem 0;padding-left:1.2rem}`;

  const style = () => {
    if (document.getElementById('custos-style') || style.done) return;
    style.done = true;
    // A constructed stylesheet is not subject to the page's style-src
    // CSP; a <style> element is, so it is only the fallback.
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      document.adoptedStyleSheets = document.adoptedStyleSheets.concat(sheet);
      return;
    } catch (e) { /* older browser */ }
    document.head.appendChild(el('style', { id: 'custos-style' }, CSS));
  };

  const button = (action, text) => el('button', { type: 'button', 'data-custos-action': action }, text);

  const list = (title, items) => {
    if (!items.length) return null;
    const d = el('div');
    d.append(el('strong', null, title));
    const ul = el('ul');
    for (const i of items) ul.append(el('li', null, i));
    d.append(ul);
    return d;
  };

  const render = () => {
    const n = cfg.notice;
    const t = n.text;
    const s = valid();
    root = el('div', { id: 'custos-root' });
    const box = el('div', { id: 'custos-banner', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'custos-title', 'aria-describedby': 'custos-body', lang: n.language, 'data-custos-layer': 'first', tabindex: '-1' });
    box.append(el('h2', { id: 'custos-title' }, t.title), el('p', { id: 'custos-body' }, t.body), el('p', { class: 'custos-note' }, t.withdraw));
    if (t.separate) box.append(el('p', { class: 'custos-note', 'data-custos-note': 'separate' }, t.separate));
    if (t.upcoming) box.append(el('p', { class: 'custos-note', 'data-custos-note': 'upcoming' }, t.upcoming));
    if (/^https?:\/\//.test(n.policy_url || '')) {
      const p = el('p');
      p.append(el('a', { href: n.policy_url, target: '_blank', rel: 'noopener' }, t.policy));
      box.append(p);
    }
    const cats = el('div', { id: 'custos-categories', hidden: '' });
    for (const c of n.categories) {
      const id = 'custos-cat-' + c.id;
      const wrap = el('div', { class: 'custos-cat' });
      const label = el('label', { for: id });
      const input = el('input', { type: 'checkbox', id, 'data-custos-category': c.id, 'aria-describedby': id + '-desc' });
      const refused = refusedBy(c);
      input.checked = c.required || (!refused && !!(s && s.choices[c.id]));
      input.disabled = c.required || refused;
      label.append(input, document.createTextNode(c.name));
      wrap.append(label);
      const desc = el('p', { id: id + '-desc', class: 'custos-note' }, c.description);
      if (c.required) desc.append(' — ' + t.always_on);
      if (refused) desc.append(' — ' + t[refused]);
      wrap.append(desc);
      const det = el('details');
      det.append(el('summary', null, t.purposes + ' · ' + t.vendors));
      for (const part of [list(t.purposes, c.purposes.map((p) => p.name)), list(t.vendors, c.vendors),
        list(t.items, c.items.map((i) => i.duration ? i.name + ' (' + i.duration + ')' : i.name))]) if (part) det.append(part);
      wrap.append(det);
      cats.append(wrap);
    }
    box.append(cats, el('p', { class: 'custos-error', role: 'alert', id: 'custos-error' }));
    const acts = el('div', { class: 'custos-actions' });
    const saveBtn = button('save', t.save);
    saveBtn.hidden = true;
    acts.append(button('accept-all', t.accept_all), button('reject-all', t.reject_all), button('choose', t.choose), saveBtn);
    box.append(acts);
    root.append(box);
    box.addEventListener('click', (e) => {
      const b = e.target.closest('button[data-custos-action]');
      if (b) act(b.dataset.custosAction);
    });
    box.addEventListener('keydown', keys);
  };

  const layer = (name) => {
    const box = root.querySelector('#custos-banner');
    box.dataset.custosLayer = name;
    root.querySelector('#custos-categories').hidden = name !== 'choose';
    root.querySelector('[data-custos-action="choose"]').hidden = name === 'choose';
    root.querySelector('[data-custos-action="save"]').hidden = name !== 'choose';
  };

  const focusables = () => Array.from(root.querySelectorAll('button,input,a[href],summary')).filter((e) => !e.disabled && e.offsetParent !== null);

  const keys = (e) => {
    if (e.key === 'Escape') {
      // Escape never decides: it leaves the second layer, or closes a
      // dialog opened to review a choice already made.
      e.preventDefault();
      if (root.querySelector('#custos-banner').dataset.custosLayer === 'choose') {
        layer('first');
        root.querySelector('[data-custos-action="choose"]').focus();
      } else if (valid()) close();
      return;
    }
    if (e.key !== 'Tab') return;
    const f = focusables();
    if (!f.length) return;
    const first = f[0];
    const last = f[f.length - 1];
    const box = root.querySelector('#custos-banner');
    if (e.shiftKey && (document.activeElement === first || document.activeElement === box)) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };

  // Focus that leaves the open dialog (a click on the page behind) comes back.
  const trap = (e) => {
    if (root && root.isConnected && !root.contains(e.target)) focusables()[0].focus();
  };

  const show = () => {
    if (!cfg) return (wanted = true) && false;
    if (root && root.isConnected) return true;
    style();
    render();
    lastFocus = document.activeElement;
    document.body.append(root);
    document.addEventListener('focusin', trap);
    // The dialog itself takes focus, so that no answer is preselected and
    // a screen reader starts at its title.
    root.querySelector('#custos-banner').focus();
    return true;
  };

  const close = () => {
    if (!root) return;
    document.removeEventListener('focusin', trap);
    root.remove();
    root = null;
    if (lastFocus && lastFocus.focus) lastFocus.focus();
  };

  const act = (action) => {
    if (action === 'choose') {
      layer('choose');
      root.querySelector('#custos-categories input:not([disabled])')?.focus();
      return;
    }
    const choices = {};
    for (const c of cfg.notice.categories) {
      if (c.required) continue;
      let on = action === 'accept-all';
      if (action === 'save') on = root.querySelector('input[data-custos-category="' + c.id + '"]').checked;
      if (refusedBy(c)) on = false; // refused by the browser's signal, never asked
      choices[c.id] = on;
    }
    if (act.busy) return; // one write at a time
    act.busy = true;
    record(action.replace('-', '_'), choices).then(close, (err) => {
      if (root) root.querySelector('#custos-error').textContent = err.message;
    }).finally(() => { act.busy = false; });
  };

  const record = async (action, choices) => {
    const res = await fetch(base + '/v1/public/banner/consents', {
      method: 'POST', mode: 'cors', credentials: 'omit', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ visitor_id: visitor(), action, choices, notice_hash: cfg.notice_hash, language: cfg.language }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      if (res.status === 409 && body.error && body.error.code === 'notice_changed') {
        close();
        await init(true); // the policy changed meanwhile: show the new notice
      }
      throw new Error((body.error && body.error.message) || 'HTTP ' + res.status);
    }
    const state = { v: body.visitor_id, version: body.policy_version, hash: body.notice_hash, lang: body.language, choices: body.choices, at: Date.now() };
    save(state);
    activate();
    document.dispatchEvent(new CustomEvent('custos:consent', { detail: get() }));
    return state;
  };

  const get = () => {
    const s = valid();
    if (!s) return null;
    return { visitor: s.v, policy_version: s.version, language: s.lang, at: s.at, categories: allowed() };
  };

  const init = async (fresh) => {
    const lang = pickLang();
    const res = await fetch(base + '/v1/public/banner' + (lang ? '?lang=' + lang : ''), { mode: 'cors', credentials: 'omit', cache: fresh ? 'no-cache' : 'default' });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    cfg = await res.json();
    activate();
    if (wanted) return void show();
    if (valid()) return;
    const optional = cfg.notice.categories.filter((c) => !c.required);
    if (!optional.length) return;
    // Under an opt-out signal that refuses everything there is to ask, the refusal is recorded without asking.
    if (optional.every(refusedBy)) {
      const choices = {};
      for (const c of optional) choices[c.id] = false;
      await record('reject_all', choices);
      return;
    }
    show();
  };

  window.Custos = window.Custos || {};
  window.Custos.consent = { show, get };
  const start = () => {
    activate(); // necessary and security scripts need no answer
    init().catch(() => { /* without the service, only always-on categories run */ });
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
