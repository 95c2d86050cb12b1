// The official Node SDK, `nylas` 8.x, driving the v3 emulator.
//
//     node tests/sdk/node_v3/exercise.mjs BASE_URL GRANT_ID START
//
// Only the SDK's base URL is changed (`new Nylas({apiKey, apiUri})`): every Scheduler call is the SDK's
// own, unchanged. The API key comes from NYLAS_API_KEY. START is a bookable slot (Unix seconds; the next
// hour is bookable too). The one call outside the SDK reads the booking's salt from the emulator's test
// controls, where a real application reads it from the booking.pending webhook.
//
// Prints one JSON object: what each call returned, for tests/sdk/test_v3_sdks.py to check. An SDK
// error ends the script with status 1 and the error on standard error.
import Nylas from 'nylas';

const [baseUrl, grant, startText] = process.argv.slice(2);
const start = Number(startText);
const HOUR = 3600;

async function saltOf(configurationId, bookingId) {
  const answer = await fetch(`${baseUrl}/_emulator/v3/bookings?configuration_id=${configurationId}`);
  const bookings = await answer.json();
  return bookings.find((b) => b.booking_id === bookingId).salt;
}

async function refused(call) {
  try {
    await call();
    return 'succeeded';
  } catch (error) {
    return { status: error.statusCode, type: error.type };
  }
}

async function exercise() {
  const nylas = new Nylas({ apiKey: process.env.NYLAS_API_KEY, apiUri: baseUrl });
  const { configurations, sessions, bookings, availability } = nylas.scheduler;
  const out = {};

  const created = await configurations.create({
    identifier: grant,
    requestBody: {
      name: 'SDK judge',
      slug: 'sdk-judge-node',
      requiresSessionAuth: true,
      participants: [{
        email: 'host@example.com', name: 'Host', isOrganizer: true,
        availability: { calendarIds: ['primary'] }, booking: { calendarId: 'primary' },
      }],
      availability: { durationMinutes: 30 },
      eventBooking: { title: 'Node SDK call', bookingType: 'organizer-confirmation' },
    },
  });
  const configurationId = created.data.id;
  out.created = {
    id: configurationId, requestId: Boolean(created.requestId), slug: created.data.slug,
    duration: created.data.availability.durationMinutes, bookingType: created.data.eventBooking.bookingType,
  };
  const found = await configurations.find({ identifier: grant, configurationId });
  out.found = { id: found.data.id, title: found.data.eventBooking.title };
  const updated = await configurations.update({
    identifier: grant, configurationId, requestBody: { eventBooking: { title: 'Renamed', bookingType: 'organizer-confirmation' } },
  });
  out.updated = { title: updated.data.eventBooking.title, duration: updated.data.availability.durationMinutes };
  const listed = await configurations.list({ identifier: grant });
  out.listed = { ids: listed.data.map((c) => c.id) };

  const session = await sessions.create({ requestBody: { configurationId, timeToLive: 10 } });
  const sessionId = session.data.sessionId;
  const asGuest = { apiKey: sessionId }; // the booking side authenticates with the session
  out.session = { hasId: Boolean(sessionId) };

  const slots = await availability.get({
    queryParams: { startTime: start, endTime: start + 2 * HOUR }, overrides: asGuest,
  });
  out.availability = {
    starts: slots.data.timeSlots.map((s) => s.startTime), emails: slots.data.timeSlots[0]?.emails,
  };

  const booked = await bookings.create({
    requestBody: { startTime: start, endTime: start + 1800, guest: { email: 'guest@example.org', name: 'Guest' } },
    overrides: asGuest,
  });
  const bookingId = booked.data.bookingId;
  out.booked = { status: booked.data.status, title: booked.data.title, organizer: booked.data.organizer.email };
  out.foundBooking = { id: (await bookings.find({ bookingId, overrides: asGuest })).data.bookingId };
  const confirmed = await bookings.confirm({
    bookingId, overrides: asGuest,
    requestBody: { salt: await saltOf(configurationId, bookingId), status: 'confirmed' },
  });
  out.confirmed = { status: confirmed.data.status };
  const moved = await bookings.reschedule({
    bookingId, overrides: asGuest, requestBody: { startTime: start + HOUR, endTime: start + HOUR + 1800 },
  });
  out.rescheduled = { status: moved.data.status, id: moved.data.bookingId };
  const cancelled = await bookings.destroy({
    bookingId, overrides: asGuest, requestBody: { cancellationReason: 'judged' },
  });
  out.cancelled = { requestId: Boolean(cancelled.requestId) };

  out.destroyWithSession = await refused(() => configurations.destroy({ identifier: grant, configurationId }));
  out.sessionDestroyed = Boolean((await sessions.destroy({ sessionId })).requestId);
  out.destroyed = Boolean((await configurations.destroy({ identifier: grant, configurationId })).requestId);
  out.foundAfterDestroy = await refused(() => configurations.find({ identifier: grant, configurationId }));
  return out;
}

try {
  console.log(JSON.stringify(await exercise()));
} catch (error) {
  console.error(`nylas SDK error: ${error.statusCode ?? ''} ${error.type ?? ''}: ${error.message}`);
  process.exit(1);
}
