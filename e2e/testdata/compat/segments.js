// segments.js drives Herald's segments with the official customerio-node client and prints
// ONE JSON document, keyed by step name, as compat.js does; e2e/segments_test.go checks it.
// Object type 1 ("Companies") must exist. Env as for compat.js.
'use strict';

const { TrackClient, APIClient } = require('customerio-node');

const env = (name) => process.env[name] || (process.stderr.write(`segments.js: ${name} is not set\n`), process.exit(2));
const base = env('HERALD_URL').replace(/\/+$/, '');
const retry = { maxRetries: 0 };
const track = new TrackClient(env('HERALD_SITE_ID'), env('HERALD_TRACK_API_KEY'), { url: `${base}/api/v1`, retry });
const api = new APIClient(env('HERALD_APP_API_KEY'), { url: `${base}/v1`, retry });

const results = {};
async function step(name, fn) {
  try {
    results[name] = await fn();
  } catch (e) {
    const err = { error: String(e && e.message) };
    if (e && e.statusCode !== undefined) err.statusCode = e.statusCode;
    results[name] = err;
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// waitFinished polls getSegment until the segment's build has finished (10 s at most).
async function waitFinished(id) {
  for (let i = 0; i < 100; i++) {
    const { segment } = await api.getSegment(id);
    if (segment.state === 'finished') return segment;
    await sleep(100);
  }
  throw new Error(`segment ${id} did not finish building`);
}

(async () => {
  await step('relate', () => track.batch([
    { type: 'object', action: 'identify', identifiers: { object_type_id: '1', object_id: 'acme' }, attributes: { name: 'Acme' },
      cio_relationships: [
        { identifiers: { id: 'ann' }, relationship_attributes: { user_role: 'admin' } },
        { identifiers: { id: 'bob' }, relationship_attributes: { user_role: 'contributor' } },
      ] },
  ]));
  await step('createSegment', () => api.createSegment({
    name: 'Acme admins', description: 'admins of acme',
    conditions: { related: { type_id: 1,
      object: { attribute: { field: 'object_id', operator: 'eq', value: 'acme' } },
      relationship: { attribute: { field: 'user_role', operator: 'eq', value: 'admin' } } } },
  }));
  const id = results.createSegment.segment && results.createSegment.segment.id;
  await step('built', () => waitFinished(id));
  await step('count', () => api.getSegmentCustomerCount(id));
  await step('membership', () => api.getSegmentMembership(id, { limit: 10 }));
  await step('annSegments', () => api.getCustomerSegments('ann'));
  // Bob becomes an admin: the segment follows within the poll window.
  await step('promote', () => track.identify('bob', { cio_relationships: { action: 'add_relationships',
    relationships: [{ identifiers: { object_type_id: '1', object_id: 'acme' }, relationship_attributes: { user_role: 'admin' } }] } }));
  await step('countAfter', async () => {
    for (let i = 0; i < 100; i++) {
      const r = await api.getSegmentCustomerCount(id);
      if (r.count === 2) return r;
      await sleep(50);
    }
    return api.getSegmentCustomerCount(id);
  });
  await step('createManual', () => api.createSegment({ name: 'VIP' }));
  const manual = results.createManual.segment && results.createManual.segment.id;
  await step('addCustomers', () => track.addCustomersToSegment(manual, ['ann', 'bob']));
  await step('removeCustomers', () => track.removeCustomersFromSegment(manual, ['ann']));
  await step('manualMembership', () => api.getSegmentMembership(manual));
  await step('addToDynamic', () => track.addCustomersToSegment(id, ['bob']));
  await step('listSegments', () => api.listSegments());
  await step('deleteManual', () => api.deleteSegment(manual));
  await step('deleted', () => api.getSegment(manual));
  process.stdout.write(JSON.stringify(results) + '\n');
})().catch((e) => {
  process.stderr.write(`segments.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
