// The Schedule Editor, as the Smart Integration guide opens it (Step 3):
//
//   nylas.scheduler.show({
//     auth: { pageEditToken: "<SCHEDULING_PAGE_EDIT_TOKEN>" },
//     style: { tintColor: '#32325d', backgroundColor: 'white' },
//   });
//
// An overlay that reads and saves the page through the emulator's API (the origin this script was loaded
// from) with the edit token only: GET /manage/pages finds the token's page, PUT /manage/pages/<id> saves
// it. An account's token (auth.accessToken) works too and offers its pages to choose from.
// nylas.scheduler.hide() closes it. The look is ours; the behaviour and the API are Nylas's.
(function () {
  'use strict';

  var script = document.currentScript;
  var API = script && script.src ? new URL(script.src).origin : location.origin;
  var ROOT_ID = 'nylas-schedule-editor';
  var DAYS = [['M', 'Mon'], ['T', 'Tue'], ['W', 'Wed'], ['R', 'Thu'], ['F', 'Fri'], ['S', 'Sat'], ['U', 'Sun']];
  var CSS = [
    '#nylas-schedule-editor{position:fixed;inset:0;background:rgba(15,18,30,.55);display:flex;align-items:flex-start;',
    'justify-content:center;overflow:auto;z-index:2147483000;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;}',
    '#nylas-schedule-editor .nse-panel{width:min(44rem,94vw);margin:3vh 0;border-radius:12px;box-shadow:0 12px 48px rgba(0,0,0,.3);overflow:hidden;color:#1f2330;}',
    '#nylas-schedule-editor .nse-head{display:flex;align-items:center;gap:1rem;padding:.9rem 1.25rem;color:#fff;}',
    '#nylas-schedule-editor .nse-head h2{margin:0;font-size:1.15rem;flex:1;}',
    '#nylas-schedule-editor .nse-head .nse-close{background:transparent;border:none;color:#fff;font-size:1.5rem;cursor:pointer;line-height:1;padding:0 .25rem;}',
    '#nylas-schedule-editor .nse-body{padding:1rem 1.25rem 1.25rem;}',
    '#nylas-schedule-editor fieldset{border:1px solid #dfe2ea;border-radius:8px;margin:0 0 1rem;padding:.5rem 1rem 1rem;}',
    '#nylas-schedule-editor legend{font-weight:700;padding:0 .3rem;}',
    '#nylas-schedule-editor .nse-grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:.6rem 1rem;}',
    '#nylas-schedule-editor label{display:flex;flex-direction:column;gap:.2rem;font-size:.85rem;font-weight:600;}',
    '#nylas-schedule-editor label.nse-inline{flex-direction:row;align-items:center;font-weight:normal;gap:.4rem;}',
    '#nylas-schedule-editor input,#nylas-schedule-editor select{font:inherit;font-weight:normal;padding:.35rem;border:1px solid #cfd3dd;border-radius:6px;}',
    '#nylas-schedule-editor input[type=color]{padding:0;height:2.2rem;width:4rem;}',
    '#nylas-schedule-editor .nse-hours{display:flex;flex-wrap:wrap;align-items:center;gap:.4rem 1rem;margin:.4rem 0 .8rem;}',
    '#nylas-schedule-editor .nse-days,#nylas-schedule-editor .nse-times{display:flex;align-items:center;gap:.4rem;}',
    '#nylas-schedule-editor .nse-hours label{flex-direction:row;font-weight:normal;gap:.15rem;}',
    '#nylas-schedule-editor button{font:inherit;border-radius:6px;padding:.45rem 1rem;cursor:pointer;border:1px solid #cfd3dd;background:#fff;color:#1f2330;}',
    '#nylas-schedule-editor input[type=time]{width:7.5rem;}',
    '#nylas-schedule-editor button.nse-primary{color:#fff;border:none;}',
    '#nylas-schedule-editor .nse-panel>*{box-sizing:border-box;}',
    '#nylas-schedule-editor .nse-actions{display:flex;gap:.6rem;align-items:center;justify-content:flex-end;}',
    '#nylas-schedule-editor .nse-status{margin-right:auto;font-size:.9rem;}',
    '#nylas-schedule-editor .nse-error{background:#fdecec;color:#8a1c1c;padding:.75rem 1rem;border-radius:8px;margin:0 0 1rem;}',
    '#nylas-schedule-editor .nse-pages button{display:block;width:100%;text-align:left;margin-bottom:.4rem;}'
  ].join('');

  var state = null;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (key === 'text') node.textContent = value;
      else if (key === 'value') node.value = value == null ? '' : value;
      else if (key === 'checked') node.checked = !!value;
      else if (value === true) node.setAttribute(key, '');
      else if (value !== false && value != null) node.setAttribute(key, value);
    });
    (children || []).forEach(function (child) { node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child); });
    return node;
  }

  var INVALID = 'This edit token is not valid: it is unknown or was revoked. Ask the page owner for a new link.';
  var DELETED = 'This scheduling page no longer exists: it was deleted.';

  function request(method, path, body) {
    var options = { method: method, headers: { Authorization: 'Bearer ' + state.token } };
    if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    return fetch(API + path, options).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (response.status === 401) throw new Error(INVALID);
        if (response.status === 404) throw new Error(DELETED);
        if (!response.ok) throw new Error((data && data.message) || ('The scheduling API answered ' + response.status));
        return data;
      });
    }, function () {
      throw new Error('The scheduling API at ' + API + ' cannot be reached.');
    });
  }

  function body() { return state.root.querySelector('.nse-body'); }

  function showError(message) {
    var box = body();
    box.textContent = '';
    box.appendChild(el('p', { 'class': 'nse-error', role: 'alert', text: message }));
    box.appendChild(el('div', { 'class': 'nse-actions' }, [closeButton('Close')]));
  }

  function closeButton(text) {
    var button = el('button', { type: 'button', 'class': 'nse-cancel', text: text });
    button.onclick = hide;
    return button;
  }

  function field(label, control, inline) {
    return inline ? el('label', { 'class': 'nse-inline' }, [control, label]) : el('label', {}, [label, control]);
  }

  function hoursRow(rule) {
    var row = el('div', { 'class': 'nse-hours' });
    if (rule.account_id) row.setAttribute('data-account', rule.account_id);
    var days = el('span', { 'class': 'nse-days' }, DAYS.map(function (day) {
      return el('label', {}, [el('input', { type: 'checkbox', value: day[0], checked: (rule.days || []).indexOf(day[0]) >= 0 }), day[1]]);
    }));
    var remove = el('button', { type: 'button', text: 'Remove', 'aria-label': 'Remove these hours' });
    remove.onclick = function () { row.remove(); };
    var times = el('span', { 'class': 'nse-times' }, [
      el('input', { type: 'time', 'class': 'nse-start', value: rule.start || '09:00', 'aria-label': 'From' }), '–',
      el('input', { type: 'time', 'class': 'nse-end', value: rule.end || '17:00', 'aria-label': 'Until' }), remove]);
    row.appendChild(days);
    row.appendChild(times);
    return row;
  }

  function renderEditor(page) {
    state.page = page;
    var c = page.config || {};
    var ap = c.appearance || {};
    var ev = c.event || {};
    var bk = c.booking || {};
    var box = body();
    box.textContent = '';
    var hours = el('div', { id: 'nse-hours' }, ((bk.opening_hours && bk.opening_hours.length) ? bk.opening_hours
      : [{ days: ['M', 'T', 'W', 'R', 'F'], start: '09:00', end: '17:00' }]).map(hoursRow));
    var addHours = el('button', { type: 'button', text: 'Add hours' });
    addHours.onclick = function () { hours.appendChild(hoursRow({ days: [], start: '09:00', end: '17:00' })); };
    var methods = ['automatic', 'manual', 'external'].map(function (m) {
      return el('option', { value: m, text: m, selected: (bk.confirmation_method || 'automatic') === m });
    });
    var save = el('button', { type: 'submit', id: 'nse-save', 'class': 'nse-primary', text: 'Save' });
    save.style.background = state.tint;
    var form = el('form', { id: 'nse-form', novalidate: true }, [
      el('fieldset', {}, [el('legend', { text: 'Event' }), el('div', { 'class': 'nse-grid' }, [
        field('Page name', el('input', { id: 'nse-name', value: page.name })),
        field('Event title', el('input', { id: 'nse-title', value: ev.title })),
        field('Duration (minutes)', el('input', { id: 'nse-duration', type: 'number', min: '1', value: ev.duration })),
        field('Location', el('input', { id: 'nse-location', value: ev.location }))
      ])]),
      el('fieldset', {}, [el('legend', { text: 'Availability' }), hours, addHours, el('div', { 'class': 'nse-grid' }, [
        field('Bookable days ahead', el('input', { id: 'nse-days-ahead', type: 'number', min: '1', value: bk.available_days_in_future })),
        field('Minimum notice (minutes)', el('input', { id: 'nse-notice', type: 'number', min: '0', value: bk.min_booking_notice })),
        field('Buffer between meetings (minutes)', el('input', { id: 'nse-buffer', type: 'number', min: '0', value: bk.min_buffer })),
        field('Confirmation', el('select', { id: 'nse-confirmation' }, methods))
      ])]),
      el('fieldset', {}, [el('legend', { text: 'Appearance' }), el('div', { 'class': 'nse-grid' }, [
        field('Colour', el('input', { id: 'nse-color', type: 'color', value: ap.color || '#32325d' })),
        field('Company name', el('input', { id: 'nse-company', value: ap.company_name })),
        field('Logo URL', el('input', { id: 'nse-logo', type: 'url', value: ap.logo })),
        field('Submit button text', el('input', { id: 'nse-submit-text', value: ap.submit_text })),
        field('Thank-you text', el('input', { id: 'nse-thank-you', value: ap.thank_you_text })),
        field('Let guests choose a time zone', el('input', { id: 'nse-timezones', type: 'checkbox', checked: ap.show_timezone_options }), true)
      ])]),
      el('div', { 'class': 'nse-actions' }, [
        el('span', { id: 'nse-status', 'class': 'nse-status', role: 'status' }),
        el('a', { id: 'nse-open', href: API + '/_emulator/book/' + encodeURIComponent(page.slug), target: '_blank', text: 'Open booking page' }),
        closeButton('Close'), save
      ])
    ]);
    form.onsubmit = function (event) { event.preventDefault(); saveEditor(); };
    box.appendChild(form);
    state.initial = snapshot();
  }

  function setOrDrop(object, key, value) {
    if (value === '' || value === null || value === undefined || (typeof value === 'number' && isNaN(value))) delete object[key];
    else object[key] = value;
  }

  function hoursRules() {
    return Array.prototype.map.call(document.querySelectorAll('#nse-hours .nse-hours'), function (row) {
      var rule = {};
      if (row.getAttribute('data-account')) rule.account_id = row.getAttribute('data-account');
      rule.days = Array.prototype.map.call(row.querySelectorAll('input[type=checkbox]:checked'), function (b) { return b.value; });
      rule.start = row.querySelector('.nse-start').value;
      rule.end = row.querySelector('.nse-end').value;
      return rule;
    });
  }

  // What the form shows, by control: only what the user changed is written back, so that a save never
  // rewrites fields nobody touched (a field left out stays left out).
  function snapshot() {
    var out = { hours: JSON.stringify(hoursRules()) };
    Array.prototype.forEach.call(state.root.querySelectorAll('#nse-form [id^=nse-]'), function (node) {
      if (node.tagName === 'INPUT' || node.tagName === 'SELECT') out[node.id] = node.type === 'checkbox' ? node.checked : node.value;
    });
    return out;
  }

  var TEXT = { 'nse-title': ['event', 'title'], 'nse-location': ['event', 'location'],
    'nse-company': ['appearance', 'company_name'], 'nse-logo': ['appearance', 'logo'],
    'nse-submit-text': ['appearance', 'submit_text'], 'nse-thank-you': ['appearance', 'thank_you_text'] };
  var NUMBER = { 'nse-duration': ['event', 'duration'], 'nse-days-ahead': ['booking', 'available_days_in_future'],
    'nse-notice': ['booking', 'min_booking_notice'], 'nse-buffer': ['booking', 'min_buffer'] };
  var OTHER = { 'nse-color': ['appearance', 'color'], 'nse-confirmation': ['booking', 'confirmation_method'],
    'nse-timezones': ['appearance', 'show_timezone_options'] };

  function saveEditor() {
    var page = state.page;
    var now = snapshot();
    var config = JSON.parse(JSON.stringify(page.config || {}));
    function section(name) { return (config[name] = config[name] || {}); }
    Object.keys(now).forEach(function (id) {
      if (now[id] === state.initial[id]) return;
      var value = now[id];
      if (id === 'hours') section('booking').opening_hours = hoursRules();
      else if (TEXT[id]) setOrDrop(section(TEXT[id][0]), TEXT[id][1], value.trim());
      else if (NUMBER[id]) setOrDrop(section(NUMBER[id][0]), NUMBER[id][1], value === '' ? null : Number(value));
      else if (OTHER[id]) section(OTHER[id][0])[OTHER[id][1]] = value;
    });
    var status = document.getElementById('nse-status');
    status.textContent = 'Saving…';
    document.getElementById('nse-save').disabled = true;
    var name = now['nse-name'] !== state.initial['nse-name'] ? (now['nse-name'].trim() || null) : page.name;
    request('PUT', '/manage/pages/' + page.id, { name: name, slug: page.slug, config: config })
      .then(function (saved) {
        state.page = saved;
        state.initial = snapshot();
        status.textContent = 'Saved';
        status.style.color = '#1a7f37';
      }, function (error) {
        status.textContent = error.message;
        status.style.color = '#b42318';
      })
      .then(function () { var button = document.getElementById('nse-save'); if (button) button.disabled = false; });
  }

  function renderChoice(pages) {
    var box = body();
    box.textContent = '';
    box.appendChild(el('p', { text: 'Choose a scheduling page to edit:' }));
    box.appendChild(el('div', { 'class': 'nse-pages' }, pages.map(function (page) {
      var button = el('button', { type: 'button', text: (page.name || page.slug) + ' (' + page.slug + ')' });
      button.onclick = function () { renderEditor(page); };
      return button;
    })));
  }

  function show(options) {
    options = options || {};
    var auth = options.auth || {};
    var style = options.style || {};
    hide();
    state = { token: auth.pageEditToken || auth.accessToken || '', tint: style.tintColor || '#32325d', page: null };
    if (!document.getElementById(ROOT_ID + '-style')) {
      document.head.appendChild(el('style', { id: ROOT_ID + '-style', text: CSS }));
    }
    var head = el('div', { 'class': 'nse-head' }, [el('h2', { text: 'Schedule Editor' })]);
    head.style.background = state.tint;
    var close = el('button', { type: 'button', 'class': 'nse-close', 'aria-label': 'Close', text: '×' });
    close.onclick = hide;
    head.appendChild(close);
    var panel = el('div', { 'class': 'nse-panel', role: 'dialog', 'aria-modal': 'true', 'aria-label': 'Schedule Editor' },
      [head, el('div', { 'class': 'nse-body' }, [el('p', { text: 'Loading your scheduling page…' })])]);
    panel.style.background = style.backgroundColor || 'white';
    state.root = el('div', { id: ROOT_ID }, [panel]);
    state.root.addEventListener('click', function (event) { if (event.target === state.root) hide(); });
    document.addEventListener('keydown', onKey);
    document.body.appendChild(state.root);
    if (!state.token) {
      showError('No edit token: call nylas.scheduler.show({auth: {pageEditToken: "<edit token>"}}).');
      return;
    }
    request('GET', '/manage/pages').then(function (pages) {
      if (!pages || !pages.length) {
        showError(auth.pageEditToken ? INVALID : 'This account has no scheduling pages yet.');
      } else if (pages.length === 1) {
        renderEditor(pages[0]);
      } else {
        renderChoice(pages);
      }
    }, function (error) { showError(error.message); });
  }

  function onKey(event) { if (event.key === 'Escape') hide(); }

  function hide() {
    var root = document.getElementById(ROOT_ID);
    if (root) root.remove();
    document.removeEventListener('keydown', onKey);
  }

  window.nylas = window.nylas || {};
  window.nylas.scheduler = { show: show, hide: hide };
})();
