// Every Scheduler call of the official v2 Node SDK (nylas@6.11.1), unchanged but for its base URL,
// against the emulator at EMULATOR_URL with the access token EMULATOR_TOKEN. The SDK sends every call
// with `Authorization: Basic base64("<token>:")`.
//
// Prints one JSON object: {calls: [{name, ok, value | error: {status, type, message}}]}; the pytest test
// (tests/sdk/test_node_sdk.py) asserts on it. Exits 0 even when calls fail: the test judges.
'use strict';

const Nylas = require('nylas');
const SchedulerBookingRequest = require('nylas/lib/models/scheduler-booking-request').default;

const URL = process.env.EMULATOR_URL;
const TOKEN = process.env.EMULATOR_TOKEN;
const SLUG = process.env.EMULATOR_SLUG || 'node-sdk';

// The only change to the SDK: its hard-coded https://api.schedule.nylas.com, on the collection and on
// every page object the SDK builds.
function pointed(model) {
  if (model && typeof model === 'object' && 'baseUrl' in model) {
    model.baseUrl = URL;
  }
  return model;
}

const calls = [];

async function call(name, fn) {
  try {
    const value = await fn();
    calls.push({ name, ok: true, value: value === undefined ? null : JSON.parse(JSON.stringify(value)) });
    return value;
  } catch (err) {
    calls.push({
      name,
      ok: false,
      error: { status: err.statusCode || null, type: err.type || null, message: String(err.message || err) },
    });
    return undefined;
  }
}

const CONFIG = {
  timezone: 'UTC',
  appearance: { color: '#82c0e7', company_name: 'Sample Solutions', submit_text: 'Book it!' },
  event: { title: 'Coffee', duration: 30, location: 'Café', participants: [{ email: 'host@example.com', name: 'Host' }] },
  booking: {
    confirmation_method: 'manual',
    opening_hours: [{ days: ['M', 'T', 'W', 'R', 'F'], start: '09:00', end: '17:00' }],
    available_days_in_future: 7,
    additional_fields: [
      { name: 'food', label: 'Food', type: 'dropdown', required: true, order: 1, dropdown_options: ['tea', 'cake'] },
    ],
  },
  reminders: [{ delivery_method: 'email', delivery_recipient: 'customer', time_before_event: 30 }],
};

async function main() {
  Nylas.config({ clientId: 'id', clientSecret: 'secret' });
  const nylas = Nylas.with(TOKEN);
  const sched = pointed(nylas.scheduler);

  const page = pointed(sched.build({ accessTokens: [TOKEN], name: 'Node SDK', slug: SLUG, config: CONFIG }));
  await call('save (create)', async () => { await page.save(); return page.toJSON(); });

  await call('save (update)', async () => {
    page.name = 'Renamed';
    page.config.event.duration = 45;
    await page.save();
    return page.toJSON();
  });
  await call('find', async () => pointed(await sched.find(page.id)).toJSON());
  await call('list', async () => (await sched.list()).map((p) => p.toJSON()));
  await call('list (offset, limit)', async () => (await sched.list({ offset: 0, limit: 1 })).map((p) => p.id));
  await call('list (view ids)', async () => sched.list({ view: 'ids' }));
  await call('first', async () => (await sched.first()).id);
  await call('count', async () => sched.count());
  await call('forEach', () => new Promise((resolve, reject) => {
    const ids = [];
    sched.forEach({}, (p) => ids.push(p.id), (err) => (err ? reject(err) : resolve(ids)));
  }));
  const found = pointed(await sched.find(page.id));
  await call('getAvailableCalendars', async () => found.getAvailableCalendars());
  await call('uploadImage', async () => found.uploadImage('image/png', 'logo.png'));
  await call('getGoogleAvailability', async () => sched.getGoogleAvailability());
  await call('getOffice365Availability', async () => sched.getOffice365Availability());
  await call('getPageBySlug', async () => (await sched.getPageBySlug(SLUG)).toJSON());
  const slots = await call('getAvailableTimeSlots', async () => sched.getAvailableTimeSlots(SLUG));
  const slot = slots && slots[0];
  // As the SDK's own tests build a request: properties assigned one by one.
  const booked = await call('bookTimeSlot', async () => {
    const request = new SchedulerBookingRequest();
    request.additionalValues = { food: 'tea', important: true };  // a key the page does not define
    request.email = 'recipient@example.com';
    request.locale = 'en_US';
    request.name = 'John Doe';
    request.timezone = 'America/New_York';
    request.slot = slot;
    return sched.bookTimeSlot(SLUG, request);
  });
  // Props given to the constructor: the SDK converts the slot's Dates twice (seconds x 1000), so its
  // times are far out of range; the emulator refuses them (400), as it must not crash (500).
  await call('bookTimeSlot (slot via constructor)', async () => sched.bookTimeSlot(SLUG, new SchedulerBookingRequest({
    email: 'recipient@example.com', locale: 'en', name: 'John Doe', timezone: 'UTC', slot,
  })));
  const editHash = booked && booked.editHash;
  await call('confirmBooking', async () => sched.confirmBooking(SLUG, editHash));
  await call('cancelBooking', async () => sched.cancelBooking(SLUG, editHash, 'Was just a test.'));
  await call('confirmBooking (cancelled)', async () => sched.confirmBooking(SLUG, editHash));

  const editor = pointed(Nylas.with(page.editToken).scheduler);
  await call('list (edit token)', async () => (await editor.list()).map((p) => p.id));
  await call('find (edit token)', async () => (await editor.find(page.id)).name);

  await call('delete', async () => sched.delete(page));
  await call('find (deleted)', async () => sched.find(page.id));
  await call('count (after delete)', async () => sched.count());
}

main()
  .catch((err) => calls.push({ name: 'script', ok: false, error: { status: null, type: null, message: String(err.stack) } }))
  .then(() => process.stdout.write(JSON.stringify({ calls }) + '\n'));
