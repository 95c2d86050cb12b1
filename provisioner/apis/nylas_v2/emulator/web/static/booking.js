// The emulator's hosted booking page: /_emulator/book/<slug>. It uses only the public API the SDKs use:
// GET /schedule/<slug>/info, GET /schedule/<slug>/timeslots, POST /schedule/<slug>/timeslots.
(function () {
  'use strict';

  var slug = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
  var base = '/schedule/' + encodeURIComponent(slug);
  var page = null;
  var slots = [];
  var chosen = null;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === 'text') node.textContent = attrs[key];
      else if (attrs[key] === true) node.setAttribute(key, '');
      else if (attrs[key] !== false && attrs[key] != null) node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function show(id, visible) { $(id).hidden = !visible; }

  function api(path, options) {
    return fetch(path, options).then(function (response) {
      return response.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
        if (!response.ok) {
          throw new Error((body && body.message) || ('The scheduling API answered ' + response.status));
        }
        return body;
      });
    });
  }

  function fail(message) {
    $('error').textContent = message;
    show('error', true);
    $('booking').setAttribute('aria-busy', 'false');
  }

  function config(section) { return (page.config && page.config[section]) || {}; }

  function fmt(seconds, options) {
    return new Intl.DateTimeFormat('en-GB', Object.assign({ timeZone: zone }, options)).format(new Date(seconds * 1000));
  }
  function dayOf(seconds) { return fmt(seconds, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }); }
  function timeOf(seconds) { return fmt(seconds, { hour: '2-digit', minute: '2-digit', hour12: false }); }
  function minutes(slot) { return Math.round((slot.end - slot.start) / 60); }
  function span(slot) {
    return dayOf(slot.start) + ', ' + timeOf(slot.start) + ' – ' + timeOf(slot.end) + ' (' + minutes(slot) + ' min, ' + zone + ')';
  }

  function renderHeader() {
    var appearance = config('appearance');
    var event = config('event');
    document.documentElement.style.setProperty('--tint', appearance.color || '#32325d');
    document.title = page.name || event.title || 'Book a meeting';
    if (appearance.logo) { $('logo').src = appearance.logo; show('logo', true); }
    $('company').textContent = appearance.company_name || '';
    $('page-name').textContent = page.name || event.title || 'Book a meeting';
    var summary = $('event-summary');
    summary.textContent = '';
    if (event.title && event.title !== page.name) summary.appendChild(document.createTextNode(event.title + ' · '));
    summary.appendChild(el('span', { id: 'duration', 'class': 'duration', text: (event.duration || 30) + ' min' }));
    if (event.location) summary.appendChild(document.createTextNode(' · ' + event.location));
    $('submit').textContent = appearance.submit_text || 'Book';
    if (appearance.privacy_policy_redirect) { $('privacy').href = appearance.privacy_policy_redirect; show('privacy', true); }
    show('branding', !!appearance.show_nylas_branding);
  }

  function renderTimezones() {
    var select = $('timezone');
    var offered = !!config('appearance').show_timezone_options;
    show('timezone', offered);
    $('timezone-fixed').textContent = offered ? '' : zone;
    if (!offered) return;
    var zones = (Intl.supportedValuesOf ? Intl.supportedValuesOf('timeZone') : []).slice();
    [zone, page.config.timezone].forEach(function (z) { if (z && zones.indexOf(z) < 0) zones.unshift(z); });
    select.textContent = '';
    zones.forEach(function (z) { select.appendChild(el('option', { value: z, text: z, selected: z === zone })); });
    select.onchange = function () { zone = select.value; renderSlots(); };
  }

  function renderSlots() {
    var box = $('slots');
    box.textContent = '';
    var seen = {};
    var days = [];
    slots.forEach(function (slot) {  // round robin: one button per start time, the first host's slot
      if (seen[slot.start]) return;
      seen[slot.start] = true;
      var day = dayOf(slot.start);
      if (!days.length || days[days.length - 1].day !== day) days.push({ day: day, slots: [] });
      days[days.length - 1].slots.push(slot);
    });
    if (!days.length) {
      box.appendChild(el('p', { id: 'no-slots', text: 'No times are available to book right now.' }));
      return;
    }
    days.forEach(function (group) {
      var times = el('div', { 'class': 'times' });
      group.slots.forEach(function (slot) {
        var button = el('button', { type: 'button', 'class': 'slot', 'data-start': String(slot.start),
          'data-end': String(slot.end), text: timeOf(slot.start) });
        button.onclick = function () { choose(slot); };
        times.appendChild(button);
      });
      box.appendChild(el('div', { 'class': 'day' }, [el('h3', { text: group.day }), times]));
    });
  }

  function input(field) {
    var id = 'field-' + field.name;
    var required = !!field.required;
    switch (field.type) {
      case 'multi-line text': return el('textarea', { id: id, name: field.name, required: required, rows: '3' });
      case 'dropdown':
        return el('select', { id: id, name: field.name, required: required },
          [el('option', { value: '', text: '—' })].concat((field.dropdown_options || []).map(function (option) {
            return el('option', { value: option, text: option });
          })));
      case 'checkbox': return el('input', { id: id, name: field.name, type: 'checkbox' });
      case 'multi-select list':
        return el('div', { id: id, 'class': 'options' }, (field.multi_select_options || []).map(function (option) {
          return el('label', {}, [el('input', { type: 'checkbox', name: field.name, value: option }),
            document.createTextNode(' ' + option)]);
        }));
      default: {
        var types = { email: 'email', phone: 'tel', number: 'number', date: 'date' };
        return el('input', { id: id, name: field.name, type: types[field.type] || 'text', required: required,
          pattern: field.pattern || null });
      }
    }
  }

  function renderForm() {
    var booking = config('booking');
    var box = $('fields');
    box.textContent = '';
    function row(id, label, control, required) {
      box.appendChild(el('div', { 'class': 'field' }, [el('label', { 'for': id, text: label, 'class': required ? 'required' : null }), control]));
    }
    if (!booking.name_field_hidden) row('guest-name', 'Your name', el('input', { id: 'guest-name', autocomplete: 'name', required: true }), true);
    row('guest-email', 'Your e-mail', el('input', { id: 'guest-email', type: 'email', autocomplete: 'email', required: true }), true);
    if (!booking.additional_guests_hidden) {
      row('guest-others', 'Other guests (e-mails, comma-separated)', el('input', { id: 'guest-others' }), false);
    }
    (booking.additional_fields || []).slice().sort(function (a, b) { return (a.order || 0) - (b.order || 0); })
      .forEach(function (field) { row('field-' + field.name, field.label || field.name, input(field), field.required); });
  }

  function values() {
    var out = {};
    (config('booking').additional_fields || []).forEach(function (field) {
      var node = $('field-' + field.name);
      var value;
      if (field.type === 'checkbox') value = node.checked;
      else if (field.type === 'multi-select list') {
        value = Array.prototype.map.call(node.querySelectorAll('input:checked'), function (box) { return box.value; });
      } else if (field.type === 'number') value = node.value === '' ? null : Number(node.value);
      else value = node.value;
      if (value !== null && value !== '' && !(Array.isArray(value) && !value.length) && value !== false) out[field.name] = value;
    });
    return out;
  }

  function choose(slot) {
    chosen = slot;
    $('chosen').textContent = span(slot);
    show('choose', false);
    show('error', false);
    show('details', true);
    var first = $('fields').querySelector('input, select, textarea');
    if (first) first.focus();
  }

  function book(event) {
    event.preventDefault();
    show('error', false);
    var others = $('guest-others') ? $('guest-others').value.split(',').map(function (s) { return s.trim(); }).filter(Boolean) : [];
    var body = {
      slot: chosen,
      name: $('guest-name') ? $('guest-name').value.trim() : '',
      email: $('guest-email').value.trim(),
      timezone: zone,
      locale: page.config.locale_for_guests || (navigator.language || 'en').slice(0, 2).toLowerCase(),
      additional_values: values(),
      additional_emails: others,
      page_hostname: location.host
    };
    $('submit').disabled = true;
    api(base + '/timeslots', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
      .then(thank, function (error) { fail(error.message); })
      .then(function () { $('submit').disabled = false; });
  }

  function thank(confirmation) {
    var appearance = config('appearance');
    $('thank-you').textContent = appearance.thank_you_text || 'Thank you! Your meeting is booked.';
    $('thank-you-secondary').textContent = appearance.thank_you_text_secondary || '';
    $('booked').textContent = (confirmation.title ? confirmation.title + ': ' : '') +
      span({ start: confirmation.start_time, end: confirmation.end_time });
    show('pending', !confirmation.is_confirmed);
    if (appearance.thank_you_redirect) { $('continue').href = appearance.thank_you_redirect; show('continue', true); }
    show('details', false);
    show('thanks', true);
  }

  $('form').addEventListener('submit', book);
  $('back').onclick = function () { show('details', false); show('choose', true); };

  Promise.all([api(base + '/info'), api(base + '/timeslots')]).then(function (answers) {
    page = answers[0];
    slots = answers[1];
    if (page.config && page.config.timezone && !config('appearance').show_timezone_options) zone = page.config.timezone;
    renderHeader();
    renderTimezones();
    renderSlots();
    renderForm();
    show('choose', true);
    $('booking').setAttribute('aria-busy', 'false');
  }, function (error) {
    $('page-name').textContent = 'Booking page unavailable';
    fail(error.message);
  });
})();
