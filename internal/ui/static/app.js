// Outpost UI scripts: plain JS, no build step, no dependencies. Pages
// work without it (forms post normally); with it they get upload
// progress, the export modal, live progress, live history search,
// character counters and the first-run tour.
(() => {
  'use strict';

  const $ = (s, r = document) => r.querySelector(s);
  const $$ = (s, r = document) => Array.from(r.querySelectorAll(s));

  // ---- helpers --------------------------------------------------------
  function fmtBytes(n) {
    if (!isFinite(n) || n < 0) return '';
    if (n < 1000) return n + ' B';
    const units = ['kB', 'MB', 'GB', 'TB'];
    let f = n, i = -1;
    do { f /= 1000; i++; } while (f >= 1000 && i < units.length - 1);
    const s = f < 10 && f !== Math.trunc(f) ? f.toFixed(1) : Math.round(f).toString();
    return s + ' ' + units[i];
  }
  function fmtClock(sec) {
    if (sec < 60) return (Math.round(sec * 10) / 10) + ' s';
    const t = Math.round(sec), h = Math.floor(t / 3600), m = Math.floor(t / 60) % 60, s = t % 60;
    const pad = (v) => String(v).padStart(2, '0');
    return h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
  }
  function eta(sec) {
    if (!sec || sec <= 0) return '';
    return sec < 60 ? `about ${Math.ceil(sec)} s left` : `about ${Math.ceil(sec / 60)} min left`;
  }
  function iconEl(name) {
    const t = $('#ui-icons');
    const el = t && t.content.querySelector('.ic-' + name);
    return el ? el.cloneNode(true) : document.createElement('span');
  }
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const k of kids) if (k) e.append(k);
    return e;
  }
  let toastTimer;
  function toast(msg, link) {
    const t = $('#toast');
    if (!t) return;
    t.replaceChildren(document.createTextNode(msg));
    if (link) t.append(' ', link);
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, link ? 10000 : 5000);
  }
  function toastLink(msg, text, href) { toast(msg, el('a', { href, text })); }
  // errorBox fills el with an error's headline, message and remedy.
  function errorBox(box, e) {
    box.replaceChildren();
    const err = e || {};
    box.append(el('strong', { text: err.title || 'Something went wrong' }));
    box.append(el('p', { text: err.message || 'The request failed.' }));
    if (err.remedy) {
      const p = el('p');
      p.append(el('strong', { text: 'What to do: ' }), document.createTextNode(err.remedy));
      box.append(p);
    }
    if (err.code) {
      const p = el('p', { class: 'flash-code', text: 'Details: error code ' });
      p.append(el('code', { text: err.code }));
      box.append(p);
    }
    box.hidden = false;
  }
  async function api(url, opts = {}) {
    const headers = Object.assign({ Accept: 'application/json' }, opts.headers || {});
    let res;
    try {
      res = await fetch(url, Object.assign({ credentials: 'same-origin' }, opts, { headers }));
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      throw { title: 'No connection', message: 'The server could not be reached.', remedy: 'Check your network, then try again.' };
    }
    let body = null;
    try { body = await res.json(); } catch (_) { /* not JSON */ }
    if (!res.ok) {
      throw (body && body.error) || { title: 'Something went wrong', message: `The server answered ${res.status}.`, remedy: 'Reload the page and try again.' };
    }
    return body;
  }

  // ---- posters: skeleton until loaded ----------------------------------
  function watchImages(root = document) {
    $$('.skeleton > img', root).forEach((img) => {
      const done = () => img.parentElement.classList.add('loaded');
      if (img.complete && img.naturalWidth) done();
      else { img.addEventListener('load', done, { once: true }); img.addEventListener('error', done, { once: true }); }
    });
  }
  watchImages();

  // ---- confirmations ----------------------------------------------------
  document.addEventListener('submit', (e) => {
    const f = e.target;
    if (f.dataset && f.dataset.confirm && !window.confirm(f.dataset.confirm)) e.preventDefault();
  });

  // ---- character counters ----------------------------------------------
  // Each platform counts its own way (data-count): characters, UTF-8
  // bytes (YouTube descriptions), UTF-16 units (TikTok) or YouTube's tag
  // length (commas between tags, quotes around tags with spaces).
  function countText(v, how) {
    switch (how) {
      case 'bytes': return new TextEncoder().encode(v).length;
      case 'utf16': return v.length;
      case 'tags': {
        const tags = v.split(',').map((t) => t.trim().replace(/^#/, '')).filter(Boolean);
        return tags.reduce((n, t, i) => n + (i ? 1 : 0) + [...t].length + (t.includes(' ') ? 2 : 0), 0);
      }
      default: return [...v].length;
    }
  }
  const unitOf = (how) => (how === 'bytes' ? 'bytes' : how === 'utf16' ? 'characters (UTF-16)' : 'characters');
  // overLimit returns "YouTube title is 120 characters; YouTube allows
  // 100" for a field over its limit, else "".
  function overLimit(field) {
    const lim = +field.dataset.limit;
    if (!lim) return '';
    const n = countText(field.value, field.dataset.count);
    if (n <= lim) return '';
    const what = field.dataset.what || 'The text';
    const plat = what.split(' ')[0];
    return `${what[0].toUpperCase() + what.slice(1)} is ${n.toLocaleString()} ${unitOf(field.dataset.count)}; ${plat} allows ${lim.toLocaleString()}.`;
  }
  function counter(field) {
    const c = field.parentElement.querySelector('.counter');
    if (!c || field.dataset.counted) return;
    field.dataset.counted = '1';
    const lim = +field.dataset.limit;
    const upd = () => {
      const n = countText(field.value, field.dataset.count);
      c.textContent = `${n.toLocaleString()} / ${lim.toLocaleString()}` + (n > lim ? ` · ${(n - lim).toLocaleString()} over the limit` : '');
      c.classList.toggle('over', n > lim);
      field.setAttribute('aria-invalid', String(n > lim));
    };
    field.addEventListener('input', upd);
    upd();
  }
  function counters(root = document) {
    $$('[data-limit]', root).forEach(counter);
  }
  // ---- post fields ---------------------------------------------------------
  // postField builds one post field of platform p from its descriptor
  // field f (kind text, textarea, tags or select; limit and count for the
  // counter; a required select without a default starts on "Choose…"),
  // the same markup the export page renders for "Share to additional
  // platforms".
  function postField(p, f, name) {
    const data = { name, 'data-field': f.name, 'data-kind': f.kind, 'data-label': f.label };
    let input;
    if (f.kind === 'select') {
      input = el('select', data);
      if (f.required && !f.default) { input.dataset.required = '1'; input.append(el('option', { value: '', text: 'Choose…' })); }
      for (const c of f.choices || []) input.append(el('option', { value: c.value, text: c.label }));
      input.value = f.default || '';
    } else if (f.kind === 'textarea') {
      input = el('textarea', { ...data, rows: '2' });
    } else {
      input = el('input', { ...data, type: 'text' });
    }
    if (f.limit) { input.dataset.limit = f.limit; input.dataset.count = f.count; input.dataset.what = `${p.name} ${f.label.toLowerCase()}`; }
    const label = el('label', {}, document.createTextNode(f.label + ' '));
    if (f.kind === 'tags') label.append(el('span', { class: 'hint', text: 'comma separated ' }));
    label.append(input);
    if (f.limit) label.append(el('span', { class: 'counter', 'aria-live': 'polite' }));
    if (f.help) label.append(el('span', { class: 'hint', text: f.help }));
    return label;
  }
  // checkFields returns the first post field of fieldset fs that the
  // platform would refuse (a required choice not made, a text over its
  // limit) with the error to show, else null.
  function checkFields(fs) {
    for (const f of $$('[data-field]', fs)) {
      if (f.dataset.required && !f.value) {
        const plat = fs.querySelector('legend').textContent.trim();
        return { field: f, err: { title: `Choose ${f.dataset.label.toLowerCase()}`, message: `${plat} requires an explicit choice of ${f.dataset.label.toLowerCase()}.`, remedy: 'Pick one of the options: it has no default.' } };
      }
      const over = overLimit(f);
      if (over) return { field: f, err: { title: 'Text too long', message: over, remedy: 'Shorten it: the counter under the field turns normal at the limit.' } };
    }
    return null;
  }
  // postValues are the fields' values as a destination takes them, by
  // field name; tags are split at commas.
  function postValues(fields) {
    const d = {};
    for (const f of fields) {
      const v = f.value;
      if (f.dataset.kind === 'tags') d[f.dataset.field] = v.split(',').map((t) => t.trim()).filter(Boolean);
      else if (v.trim()) d[f.dataset.field] = f.dataset.kind === 'text' ? v.trim() : v;
    }
    return d;
  }

  // init wires what a server-rendered part of the page needs: counters,
  // the browser's time zone for forms that send a local time, the share
  // form.
  function init(root) {
    counters(root);
    $$('input[name="tz_offset"]', root).forEach((i) => { i.value = String(new Date().getTimezoneOffset()); });
    $$('#share-form', root).forEach(shareForm);
    // A failed post's "Edit and retry": the platform's rules are checked
    // here first, as in the share forms.
    $$('.edit-form', root).forEach((f) => f.addEventListener('submit', (e) => {
      const bad = checkFields($('.pf', f));
      if (!bad) return;
      e.preventDefault();
      errorBox($('.form-error', f), bad.err);
      bad.field.setAttribute('aria-invalid', 'true');
      bad.field.focus();
    }));
    // Picking a thumbnail image sends it.
    $$('.thumb-form', root).forEach((f) => {
      $('.thumb-go', f).hidden = true;
      $('input[type=file]', f).addEventListener('change', () => { if ($('input[type=file]', f).files.length) f.requestSubmit(); });
    });
    $$('.range-out input', root).forEach((i) => i.addEventListener('input', () => { i.nextElementSibling.textContent = i.value + ' %'; }));
  }

  // ---- upload with progress --------------------------------------------
  const uf = $('#upload-form');
  if (uf) {
    const input = $('#upload-file', uf);
    const dz = $('.dropzone', uf);
    const label = $('.dz-file', uf);
    const prog = $('.upload-progress', uf);
    const bar = $('progress', prog);
    const text = $('.upload-text', prog);
    const cancel = $('.upload-cancel', prog);
    const err = $('.form-error', uf);
    const submit = $('button[type=submit]', uf);
    const max = +uf.dataset.maxBytes;
    const showFile = () => {
      const f = input.files[0];
      label.textContent = f ? `${f.name} · ${fmtBytes(f.size)}` : '';
    };
    input.addEventListener('change', showFile);
    ['dragenter', 'dragover'].forEach((t) => dz.addEventListener(t, (e) => { e.preventDefault(); dz.classList.add('drag'); }));
    ['dragleave', 'drop'].forEach((t) => dz.addEventListener(t, () => dz.classList.remove('drag')));
    dz.addEventListener('drop', (e) => {
      e.preventDefault();
      if (e.dataTransfer.files.length) { input.files = e.dataTransfer.files; showFile(); }
    });
    uf.addEventListener('submit', (e) => {
      e.preventDefault();
      err.hidden = true;
      const f = input.files[0];
      if (!f) {
        errorBox(err, { title: 'No file chosen', message: 'Choose a video file to upload.', remedy: 'Click the upload area or drop a file on it.' });
        return;
      }
      if (max && f.size > max) {
        errorBox(err, {
          title: 'File too large',
          message: `${f.name} is ${fmtBytes(f.size)}; the upload limit is ${uf.dataset.maxLabel}.`,
          remedy: 'Export a smaller master (for example H.264 at a lower bitrate), or ask your admin to raise OUTPOST_MAX_UPLOAD_BYTES.',
        });
        return;
      }
      const fd = new FormData(uf);
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/projects');
      xhr.setRequestHeader('Accept', 'application/json');
      const started = performance.now();
      prog.hidden = false;
      submit.disabled = true;
      bar.value = 0;
      text.textContent = `Starting upload of ${fmtBytes(f.size)}…`;
      xhr.upload.addEventListener('progress', (ev) => {
        if (!ev.lengthComputable) return;
        const pct = (ev.loaded / ev.total) * 100;
        const secs = (performance.now() - started) / 1000;
        const rate = secs > 0.5 ? ev.loaded / secs : 0;
        const left = rate ? (ev.total - ev.loaded) / rate : 0;
        bar.value = pct;
        text.textContent = `${Math.floor(pct)} % · ${fmtBytes(ev.loaded)} of ${fmtBytes(ev.total)}` +
          (rate ? ` · ${fmtBytes(rate)}/s` : '') + (left > 1 ? ` · ${eta(left)}` : '');
      });
      xhr.upload.addEventListener('load', () => {
        bar.value = 100;
        text.textContent = 'Uploaded · checking the video and taking a poster frame…';
      });
      const reset = () => { submit.disabled = false; prog.hidden = true; };
      xhr.addEventListener('load', () => {
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
        if (xhr.status >= 200 && xhr.status < 300 && body) {
          text.textContent = `Ready: ${body.name}`;
          location.href = '/projects?uploaded=' + encodeURIComponent(body.id) + '#' + encodeURIComponent(body.id);
          return;
        }
        reset();
        errorBox(err, (body && body.error) || { title: 'Upload failed', message: `The server answered ${xhr.status}.`, remedy: 'Try again.' });
      });
      xhr.addEventListener('error', () => {
        reset();
        errorBox(err, { title: 'Upload interrupted', message: 'The connection was lost during the upload.', remedy: 'Check your network and upload the file again.' });
      });
      xhr.addEventListener('abort', () => { reset(); toast('Upload canceled.'); });
      cancel.onclick = () => xhr.abort();
      xhr.send(fd);
    });
  }

  // ---- import from a link ----------------------------------------------
  const imf = $('#import-form');
  if (imf) {
    imf.addEventListener('submit', async (e) => {
      e.preventDefault();
      const err = $('.form-error', imf), busy = $('.import-busy', imf), btn = $('button[type=submit]', imf);
      err.hidden = true;
      busy.hidden = false;
      btn.disabled = true;
      try {
        const r = await api('/projects/import', { method: 'POST', body: new URLSearchParams(new FormData(imf)) });
        location.href = '/projects?uploaded=' + encodeURIComponent(r.id) + '#' + encodeURIComponent(r.id);
      } catch (ex) {
        errorBox(err, ex);
      } finally {
        busy.hidden = true;
        btn.disabled = false;
      }
    });
  }

  // ---- export modal ------------------------------------------------------
  // Format → Quality → Distribution → "Export & Share"; the modal then
  // turns into the export's live view (the server-rendered fragment of its
  // page), and closing it leaves the export running.
  const modal = $('#export-modal');
  const M = { opts: null, selected: [], busy: false, idem: '', lastFocus: null, measured: {}, abort: null, timer: 0, batch: null, stop: null, exportURL: '' };
  const LEVELS = ['web', 'hd', 'ultra'];
  const LEVEL_TEXT = { web: 'Web: smallest files, quick uploads', hd: 'HD: recommended for most platforms', ultra: 'Ultra: best picture, biggest files' };

  function currentProject() {
    const view = $('#export-view');
    if (view) return view.dataset.project;
    const active = document.activeElement && document.activeElement.closest && document.activeElement.closest('[data-project]');
    if (active) return active.dataset.project;
    const first = $('[data-project]');
    return first ? first.dataset.project : '';
  }

  // openModal opens the export modal for a project, or for several
  // (batch: the same formats for each, one export each).
  function openModal(projectId, trigger, batch) {
    if (!projectId) {
      toast('Upload a video first: there is no project to export yet.');
      const f = $('#upload-file');
      if (f) f.focus();
      return;
    }
    if (!modal) { location.href = '/projects?export=' + encodeURIComponent(projectId); return; }
    stopFollowing();
    M.lastFocus = trigger || document.activeElement;
    M.idem = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2)) + '';
    M.opts = null;
    M.selected = [];
    M.measured = {};
    M.batch = batch && batch.length > 1 ? batch : null;
    modal.hidden = false;
    document.body.classList.add('modal-open');
    form.hidden = false;
    $('.modal-live', modal).hidden = true;
    $('.modal-live', modal).replaceChildren();
    const box = $('.modal', modal);
    $('#export-title', modal).textContent = 'Export';
    $('.modal-sub', modal).textContent = 'Loading the project…';
    const fm = $('.formats', modal);
    fm.dataset.loading = 'true';
    fm.replaceChildren(...Array.from({ length: 8 }, () => el('div', { class: 'tile skeleton', 'aria-hidden': 'true' })));
    $('.targets', modal).replaceChildren(...Array.from({ length: 2 }, () => el('li', { class: 'target skeleton', 'aria-hidden': 'true' }, el('div', { class: 'frame-box' }), el('div', {}, el('div', { class: 'sk-line' })))));
    $('.total', modal).textContent = '';
    hideError();
    $('.save-form', modal).hidden = true;
    $('.save-toggle', modal).setAttribute('aria-expanded', 'false');
    const poster = $('.modal-poster', modal);
    poster.classList.remove('loaded');
    box.focus();
    api('/projects/' + encodeURIComponent(projectId) + '/export-options')
      .then(renderOptions)
      .catch((e) => showError(e));
  }

  function closeModal() {
    if (!modal || modal.hidden) return;
    const running = M.exportURL && !$('.modal-live', modal).hidden && $('#export-live[data-live="true"]', modal);
    modal.hidden = true;
    document.body.classList.remove('modal-open');
    clearTimeout(M.timer);
    if (M.abort) { M.abort.abort(); M.abort = null; }
    stopFollowing();
    if (running) toastLink('The export keeps running.', 'Open its page', M.exportURL);
    M.exportURL = '';
    if (M.lastFocus && M.lastFocus.focus) M.lastFocus.focus();
  }
  function stopFollowing() {
    if (M.stop) { M.stop(); M.stop = null; }
  }

  const form = modal && $('#export-form', modal);
  const val = (name) => {
    const f = form.elements[name];
    return f ? f.value : '';
  };

  // Errors show next to the primary button, and the focus goes to the
  // field to fix when there is one.
  function hideError() {
    const b = $('.modal-error', modal);
    b.hidden = true;
    $$('[aria-invalid="true"]', form).forEach((x) => { if (!x.dataset.limit) x.removeAttribute('aria-invalid'); });
  }
  function showError(e, field) {
    const b = $('.modal-error', modal);
    errorBox(b, e);
    const target = field || fieldFor(e && e.field);
    if (target) {
      if (target.matches('input, select, textarea')) target.setAttribute('aria-invalid', 'true');
      const d = target.closest('details');
      if (d) d.open = true;
      target.scrollIntoView({ block: 'center' });
      target.focus({ preventScroll: true });
    } else {
      b.focus();
    }
  }
  // fieldFor finds the field a server error names.
  function fieldFor(name) {
    if (!name) return null;
    if (name === 'formats') return $('.tile:not([aria-disabled])', modal);
    if (name === 'accounts') return $('.acct-list input[type=checkbox]', modal);
    if (name === 'versions') return $('.version-list input', modal) || $('[name=versions_on]', form);
    if (name.startsWith('acct:')) {
      const li = $(`.acct-list li[data-account="${CSS.escape(name.slice(5))}"]`, modal);
      const fs = li && $(`.pf[data-platform="${CSS.escape(li.dataset.platform)}"]`, modal);
      return (fs && $('[data-field]', fs)) || (li && $('input', li));
    }
    return null;
  }

  const level = () => val('quality') || 'hd';
  function setLevel(l) {
    const i = Math.max(0, LEVELS.indexOf(l));
    form.elements.quality_level.value = String(i);
    form.elements.quality.value = LEVELS[i];
    form.elements.quality_level.setAttribute('aria-valuetext', LEVEL_TEXT[LEVELS[i]]);
    $$('.qmarks li', modal).forEach((li) => li.classList.toggle('on', li.dataset.level === LEVELS[i]));
  }

  function renderOptions(o) {
    M.opts = o;
    const p = o.project;
    const n = M.batch ? M.batch.length : 1;
    $('#export-title', modal).textContent = M.batch ? `Export ${n} projects` : 'Export “' + p.name + '”';
    $('.modal-sub', modal).textContent = `${fmtClock(p.duration_seconds)} · ${p.width}×${p.height} · ${p.shape} source` + (M.batch ? ` (“${p.name}”, the first)` : '');
    const bn = $('.batch-note', modal);
    bn.hidden = !M.batch;
    bn.textContent = M.batch ? `The formats and quality you pick are made for each of the ${n} projects, one export each, grouped together. Sizes and previews are for “${p.name}”.` : '';
    const pimg = $('.modal-poster img', modal);
    pimg.src = p.poster;
    pimg.alt = 'Poster frame of ' + p.name;
    watchImages($('.modal-head', modal));
    form.elements.client.value = p.client || '';
    form.elements.campaign.value = p.campaign || '';
    setLevel('hd');
    form.elements.fit.value = 'blur';
    form.elements.fps.value = '0';
    form.elements.video_kbps.value = '';
    form.elements.captions_file.value = '';
    form.elements.captions_mode.value = 'auto';
    form.elements.loudness.value = 'off';
    form.elements.loudness_custom.value = '';
    form.elements.loudness_custom.disabled = true;
    form.elements.thumbnail_at.value = '';
    form.elements.distribution.value = 'download';
    renderKits(o);
    renderVersions(false);
    M.selected = o.formats.filter((f) => f.default).map((f) => f.id);
    renderShare(o);

    const fm = $('.formats', modal);
    fm.dataset.loading = 'false';
    const groups = [['platforms', 'Platforms'], ['files', 'Files'], ['yours', 'Your presets']];
    const parts = [];
    for (const [g, title] of groups) {
      const list = o.formats.filter((f) => f.group === g);
      if (!list.length) continue;
      const gid = 'fg-' + g;
      parts.push(el('p', { class: 'fgroup-title', id: gid, text: title }));
      const grid = el('div', { class: 'fgrid', role: 'group', 'aria-labelledby': gid });
      for (const f of list) grid.append(tile(f));
      parts.push(grid);
    }
    fm.replaceChildren(...parts);
    renderTargets();
  }

  // renderKits fills the brand kit choice: a kit whose client is the
  // project's is suggested.
  function renderKits(o) {
    const sel = form.elements.brand_kit;
    const kits = o.brand_kits || [];
    sel.replaceChildren(el('option', { value: '', text: 'None' }), ...kits.map((k) => el('option', { value: k.slug, text: k.name + (k.client ? ` (${k.client})` : '') })));
    const mine = kits.find((k) => k.client && o.project.client && k.client.toLowerCase() === o.project.client.toLowerCase());
    sel.value = mine ? mine.slug : '';
    sel.closest('label').parentElement.hidden = !kits.length;
    $('.kit-note', modal).textContent = mine ? `Suggested: ${o.project.client}'s kit` : (kits.length ? '' : '');
  }

  // Versions (A/B): each row is a name, a brand kit and a quality.
  function versionRow(i, kit, q) {
    const name = String.fromCharCode(65 + i);
    const kits = (M.opts && M.opts.brand_kits) || [];
    const ks = el('select', { 'aria-label': `Brand kit of version ${name}`, class: 'v-kit' }, el('option', { value: 'none', text: 'No brand kit' }), ...kits.map((k) => el('option', { value: k.slug, text: k.name })));
    ks.value = kit || 'none';
    const qs = el('select', { 'aria-label': `Quality of version ${name}`, class: 'v-quality' }, ...LEVELS.map((l) => el('option', { value: l, text: l === 'hd' ? 'HD' : l[0].toUpperCase() + l.slice(1) })));
    qs.value = q || level();
    const nm = el('input', { type: 'text', class: 'v-name', value: name, maxlength: '100', 'aria-label': `Name of version ${name}` });
    const rm = el('button', { type: 'button', class: 'btn btn-icon v-remove', 'aria-label': `Remove version ${name}` });
    rm.append(iconEl('close'));
    rm.addEventListener('click', () => { rm.closest('li').remove(); syncVersions(); });
    return el('li', { class: 'version' }, nm, ks, qs, rm);
  }
  function renderVersions(on) {
    form.elements.versions_on.checked = on;
    const list = $('.version-list', modal);
    list.replaceChildren();
    if (on) {
      const kits = (M.opts && M.opts.brand_kits) || [];
      list.append(versionRow(0, val('brand_kit') || (kits[0] && kits[0].slug)), versionRow(1, kits[1] ? kits[1].slug : 'none'));
    }
    $('.version-add', modal).disabled = !on;
    syncVersions();
  }
  function syncVersions() {
    const on = form.elements.versions_on.checked;
    const single = !M.batch && !on;
    // Sharing goes with one export: versions are compared first, then
    // shared from their page; a batch is downloads.
    const off = $('.dist-off', modal);
    off.hidden = single;
    off.textContent = M.batch ? 'A batch makes downloads: share each export from its page afterwards.'
      : 'Versions are made to compare: share the one you pick from its page afterwards.';
    $$('input[name="distribution"]', form).forEach((r) => { r.closest('label').hidden = !single; });
    if (!single) form.elements.distribution.value = 'download';
    $('.versions', modal).hidden = !!M.batch;
    form.elements.brand_kit.disabled = on;
    syncShare();
    updateGo();
  }
  function variants() {
    const names = new Set();
    const out = [];
    const byID = Object.fromEntries(M.opts.formats.map((f) => [f.id, f]));
    for (const li of $$('.version-list li', modal)) {
      const name = $('.v-name', li).value.trim();
      if (!name || names.has(name)) throw { title: 'Name each version', message: 'Each version needs its own name.', remedy: 'Give the versions distinct names, such as A and B.', field: $('.v-name', li) };
      names.add(name);
      const q = $('.v-quality', li).value;
      out.push({ name, brand_kit: $('.v-kit', li).value, targets: M.selected.map((id) => buildTarget(byID[id], q)) });
    }
    if (out.length < 2) throw { title: 'Add a version', message: 'Comparing needs at least two versions.', remedy: 'Add a version, or turn versions off.', field: $('.version-add', modal) };
    return out;
  }

  // renderShare builds the Distribution section: the accounts (name,
  // avatar, platform icon, the file each gets), none ticked but those of
  // the person's saved "share to" default, and each platform's fields.
  function renderShare(o) {
    const accts = o.connections || [];
    const saved = new Set(o.share_defaults || []);
    const shareOpt = form.querySelector('input[name="distribution"][value="share"]');
    shareOpt.disabled = !accts.length;
    shareOpt.closest('label').classList.toggle('is-disabled', !accts.length);
    $('.share-none', modal).hidden = accts.length > 0;
    const list = $('.acct-list', modal);
    list.replaceChildren(...accts.map((a) => {
      const cb = el('input', { type: 'checkbox', name: 'acct', value: a.id, 'data-platform': a.platform, checked: saved.has(a.id) });
      const ic = el('span', { class: 'ic', 'aria-hidden': 'true' });
      ic.innerHTML = a.icon; // server constant
      const av = a.avatar_url ? el('img', { class: 'avatar', src: a.avatar_url, alt: '', width: '24', height: '24' }) : null;
      const sel = el('select', { class: 'acct-file', 'aria-label': `File to post to ${a.platform_label} ${a.name}` });
      const none = el('span', { class: 'acct-none', hidden: true });
      const lab = el('label', { class: 'acct-pick' }, cb, ic, av, el('span', {}, el('strong', { text: a.platform_label + ' ' }), document.createTextNode(a.name)));
      return el('li', { 'data-account': a.id, 'data-platform': a.platform, 'data-label': a.platform_label }, lab, sel, none);
    }));
    const pf = $('.pfields', modal);
    pf.replaceChildren(...(o.platforms || []).map((p) => {
      const fs = el('fieldset', { class: 'pf', 'data-platform': p.id });
      const lg = el('legend', {});
      const ic = el('span', { class: 'ic', 'aria-hidden': 'true' });
      ic.innerHTML = (accts.find((a) => a.platform === p.id) || {}).icon || '';
      lg.append(ic, document.createTextNode(' ' + p.name));
      fs.append(lg, ...p.fields.map((f) => postField(p, f, `pf-${p.id}-${f.name}`)));
      return fs;
    }));
    counters(pf);
    for (const n of ['schedule_at', 'utm_campaign', 'utm_source', 'utm_medium', 'utm_content']) form.elements[n].value = '';
    form.elements.utm_off.checked = false;
    $('.remember-note', modal).textContent = saved.size ? 'Ticked: your saved default.' : '';
    syncShare();
  }
  // rememberAccounts saves the ticked accounts as the person's "share to"
  // default: the next exports start with them ticked.
  async function rememberAccounts() {
    const ids = $$('.acct-list input[type=checkbox]:checked', modal).map((c) => c.value);
    const note = $('.remember-note', modal);
    try {
      await api('/share-defaults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ connection_ids: ids }) });
      note.textContent = ids.length ? `Saved: ${ids.length === 1 ? 'this account is' : `these ${ids.length} accounts are`} ticked next time.` : 'Saved: no account is ticked next time.';
      toast(ids.length ? 'Remembered: your next exports start with these accounts ticked.' : 'Cleared: your next exports start with no account ticked.');
    } catch (e) {
      showError(e);
    }
  }
  // syncShare shows the share fields when sharing and the fields of the
  // platforms ticked, and gives each account the selected format that
  // suits its platform (the platform's formats, best first); when none
  // does, it says so and offers to add the best one.
  function syncShare() {
    if (!M.opts) return;
    const sharing = val('distribution') === 'share';
    $('.share-box', modal).hidden = !sharing;
    const byID = Object.fromEntries(M.opts.formats.map((f) => [f.id, f]));
    const ticked = new Set();
    $$('.acct-list li', modal).forEach((li) => {
      const cb = $('input[type=checkbox]', li), sel = $('select', li), none = $('.acct-none', li), plat = li.dataset.platform;
      if (cb.checked) ticked.add(plat);
      const suits = (M.opts.platform_formats || {})[plat] || [];
      const ids = suits.filter((id) => M.selected.includes(id));
      const keep = sel.value;
      sel.replaceChildren(...ids.map((id) => el('option', { value: id, text: byID[id] ? byID[id].name : id })));
      if (ids.includes(keep) && sel.dataset.touched) sel.value = keep;
      sel.hidden = !ids.length;
      sel.disabled = !cb.checked;
      none.hidden = ids.length > 0;
      if (!ids.length) {
        const best = suits.map((id) => byID[id]).find((f) => f && !f.disabled);
        none.replaceChildren(iconEl('warn'), el('span', { text: `None of the selected formats suits ${li.dataset.label}.` }));
        if (best) {
          const add = el('button', { type: 'button', class: 'btn btn-quiet acct-add', 'data-add': best.id }, iconEl('check'), el('span', { text: `Add ${best.name}` }));
          add.addEventListener('click', () => {
            if (!M.selected.includes(best.id)) M.selected.push(best.id);
            const t = $(`.tile[data-id="${CSS.escape(best.id)}"]`, modal);
            if (t) t.setAttribute('aria-pressed', 'true');
            renderTargets();
            toast(`Added ${best.name} for ${li.dataset.label}.`);
            const s2 = $('select', li);
            if (s2 && !s2.hidden) s2.focus();
          });
          none.append(add);
        }
      }
    });
    $$('.pfields .pf', modal).forEach((fs) => { fs.hidden = !ticked.has(fs.dataset.platform); });
    updateGo();
  }
  function updateGo() {
    const go = $('.export-label', modal);
    if (!go || !M.opts) return;
    const n = M.selected.length;
    const versions = form.elements.versions_on.checked ? $$('.version-list li', modal).length : 0;
    let text = n > 1 ? `Export ${n} files` : 'Export';
    if (M.batch) text = `Export ${M.batch.length} projects`;
    else if (versions) text = `Export ${versions} versions`;
    else if (val('distribution') === 'share') text += ' & Share';
    go.textContent = text;
  }
  // destinations are the share's posts, as the API takes them; it throws
  // a plain error (with the field to fix) for a post a platform would
  // refuse.
  function destinations() {
    const at = val('schedule_at');
    const when = at ? new Date(at).toISOString() : undefined;
    const utm = {};
    for (const k of ['campaign', 'source', 'medium', 'content']) { const v = val('utm_' + k).trim(); if (v) utm[k] = v; }
    if (form.elements.utm_off.checked) utm.disabled = true;
    const out = [];
    for (const li of $$('.acct-list li', modal)) {
      if (!$('input[type=checkbox]', li).checked) continue;
      const plat = li.dataset.platform;
      const sel = $('select', li);
      if (sel.hidden || !sel.value) {
        const add = $('.acct-add', li);
        throw { title: `No format for ${li.dataset.label}`, message: `None of the selected formats suits ${li.dataset.label}.`, remedy: add ? `Press “${add.textContent}” to add the right one, or untick the account.` : 'Untick the account.', field: add || $('input', li) };
      }
      const fs = $(`.pf[data-platform="${plat}"]`, modal);
      const bad = checkFields(fs);
      if (bad) throw Object.assign(bad.err, { field: bad.field });
      const d = { connection_id: li.dataset.account, preset: sel.value };
      Object.assign(d, postValues($$('[data-field]', fs)));
      if (when) d.schedule_at = when;
      if (Object.keys(utm).length) d.utm = utm;
      out.push(d);
    }
    if (!out.length) throw { title: 'Pick an account', message: 'Share to platforms is chosen but no account is ticked.', remedy: 'Tick at least one account under Post to, or choose Download only.', field: $('.acct-list input', modal) };
    return out;
  }

  function tile(f) {
    const b = el('button', { type: 'button', class: 'tile', 'data-id': f.id, 'aria-pressed': String(M.selected.includes(f.id)) });
    const ic = el('span', { class: 'ic', 'aria-hidden': 'true' });
    ic.innerHTML = f.icon; // server constants, never user input
    b.append(ic, el('span', { class: 't-label', text: f.label }),
      el('span', { class: 't-sub', text: (f.group === 'yours' ? f.description : `${f.platform_label} · ${f.width}×${f.height}`) }),
      el('span', { class: 't-check', 'aria-hidden': 'true' }));
    b.title = f.name + (f.description ? ' — ' + f.description : '');
    if (f.disabled) {
      b.setAttribute('aria-disabled', 'true');
      b.append(el('span', { class: 't-why', text: 'Not possible: ' + f.disabled }));
    } else if (f.default) {
      b.append(el('span', { class: 't-badge', text: f.why === 'most used' ? 'Most used' : 'Suggested' }));
    }
    b.addEventListener('click', () => {
      if (f.disabled) {
        toast(`${f.name}: ${f.disabled}. ${f.remedy || ''}`);
        return;
      }
      const i = M.selected.indexOf(f.id);
      if (i >= 0) M.selected.splice(i, 1); else M.selected.push(f.id);
      b.setAttribute('aria-pressed', String(i < 0));
      renderTargets();
    });
    return b;
  }

  function estimate(f, lvl) {
    const q = f.group === 'yours' && f.settings.quality ? f.settings.quality : (lvl || level());
    const r = f.rates[q] || f.rates.hd;
    const kbps = +val('video_kbps') || (f.group === 'yours' ? f.settings.video_kbps : 0) || 0;
    const v = kbps > 0 && f.container !== 'gif' ? kbps : r.video_kbps;
    return Math.ceil((v + r.audio_kbps) * 1000 / 8 * M.opts.project.duration_seconds * 1.01) + 4096;
  }

  // buildTarget is one target of the export request, as the modal's
  // settings say: a user preset keeps its own quality and fit.
  function buildTarget(f, lvl) {
    const t = { preset: f.id };
    if (f.group !== 'yours') { t.quality = lvl || level(); t.fit = val('fit'); }
    const fps = +val('fps'), kbps = +val('video_kbps');
    if (fps > 0) t.fps = fps;
    if (kbps > 0) t.video_kbps = kbps;
    return t;
  }
  const tkey = (t) => JSON.stringify([t.preset, t.quality || '', t.fit || '', t.fps || 0, t.video_kbps || 0, val('brand_kit')]);

  // measure asks the server for sizes measured on a sample encode
  // (engine.Estimate), for the targets it has not measured yet.
  function scheduleMeasure() {
    clearTimeout(M.timer);
    M.timer = setTimeout(measure, 600);
  }
  async function measure() {
    if (!M.opts || modal.hidden) return;
    const byID = Object.fromEntries(M.opts.formats.map((f) => [f.id, f]));
    const need = M.selected.map((id) => buildTarget(byID[id])).filter((t) => !(tkey(t) in M.measured));
    if (!need.length) return;
    if (M.abort) M.abort.abort();
    const ac = new AbortController();
    M.abort = ac;
    const keys = need.map(tkey);
    try {
      const r = await api('/projects/' + encodeURIComponent(M.opts.project.id) + '/estimate', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ targets: need, brand_kit: val('brand_kit') }), signal: ac.signal,
      });
      r.estimates.forEach((e, i) => { M.measured[keys[i]] = e; });
      M.measuredMethod = r.method;
    } catch (e) {
      if (e && e.name === 'AbortError') return;
      keys.forEach((k) => { M.measured[k] = { failed: true }; }); // keep the bound
    }
    if (M.abort === ac) M.abort = null;
    renderTargets(true);
  }

  function renderTargets(fromMeasure) {
    if (!M.opts) return;
    const list = $('.targets', modal);
    const byID = Object.fromEntries(M.opts.formats.map((f) => [f.id, f]));
    const fit = val('fit');
    const fps = +val('fps');
    const p = M.opts.project;
    let total = 0, allMeasured = true, missing = false;
    const items = [];
    for (const id of M.selected) {
      const f = byID[id];
      if (!f) continue;
      const m = M.measured[tkey(buildTarget(f))];
      const measuredOK = m && !m.failed && !m.error && m.bytes > 0;
      const bytes = measuredOK ? m.bytes : estimate(f);
      if (!m) missing = true;
      if (!measuredOK) allMeasured = false;
      total += bytes;
      const aspect = f.width / f.height;
      const frame = el('div', { class: 'frame fit-' + (f.group === 'yours' && f.settings.fit ? f.settings.fit : fit) });
      const side = 88;
      frame.style.width = (aspect >= 1 ? side : Math.round(side * aspect)) + 'px';
      frame.style.height = (aspect >= 1 ? Math.round(side / aspect) : side) + 'px';
      frame.append(el('img', { class: 'bg', src: p.poster, alt: '' }), el('img', { class: 'fg', src: p.poster, alt: '' }));
      const ic = el('span', { class: 'ic', 'aria-hidden': 'true' });
      ic.innerHTML = f.icon;
      const info = el('div', {},
        el('div', { class: 'target-name' }, ic, el('span', { text: f.name })),
        el('div', { class: 'target-meta', text: `${f.width}×${f.height} · ${f.container.toUpperCase()}` + (f.keep_aspect ? ' · keeps the source shape' : ` · ${fit} fit`) }),
        el('div', { class: 'target-est' }, el('span', { text: (measuredOK ? '≈ ' : '≤ ') + fmtBytes(bytes) }),
          el('span', { class: 'est-how', text: measuredOK ? (m.method === 'passthrough' ? ' copied as is' : m.method === 'cap' ? ' measured, at the cap' : ' measured')
            : (m ? ' upper bound' : ' upper bound · measuring…') })));
      if (m && m.error) {
        const wd = el('div', { class: 'target-warn', role: 'note' });
        wd.append(iconEl('warn'), el('span', { text: m.error.message + (m.error.remedy ? ' — ' + m.error.remedy : '') }));
        info.append(wd);
      }
      const warns = [];
      if (f.max_size_bytes && bytes > f.max_size_bytes) {
        warns.push(`May be too large for ${f.name} (${fmtBytes(bytes)} > ${fmtBytes(f.max_size_bytes)}) — choose Web quality`);
      }
      if (fps && ((f.max_fps && fps > f.max_fps) || (f.min_fps && fps < f.min_fps))) {
        warns.push(`${f.name} takes ${f.min_fps || 1} to ${f.max_fps} fps — pick another frame rate`);
      }
      for (const w of warns) {
        const wd = el('div', { class: 'target-warn', role: 'note' });
        wd.append(iconEl('warn'), el('span', { text: w }));
        info.append(wd);
      }
      const rm = el('button', { type: 'button', class: 'btn btn-icon target-remove', 'aria-label': 'Remove ' + f.name });
      rm.append(iconEl('close'));
      rm.addEventListener('click', () => {
        M.selected = M.selected.filter((x) => x !== id);
        const t = $(`.tile[data-id="${CSS.escape(id)}"]`, modal);
        if (t) t.setAttribute('aria-pressed', 'false');
        renderTargets();
      });
      info.append(rm);
      items.push(el('li', { class: 'target', 'data-id': id }, el('div', { class: 'frame-box' }, frame), info));
    }
    if (!items.length) items.push(el('li', { class: 'muted', text: 'No format selected yet: pick one or more on the left.' }));
    list.replaceChildren(...items);
    $('.sel-count', modal).textContent = `(${M.selected.length})`;
    const times = M.batch ? ` per project` : '';
    $('.total', modal).textContent = M.selected.length ? `Total ${allMeasured ? '≈' : '≤'} ${fmtBytes(total)} for ${M.selected.length} file${M.selected.length === 1 ? '' : 's'}${times}` : '';
    $('.estimate-method', modal).textContent = 'Sizes: ≤ is an ' + M.opts.estimate_method + '; ≈ is ' + (M.measuredMethod || 'measured by encoding a short sample') + '.';
    // Each quality level with the size it gives: the measured size at the
    // current level, the bound at the others.
    for (const li of $$('.qmarks li', modal)) {
      const l = li.dataset.level;
      let sum = 0, exact = true;
      for (const id of M.selected) {
        const f = byID[id];
        if (!f) continue;
        const m = M.measured[tkey(buildTarget(f, l))];
        if (m && !m.failed && !m.error && m.bytes > 0) sum += m.bytes; else { exact = false; sum += estimate(f, l); }
      }
      $('.qsize', li).textContent = M.selected.length ? (exact ? '≈ ' : '≤ ') + fmtBytes(sum) : '—';
    }
    if (missing && !fromMeasure) scheduleMeasure();
    const base = $('#preset-base', modal);
    const keep = base.value;
    base.replaceChildren(...M.selected.map((id) => el('option', { value: id, text: 'on ' + byID[id].name })));
    if (M.selected.includes(keep)) base.value = keep;
    syncShare();
  }

  // finishing adds the Advanced section's captions (the file's text, read
  // here), loudness and thumbnail time to an export request.
  async function finishing(body) {
    const file = form.elements.captions_file.files[0];
    if (file) {
      if (file.size > 512 * 1024) throw { title: 'Check the captions', message: 'The captions file is larger than 512 KiB.', remedy: 'Pick an SRT or WebVTT file.', field: form.elements.captions_file };
      body.captions = { text: await file.text(), mode: val('captions_mode') };
    }
    let loud = val('loudness');
    if (loud === 'custom') {
      loud = val('loudness_custom');
      if (loud === '' || +loud < -70 || +loud > -5) throw { title: 'Check the loudness', message: 'Give a level between −70 and −5 LUFS.', remedy: 'For example −16.', field: form.elements.loudness_custom };
    }
    if (loud && loud !== 'off') body.loudness = loud;
    const at = val('thumbnail_at');
    if (at !== '') body.thumbnail_at = +at;
  }

  async function submitExport() {
    if (!M.opts || M.busy) return;
    hideError();
    if (!M.selected.length) {
      showError({ title: 'Check the settings', message: 'No format is selected.', remedy: 'Pick at least one format in the Format section.' }, fieldFor('formats'));
      return;
    }
    const byID = Object.fromEntries(M.opts.formats.map((f) => [f.id, f]));
    const body = {
      project_id: M.opts.project.id, targets: M.selected.map((id) => buildTarget(byID[id])), client: val('client'), campaign: val('campaign'),
      idempotency_key: M.idem, distribution: val('distribution') || 'download', brand_kit: val('brand_kit'),
    };
    try {
      if (M.batch) body.project_ids = M.batch;
      else if (form.elements.versions_on.checked) body.variants = variants();
      else if (body.distribution === 'share') body.destinations = destinations();
      await finishing(body);
    } catch (e) {
      showError(e, e.field);
      return;
    }
    const btn = $('.export-go', modal);
    M.busy = true;
    btn.disabled = true;
    $('.export-label', btn).textContent = 'Starting…';
    try {
      const r = await api('/exports', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      if (r.refused && r.refused.length) {
        showError({ title: `${r.started} of ${M.batch.length} exports started`, message: r.refused.map((x) => `${x.project}: ${x.error.message}`).join(' · '), remedy: 'Open the group to follow the ones that started.' });
        $('.modal-error', modal).append(el('p', {}, el('a', { class: 'btn btn-primary', href: r.url, text: 'Open the group' })));
        return;
      }
      if (r.live) { showProgress(r); return; }
      location.href = r.url;
    } catch (e) {
      showError(e);
      renderTargets();
    } finally {
      M.busy = false;
      btn.disabled = false;
      updateGo();
    }
  }

  // showProgress turns the modal into the export's live view: the same
  // server-rendered fragment as its page, then its success screen.
  async function showProgress(r) {
    const liveBox = $('.modal-live', modal);
    M.exportURL = r.url;
    $('#export-title', modal).textContent = 'Exporting “' + (r.name || M.opts.project.name) + '”';
    $('.modal-sub', modal).replaceChildren(document.createTextNode('Closing this keeps the export running: '), el('a', { href: r.url, text: 'open its page' }));
    // Skeleton rows (the bar, the stages, the posts) until the view comes.
    form.hidden = true;
    liveBox.replaceChildren(el('div', { class: 'sk-live', 'aria-hidden': 'true' }, el('div', { class: 'sk-bar skeleton' }), ...skLines(5)));
    liveBox.setAttribute('aria-busy', 'true');
    liveBox.hidden = false;
    let frag = null;
    try {
      const res = await fetch(r.live, { credentials: 'same-origin' });
      const tpl = document.createElement('template');
      tpl.innerHTML = (await res.text()).trim();
      frag = tpl.content.firstElementChild;
    } catch (_) { /* its page shows it */ }
    liveBox.removeAttribute('aria-busy');
    if (!frag) { location.href = r.url; return; }
    liveBox.replaceChildren(frag);
    init(liveBox);
    watchImages(liveBox);
    M.stop = follow(frag);
    modal.scrollTop = 0;
    $('.modal', modal).focus();
  }

  async function savePreset() {
    const name = $('#preset-name', modal).value.trim();
    if (!name) { showError({ title: 'Name the preset', message: 'A preset needs a name.', remedy: 'Type a name, then Save.' }, $('#preset-name', modal)); return; }
    if (!M.selected.length) { showError({ title: 'Pick a format', message: 'A preset is a format with your settings.', remedy: 'Select the format to base it on first.' }, fieldFor('formats')); return; }
    const baseID = $('#preset-base', modal).value || M.selected[0];
    const f = M.opts.formats.find((x) => x.id === baseID) || M.opts.formats.find((x) => x.id === M.selected[0]);
    const body = { name, base_preset_id: f.base || f.id, quality: level(), fit: val('fit'), fps: +val('fps') || 0, video_kbps: +val('video_kbps') || 0, brand_kit: val('brand_kit') };
    try {
      await api('/presets', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      hideError();
      $('.save-form', modal).hidden = true;
      $('.save-toggle', modal).setAttribute('aria-expanded', 'false');
      toast(`Saved preset “${name}” (${f.name} with these settings). It is under Your presets.`);
    } catch (e) {
      showError(e, $('#preset-name', modal));
    }
  }

  if (modal) {
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      // Enter in the preset name saves the preset; it never exports.
      if (document.activeElement && document.activeElement.id === 'preset-name') return;
      submitExport();
    });
    form.addEventListener('change', (e) => {
      if (['fit', 'fps', 'video_kbps', 'brand_kit'].includes(e.target.name)) renderTargets();
      if (e.target.name === 'distribution' || e.target.name === 'acct') syncShare();
      if (e.target.name === 'versions_on') renderVersions(e.target.checked);
      if (e.target.classList.contains('acct-file')) e.target.dataset.touched = '1';
      if (e.target.closest('.version-list')) updateGo();
    });
    form.elements.quality_level.addEventListener('input', () => { setLevel(LEVELS[+form.elements.quality_level.value]); renderTargets(); });
    $$('.qmarks li', modal).forEach((li) => li.addEventListener('click', () => { setLevel(li.dataset.level); renderTargets(); }));
    $('.version-add', modal).addEventListener('click', () => {
      const list = $('.version-list', modal);
      if (list.children.length >= 10) return;
      list.append(versionRow(list.children.length, 'none'));
      syncVersions();
      $('.v-name', list.lastElementChild).focus();
    });
    form.elements.video_kbps.addEventListener('input', () => renderTargets());
    form.elements.loudness.addEventListener('change', () => {
      form.elements.loudness_custom.disabled = val('loudness') !== 'custom';
    });
    $('.modal-close', modal).addEventListener('click', closeModal);
    $('.modal-cancel', modal).addEventListener('click', closeModal);
    modal.addEventListener('mousedown', (e) => { if (e.target === modal) closeModal(); });
    $('.save-toggle', modal).addEventListener('click', (e) => {
      const sf = $('.save-form', modal);
      sf.hidden = !sf.hidden;
      e.currentTarget.setAttribute('aria-expanded', String(!sf.hidden));
      if (!sf.hidden) $('#preset-name', modal).focus();
    });
    $('.save-go', modal).addEventListener('click', savePreset);
    $('.remember-go', modal).addEventListener('click', rememberAccounts);
    modal.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') { e.preventDefault(); closeModal(); return; }
      if (e.key === 'Tab') { trapFocus(e); return; }
      if (e.key === 'Enter' && !e.isComposing && !e.shiftKey && !form.hidden) {
        const t = e.target;
        if (t.id === 'preset-name') { e.preventDefault(); savePreset(); return; }
        if (t.closest('textarea, button, select, summary, a, .modal-live')) return;
        e.preventDefault();
        submitExport();
      }
    });
  }

  function trapFocus(e) {
    const items = $$('a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])', modal)
      .filter((x) => x.offsetParent !== null && !x.closest('[hidden]'));
    if (!items.length) return;
    const first = items[0], last = items[items.length - 1];
    if (e.shiftKey && (document.activeElement === first || !modal.contains(document.activeElement) || document.activeElement === $('.modal', modal))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  }

  document.addEventListener('click', (e) => {
    const b = e.target.closest && e.target.closest('[data-export]');
    if (!b) return;
    e.preventDefault();
    openModal(b.dataset.export, b);
  });
  document.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'e') {
      e.preventDefault();
      if (modal && !modal.hidden) return;
      openModal(currentProject(), document.activeElement);
    }
  });
  const cards = $('#projects');
  if (cards && cards.dataset.open) {
    openModal(cards.dataset.open === 'latest' ? currentProject() : cards.dataset.open);
  }

  // ---- batch: several projects, the same formats ---------------------------
  const batchBar = $('#batch-bar');
  if (batchBar) {
    const picked = () => $$('input.pick:checked').map((c) => c.value);
    const sync = () => {
      const n = picked().length;
      batchBar.hidden = n < 1;
      $('.batch-count', batchBar).textContent = n === 1 ? '1 project selected' : `${n} projects selected`;
      $('.batch-go', batchBar).disabled = n < 2;
    };
    document.addEventListener('change', (e) => { if (e.target.matches && e.target.matches('input.pick')) sync(); });
    document.addEventListener('outpost:list', sync);
    $('.batch-go', batchBar).addEventListener('click', (e) => { const ids = picked(); openModal(ids[0], e.currentTarget, ids); });
    $('.batch-clear', batchBar).addEventListener('click', () => { $$('input.pick:checked').forEach((c) => { c.checked = false; }); sync(); });
    sync();
  }

  // ---- live parts: server-rendered fragments -------------------------------
  // A live part (the export page's #export-live, a group's #group-live) is
  // rendered by the server; its event streams only say when to fetch it
  // again, with the render's speed (which the database does not keep).
  // follow returns a function that stops following.
  function follow(box) {
    const urls = (box.dataset.events || '').split(' ').filter(Boolean);
    if (!urls.length) return () => {};
    const streams = urls.map((u) => new EventSource(u));
    const stop = () => streams.forEach((s) => s.close());
    const note = (text) => { const n = $('.live-note', box.parentElement || document); if (n) n.textContent = text; };
    // speed is the render's, sent each uploading post's share of its
    // file: the events say them, the database does not keep them.
    let speed = {}, busy = false, again = false, cur = box;
    const sent = {};
    const refresh = async () => {
      if (busy) { again = true; return; }
      busy = true;
      try {
        const q = new URLSearchParams(speed);
        for (const [id, pct] of Object.entries(sent)) q.append('up', id + ':' + Math.floor(pct));
        const res = await fetch(cur.dataset.fragment + '?' + q, { credentials: 'same-origin' });
        const tpl = document.createElement('template');
        if (res.ok) tpl.innerHTML = (await res.text()).trim();
        const next = tpl.content.firstElementChild;
        if (next && cur.isConnected) {
          // Forms being filled in stay as they are.
          const keep = $('#share-more', cur), spot = $('#share-more', next);
          if (keep && spot) spot.replaceWith(keep);
          for (const d of $$('.att-item .edit-post[open]', cur)) {
            const id = d.closest('.att-item').dataset.publication;
            const there = $(`.att-item[data-publication="${CSS.escape(id)}"] .edit-post`, next);
            if (there) there.replaceWith(d);
          }
          cur.replaceWith(next);
          cur = next;
          init(next);
          watchImages(next);
          if (next.dataset.live !== 'true') stop();
        }
      } catch (_) { /* the next event fetches again */ }
      busy = false;
      if (again) { again = false; refresh(); }
    };
    for (const es of streams) {
      es.addEventListener('progress', (m) => {
        try {
          const d = JSON.parse(m.data);
          speed = d.speed > 0 ? { speed: d.speed, fps: d.fps || 0 } : {};
          // The bar moves at once; the rest of the panel comes with the
          // fragment, which may skip steps while the server is busy.
          const bar = $('#overall', cur), pct = $('#percent', cur);
          if (bar && pct && d.percent >= 0) { bar.value = d.percent; pct.textContent = Math.floor(d.percent) + ' %'; }
        } catch (_) { /* skip */ }
        refresh();
      });
      es.addEventListener('publication', (m) => {
        try {
          const d = JSON.parse(m.data);
          if (d.state === 'uploading' && d.percent >= 0) sent[d.id] = d.percent; else delete sent[d.id];
        } catch (_) { /* skip */ }
        refresh();
      });
      for (const t of ['rendition', 'done']) es.addEventListener(t, refresh);
      es.addEventListener('open', () => note('Live: this page updates by itself, and you can leave and come back.'));
      es.addEventListener('error', () => note(es.readyState === EventSource.CLOSED
        ? 'Live updates stopped. Reload the page to see the latest state.'
        : 'Connection lost: reconnecting…'));
    }
    return stop;
  }
  for (const box of $$('#export-live, #group-live')) follow(box);

  // ---- share to additional platforms --------------------------------------
  function shareForm(sf) {
    const sync = () => {
      const ticked = new Set($$('input[name="account"]:checked', sf).map((c) => c.dataset.platform));
      $$('.pf', sf).forEach((fs) => { fs.hidden = !ticked.has(fs.dataset.platform); });
    };
    sf.addEventListener('change', sync);
    sync();
    if (location.hash === '#share-more') {
      const d = $('#share-more');
      d.open = true;
      $('summary', d).focus();
    }
    sf.addEventListener('submit', (e) => {
      const box = $('.form-error', sf);
      box.hidden = true;
      if (!$$('input[name="account"]:checked', sf).length) {
        e.preventDefault();
        errorBox(box, { title: 'Pick an account', message: 'No account is ticked.', remedy: 'Tick the accounts to share to.' });
        return;
      }
      for (const fs of $$('.pf:not([hidden])', sf)) {
        const bad = checkFields(fs);
        if (bad) {
          e.preventDefault();
          errorBox(box, bad.err);
          bad.field.focus();
          return;
        }
      }
    });
  }
  init(document);

  // ---- live lists: skeleton rows while they load ---------------------------
  // liveList returns a function that fetches a list's server-rendered rows
  // into box, skeleton rows holding their place until they come; only the
  // latest answer counts. message wraps a message in what box holds.
  function liveList(box, skeleton, message) {
    let seq = 0;
    return async (url) => {
      const mine = ++seq;
      box.setAttribute('aria-busy', 'true');
      box.replaceChildren(...skeleton());
      try {
        const res = await fetch(url, { headers: { 'X-Requested-With': 'fetch' }, credentials: 'same-origin' });
        if (mine !== seq) return;
        if (!res.ok) {
          let e = null;
          try { e = (await res.json()).error; } catch (_) { /* skip */ }
          const err = el('div', { class: 'form-error' });
          errorBox(err, e);
          box.replaceChildren(message(err));
          return;
        }
        const html = await res.text();
        if (mine !== seq) return;
        box.innerHTML = html; // server-rendered, escaped
        watchImages(box);
        box.dispatchEvent(new Event('outpost:list', { bubbles: true }));
      } catch (_) {
        if (mine === seq) box.replaceChildren(message(el('p', { text: 'The server could not be reached: check your network.' })));
      } finally {
        if (mine === seq) box.removeAttribute('aria-busy');
      }
    };
  }
  function skLines(n) { return Array.from({ length: n }, () => el('div', { class: 'sk-line skeleton' })); }

  // ---- history: live search and filters -----------------------------------
  // The table's rows or the timeline's days come from the server.
  const hf = $('#history-filters');
  if (hf) {
    const box = $('#history-rows');
    const timeline = hf.dataset.view === 'timeline';
    const q = $('#hq');
    let timer;
    const load = liveList(box, () => (timeline
      ? [el('ol', { class: 'tl-items', 'aria-hidden': 'true' }, ...Array.from({ length: 3 }, () => el('li', { class: 'tl-item sk-item' },
        el('div', { class: 'tl-thumb skeleton' }), el('div', { class: 'tl-body' }, ...skLines(2)))))]
      : Array.from({ length: 3 }, () => {
        const tr = el('tr', { class: 'sk-row', 'aria-hidden': 'true' });
        for (let i = 0; i < 7; i++) tr.append(el('td', {}, ...skLines(1)));
        return tr;
      })), (node) => (timeline ? node : el('tr', {}, el('td', { colspan: '7' }, node))));
    const refresh = () => {
      const params = new URLSearchParams();
      for (const [k, v] of new FormData(hf)) if (v) params.set(k, v);
      history.replaceState(null, '', '/history' + (params.toString() ? '?' + params : ''));
      // The view switch keeps the filters.
      for (const a of $$('.view-switch a')) {
        const vp = new URLSearchParams(params);
        vp.delete('view');
        if (a.dataset.view === 'timeline') vp.set('view', 'timeline');
        a.href = '/history' + (vp.toString() ? '?' + vp : '');
      }
      params.set('partial', '1');
      load('/history?' + params);
    };
    q.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(refresh, 250); });
    hf.addEventListener('change', (e) => { if (e.target !== q) refresh(); });
    hf.addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(timer); refresh(); });
  }

  // ---- projects: live search ------------------------------------------------
  const pq = $('#project-q');
  const prows = $('#project-rows');
  if (pq && prows) {
    const sf = pq.form;
    let timer;
    const load = liveList(prows, () => [el('div', { class: 'cards', 'aria-hidden': 'true' }, ...Array.from({ length: 3 }, () => el('article', { class: 'card sk-card' },
      el('div', { class: 'poster skeleton shape-landscape' }), el('div', { class: 'card-body' }, ...skLines(3)))))], (node) => node);
    const refresh = () => {
      const params = new URLSearchParams();
      for (const [k, v] of new FormData(sf)) if (v) params.set(k, v);
      history.replaceState(null, '', '/projects' + (params.toString() ? '?' + params : ''));
      params.set('partial', '1');
      load('/projects?' + params);
    };
    pq.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(refresh, 250); });
    sf.addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(timer); refresh(); });
  }

  // ---- first-run tour ---------------------------------------------------
  // Each step points at what it names: the first of its targets on the
  // page, with the words for that target. The popover sits below its
  // target, pointing up at it; when it would cover what the page says
  // there (the empty list's text, the other intake form: data-tour-keep),
  // the target gets room below it for the popover, pushing them down.
  const TOUR_KEY = 'outpost.tour.v1';
  const steps = [
    { icon: 'bolt', title: 'Fast rendering', at: [{ sel: '#upload-form', text: 'Upload your master here once. Outpost decodes it once and renders every format you pick in a single pass.' }] },
    { icon: 'grid', title: 'Multiple formats', at: [
      { sel: '[data-tour-export]', text: 'Press Export (or Ctrl/⌘ + E) and pick several formats at once: YouTube, Shorts, Reels, TikTok, LinkedIn, MP4, GIF…' },
      { sel: '.empty[data-tour-keep]', text: 'Your uploads are listed here. Each gets an Export button: pick several formats at once — YouTube, Shorts, Reels, TikTok, LinkedIn, MP4, GIF…' }] },
    { icon: 'share', title: 'Direct sharing', at: [{ sel: '[data-tour="sharing"]', text: 'Connect your accounts here, then choose Share to platforms in the export dialog: Outpost posts each file straight to YouTube, Instagram, TikTok, LinkedIn or Facebook.' }] },
  ];
  function tour() {
    let seen = null;
    try { seen = localStorage.getItem(TOUR_KEY); } catch (_) { return; }
    if (seen || !document.body.classList.contains('page-projects') || (modal && !modal.hidden)) return;
    const live = steps.map((s) => {
      const at = s.at.find((a) => $(a.sel));
      return at && Object.assign({}, s, at);
    }).filter(Boolean);
    if (!live.length) return;
    let i = 0, box = null, target = null;
    const clear = () => {
      if (target) { target.classList.remove('tour-target'); target.style.marginBottom = ''; }
      if (box) box.remove();
    };
    const end = () => {
      try { localStorage.setItem(TOUR_KEY, new Date().toISOString()); } catch (_) { /* private mode */ }
      clear();
      document.removeEventListener('keydown', onKey, true);
    };
    const onKey = (e) => { if (e.key === 'Escape' && box) { e.preventDefault(); end(); } };
    document.addEventListener('keydown', onKey, true);
    const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    const gap = 14;
    const show = () => {
      clear();
      const s = live[i];
      target = $(s.sel);
      target.classList.add('tour-target');
      box = el('div', { class: 'tour', role: 'dialog', 'aria-labelledby': 'tour-title', 'aria-describedby': 'tour-text', 'data-step': String(i + 1) });
      const h = el('h2', { id: 'tour-title' });
      h.append(iconEl(s.icon), el('span', { text: s.title }));
      const next = el('button', { type: 'button', class: 'btn btn-primary tour-next', text: i === live.length - 1 ? 'Got it' : 'Next' });
      const skip = el('button', { type: 'button', class: 'btn btn-quiet tour-skip', text: 'Skip tour' });
      box.append(h, el('p', { id: 'tour-text', text: s.text }),
        el('div', { class: 'tour-nav' }, el('span', { class: 'tour-step', text: `${i + 1} of ${live.length}` }), skip, next));
      document.body.append(box);
      // A target in the sticky top bar is shown with the page at its top.
      if (target.closest('.topbar')) window.scrollTo(0, 0);
      let r = target.getBoundingClientRect();
      const vw = document.documentElement.clientWidth, w = box.offsetWidth, hgt = box.offsetHeight;
      const keep = $$('[data-tour-keep]').filter((k) => !k.contains(target) && !target.contains(k));
      const clamp = (x) => Math.max(8, Math.min(x, vw - w - 8));
      const covers = (x) => keep.some((k) => overlaps({ left: x, right: x + w, top: r.bottom + gap, bottom: r.bottom + gap + hgt }, k.getBoundingClientRect()));
      // Under its left edge, else under its right edge, else its middle;
      // when each would cover what the page says there, the target makes
      // room below itself (not in the top bar, whose height is fixed).
      let x = [r.left, r.right - w, r.left + r.width / 2 - w / 2].map(clamp).find((c) => !covers(c));
      if (x === undefined) {
        x = clamp(r.left);
        if (!target.closest('.topbar')) {
          target.style.marginBottom = (hgt + 2 * gap) + 'px';
          r = target.getBoundingClientRect();
        }
      }
      box.style.left = (window.scrollX + x) + 'px';
      box.style.top = (window.scrollY + r.bottom + gap) + 'px';
      box.style.setProperty('--arrow-left', Math.max(12, Math.min(w - 24, r.left + Math.min(r.width, 80) / 2 - x)) + 'px');
      next.addEventListener('click', () => { i++; if (i < live.length) show(); else end(); });
      skip.addEventListener('click', end);
      box.scrollIntoView({ block: 'nearest' });
      next.focus({ preventScroll: true });
    };
    show();
  }
  window.addEventListener('load', tour);
})();
